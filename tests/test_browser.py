"""A real headless Chromium reads the pages from a live server: in-page navigation and highlighting.

Screenshots of the home and cell pages go to ``test-artifacts/`` (gitignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Return a headless Chromium driven by the Debian chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists() or shutil.which(Path(binary).name), f"{binary} is not installed"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium") or CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--hide-scrollbars", "--window-size=1360,1800",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER if Path(CHROMEDRIVER).exists()
                                              else shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def background(driver: Any, element: Any) -> str:
    """Return the computed background colour of an element."""
    return str(driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor;", element))


def test_discussed_in_link_highlights_its_section(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server.url + "doc/matrix/alcohol/cell/E4")
    entry = browser.find_element(By.ID, "entry-2009-peer-based-recovery-support-services")
    link = entry.find_element(By.CSS_SELECTOR, 'a.discussed-link[href="#section-highlighted-study"]')
    target = browser.find_element(By.ID, "section-highlighted-study")
    other = browser.find_element(By.ID, "section-where-should-i-start")
    before = background(browser, target)
    assert before == background(browser, other)

    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()

    assert browser.current_url.endswith("#section-highlighted-study")
    # The highlight fades in (a short CSS transition), so wait for it rather than read it at once.
    WebDriverWait(browser, 3).until(lambda driver: background(driver, target) != before,
                                    "the :target section should be highlighted")
    assert background(browser, other) == before
    # The section was scrolled into view: its top is within the window.
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top;", target)
    assert 0 <= top < browser.execute_script("return window.innerHeight;")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "cell-E4-highlighted.png"))


def test_screenshots_of_home_and_cell(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in (("home", ""), ("cell-E4", "doc/matrix/alcohol/cell/E4")):
        browser.get(live_server.url + path)
        assert len(browser.find_elements(By.TAG_NAME, "h1")) == 1
        # The stylesheet loaded from the package: the header is dark, not the browser default.
        header = browser.find_element(By.CSS_SELECTOR, "header.site-header")
        assert background(browser, header) not in ("rgba(0, 0, 0, 0)", "transparent")
        shot = ARTIFACTS / f"{name}.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000


def test_keyboard_focus_is_visible(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live_server.url + "doc/matrix/alcohol/cell/E4")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    outline = browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle;", focused)
    assert outline != "none"
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top;", focused)
    assert top >= 0, "the skip link should come into view when focused"
