"""Shared fixtures: one published build of the bundled data, and one factory for apps and clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from matrixkg.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BASE = "http://localhost:8000/"


def project_settings(tmp: Path, base_uri: str = BASE, data_dir: Path | None = None) -> Settings:
    """Return settings that read the project's data (or *data_dir*) and build into *tmp*."""
    return Settings(
        base_uri=base_uri,
        data_dir=data_dir or ROOT / "data",
        build_dir=tmp / "build",
        ontology_file=ROOT / "ontology" / "matrixkg.ttl",
        shapes_file=ROOT / "shapes" / "matrixkg.shapes.ttl",
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Return the settings of a build of the bundled data, made once per test session."""
    from matrixkg.build import build

    settings = project_settings(tmp_path_factory.mktemp("bundled"))
    build(settings)
    return settings


@pytest.fixture(scope="session")
def store(built: Settings) -> Iterator[object]:
    """Return the embedded store over the session's build."""
    from matrixkg.store import OxigraphStore

    opened = OxigraphStore(built.build_dir)
    yield opened
    opened.close()


@pytest.fixture
def copy_data(tmp_path: Path) -> Callable[[], Path]:
    """Return a function that copies the project's data/ into a temporary folder and returns it."""

    def copy() -> Path:
        target = tmp_path / "data"
        shutil.copytree(ROOT / "data", target)
        return target

    return copy


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real `matrixkg serve` process on loopback, serving a build whose base IRI is its own address."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings


@contextmanager
def serve_build(settings: Settings, log_dir: Path) -> Iterator[LiveServer]:
    """Run `python -m matrixkg serve` over the published build of *settings* (its base IRI is the server's
    own loopback address) until the block ends."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    url = settings.base_uri
    port = urlsplit(url).port
    env = dict(os.environ, MATRIXKG_BASE_URI=url, MATRIXKG_BUILD_DIR=str(settings.build_dir),
               MATRIXKG_DATA_DIR=str(settings.data_dir), MATRIXKG_ONTOLOGY_FILE=str(settings.ontology_file),
               MATRIXKG_SHAPES_FILE=str(settings.shapes_file), MATRIXKG_QUERY_TIMEOUT="3")
    log = (log_dir / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "matrixkg", "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"live server did not start; see {log.name}") from None
            time.sleep(0.2)
    try:
        yield LiveServer(url, settings)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def loopback_url() -> str:
    """Return the base URL of a free loopback port."""
    return f"http://127.0.0.1:{_free_port()}/"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start `python -m matrixkg serve` on a free loopback port; stop it after the session."""
    from matrixkg.build import build

    settings = project_settings(tmp_path_factory.mktemp("live"), base_uri=loopback_url())
    build(settings)
    with serve_build(settings, tmp_path_factory.mktemp("live-log")) as server:
        yield server
