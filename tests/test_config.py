"""Settings: the table, the environment, overrides, and the documentation of each setting."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from matrixkg.config import SETTINGS, Settings, load_settings
from matrixkg.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_the_table_and_the_dataclass_name_the_same_settings() -> None:
    assert {f.name for f in fields(Settings)} == {s.name for s in SETTINGS}


def test_defaults_match_the_table() -> None:
    settings = load_settings(environ={})
    for setting in SETTINGS:
        assert getattr(settings, setting.name) == setting.convert(str(setting.default))


def test_environment_then_overrides() -> None:
    environ = {"MATRIXKG_BASE_URI": "https://data.example.org/kg", "MATRIXKG_MAX_RESULT_ROWS": "7"}
    settings = load_settings(environ=environ)
    assert settings.base_uri == "https://data.example.org/kg/"  # a trailing slash is added
    assert settings.max_result_rows == 7
    assert load_settings(environ=environ, max_result_rows="9").max_result_rows == 9
    assert load_settings(environ=environ, base_uri=None).base_uri == "https://data.example.org/kg/"


@pytest.mark.parametrize(("name", "value"), [("MATRIXKG_BASE_URI", "ftp://x/"),
                                             ("MATRIXKG_QUERY_TIMEOUT", "-1"),
                                             ("MATRIXKG_MAX_QUERY_LENGTH", "many")])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(environ={name: value})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.env_var in readme, f"README does not document {setting.env_var}"


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.base_uri = "http://x/"  # type: ignore[misc]
