"""Helpers shared by the SPARQL endpoint tests: an in-process client of the real app over a build."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from matrixkg.config import Settings
from matrixkg.store import OxigraphStore
from matrixkg.web import create_app


@contextmanager
def sparql_client(settings: Settings, workers: int = 2) -> Iterator[TestClient]:
    """Yield a client of ``create_app`` over the build in *settings*; its query workers stop afterwards."""
    store = OxigraphStore(settings.build_dir, workers=workers)
    try:
        app = create_app(settings, store)
        with TestClient(app, base_url=settings.base_uri.rstrip("/")) as client:
            yield client
    finally:
        store.close()
