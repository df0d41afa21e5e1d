"""Settings: defaults, then ``MATRIXKG_*`` environment variables, then explicit overrides (CLI flags).

One table, :data:`SETTINGS`, drives parsing, validation, the CLI help and the documentation test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from matrixkg.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    default: Any
    help: str
    convert: Callable[[str], Any] = str

    @property
    def env_var(self) -> str:
        """The environment variable that sets it, e.g. ``MATRIXKG_BASE_URI``."""
        return "MATRIXKG_" + self.name.upper()


def _base_uri(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"base_uri must be an http(s) URI, got {value!r}")
    return value if value.endswith("/") else value + "/"


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"expected a whole number, got {value!r}") from exc
    if number <= 0:
        raise ConfigError(f"expected a positive number, got {value!r}")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"expected a number, got {value!r}") from exc
    if number <= 0:
        raise ConfigError(f"expected a positive number, got {value!r}")
    return number


SETTINGS: tuple[Setting, ...] = (
    Setting("base_uri", "http://localhost:8000/", "Public base URI under which IRIs are minted and served.",
            _base_uri),
    Setting("data_dir", "data", "Folder holding sources/, skeleton and curated Turtle.", Path),
    Setting("build_dir", "build", "Folder the published build is written to and served from.", Path),
    Setting("ontology_file", "ontology/matrixkg.ttl", "The ontology (OWL, Turtle).", Path),
    Setting("shapes_file", "shapes/matrixkg.shapes.ttl", "The SHACL shapes every build is validated with.", Path),
    Setting("query_timeout", 10.0, "Seconds a SPARQL query may run before it is stopped (503).", _positive_float),
    Setting("max_query_length", 20000, "Largest SPARQL query text accepted, in characters (413 above).",
            _positive_int),
    Setting("max_result_rows", 10000, "Most rows a SELECT returns; more are cut and the cut is flagged.",
            _positive_int),
    Setting("backlink_page_size", 50, "Incoming links shown per page on a resource description.",
            _positive_int),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one process."""

    base_uri: str = "http://localhost:8000/"
    data_dir: Path = Path("data")
    build_dir: Path = Path("build")
    ontology_file: Path = Path("ontology/matrixkg.ttl")
    shapes_file: Path = Path("shapes/matrixkg.shapes.ttl")
    query_timeout: float = 10.0
    max_query_length: int = 20000
    max_result_rows: int = 10000
    backlink_page_size: int = 50

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with the given (already typed or string) values, ``None`` meaning unchanged."""
        typed = {k: _convert(k, v) for k, v in overrides.items() if v is not None}
        return replace(self, **typed)


def _convert(name: str, value: Any) -> Any:
    setting = _BY_NAME.get(name)
    if setting is None:
        raise ConfigError(f"unknown setting {name!r}")
    if isinstance(value, str):
        return setting.convert(value)
    return value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Return settings from defaults, then ``MATRIXKG_*`` variables in *environ*, then *overrides*."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env_var in environ:
            try:
                values[setting.name] = setting.convert(environ[setting.env_var])
            except ConfigError as exc:
                raise ConfigError(f"{setting.env_var}: {exc}") from exc
    settings = Settings(**values)
    return settings.with_overrides(**overrides)

