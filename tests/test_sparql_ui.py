"""The query UI in a real headless Chromium: YASGUI preset to this endpoint, examples, shareable links, and no
request to any other host."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from matrixkg.queries import load_queries
from tests.conftest import LiveServer
from tests.test_browser import ARTIFACTS, browser  # noqa: F401 - the shared headless Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.live]

READY = ("return !!(window.matrixkgYasgui && window.matrixkgYasgui.getTab() "
         "&& window.matrixkgYasgui.getTab().getYasqe());")


def _wait(driver: Any, script: str, message: str, seconds: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(lambda d: d.execute_script(script), message)


def _rows(driver: Any) -> int:
    return int(driver.execute_script("return document.querySelectorAll('.yasr table tbody tr').length;"))


def test_ui_is_preset_offline_and_loads_examples(browser: Any, live_server: LiveServer) -> None:  # noqa: F811
    """The editor points at this server, fetches nothing from elsewhere, and loads an example on choice."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(live_server.url + "sparql")
    _wait(browser, READY, "YASGUI did not start")
    tab = "window.matrixkgYasgui.getTab()"
    assert browser.execute_script(f"return {tab}.getEndpoint();") == live_server.url + "sparql"
    completers = browser.execute_script(f"return {tab}.getYasqe().config.autocompleters;")
    assert "class" not in completers and "property" not in completers

    example = load_queries()["entries-per-category"]
    Select(browser.find_element(By.ID, "example-select")).select_by_value(example.name)
    assert browser.execute_script(f"return {tab}.getQuery();") == example.text
    browser.execute_script(f"{tab}.query();")
    _wait(browser, "return document.querySelectorAll('.yasr table tbody tr').length >= 4;",
          "the example's results did not show")
    assert _rows(browser) == 4

    hosts = {urlsplit(name).netloc for name in browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);")}
    assert hosts == {urlsplit(live_server.url).netloc}, hosts
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "sparql-ui.png"))


def test_shareable_query_link_opens_and_runs(browser: Any, live_server: LiveServer) -> None:  # noqa: F811
    """``/sparql?query=…`` in a browser shows that query in the editor and its results below."""
    query = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
             "SELECT DISTINCT ?label WHERE { ?c skos:notation 'E4' ; skos:prefLabel ?label }")
    browser.get(live_server.url + "sparql?query=" + quote(query))
    _wait(browser, READY, "YASGUI did not start")
    assert browser.execute_script("return window.matrixkgYasgui.getTab().getQuery();") == query
    _wait(browser, "return document.querySelectorAll('.yasr table tbody tr').length >= 1;",
          "the linked query's results did not show")
    assert "Treatment systems" in browser.find_element("css selector", ".yasr table tbody").text
