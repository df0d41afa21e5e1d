"""The W3C SPARQL 1.1 Protocol tests that apply to a read-only endpoint, run against a live server.

The server is a real `matrixkg serve` over a build of the suite's own data (data1.nt … in the named graphs the
manifest names). The suite is read from ``../shared/conformance/sparql11-protocol`` (or
``$MATRIXKG_CONFORMANCE_DIR``); it is never copied into the project.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from matrixkg.config import Settings
from matrixkg.conformance import (
    ProtocolCase,
    conformance_dir,
    publish_fixture,
    read_manifest,
    read_only_cases,
    run_case,
)
from tests.conftest import LiveServer, loopback_url, serve_build

SUITE = conformance_dir()
CASES = read_manifest(SUITE)
READ_ONLY = read_only_cases(CASES)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the /sparql URL of a live server over the suite's data."""
    folder = tmp_path_factory.mktemp("protocol")
    settings = Settings(base_uri=loopback_url(), build_dir=folder / "build", data_dir=folder / "data",
                        ontology_file=Path(__file__).resolve().parent.parent / "ontology" / "matrixkg.ttl")
    publish_fixture(CASES, SUITE, settings.build_dir, settings.base_uri)
    server: LiveServer
    with serve_build(settings, folder) as server:
        yield server.url + "sparql"


def test_the_read_only_subset_is_the_whole_query_part_of_the_suite() -> None:
    """All query_*, bad_query_* and bad_multiple_queries tests are run: 20 of the 34 in the manifest."""
    names = [case.name for case in READ_ONLY]
    assert len(CASES) == 34
    assert len(names) == 20
    assert "bad_multiple_queries" in names and "query_post_direct" in names
    assert not [n for n in names if n.startswith(("update", "bad_update"))]


@pytest.mark.live
@pytest.mark.parametrize("case", READ_ONLY, ids=lambda case: case.name)
def test_protocol(endpoint: str, case: ProtocolCase) -> None:
    """Each read-only Protocol test passes: status class, result format and ASK answer per the manifest."""
    with httpx.Client(timeout=30) as client:
        outcome = run_case(client, endpoint, case)
    assert outcome.passed, f"{case.name} ({case.title}):\n" + "\n".join(outcome.problems)


@pytest.mark.live
@pytest.mark.parametrize("case", [c for c in CASES if not c.applies_to_read_only], ids=lambda c: c.name)
def test_update_tests_meet_a_read_only_endpoint(endpoint: str, case: ProtocolCase) -> None:
    """The update tests do not apply; their first request (an update) is refused with a 4xx, never run."""
    first = case.exchanges[0]
    url = endpoint + first.path.removeprefix("/sparql/")
    response = httpx.request(first.method, url, headers=list(first.headers), content=first.body, timeout=30)
    assert 400 <= response.status_code < 500, response.text
