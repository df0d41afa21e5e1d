"""The embedded store: queries, dataset selection, limits, timeouts, descriptions and backlinks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from matrixkg.build import publish_nquads
from matrixkg.errors import QueryError, QueryTimeout
from matrixkg.store import AskResult, GraphResult, OxigraphStore, QueryOptions, SelectResult

BASE = "http://example.org/"
LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"


def _nquads(count: int) -> str:
    lines = [f'<{BASE}id/hub> <{LABEL}> "The hub"@en <{BASE}id/graph/a> .']
    for n in range(count):
        lines.append(f"<{BASE}id/thing/{n}> <{BASE}ns#pointsTo> <{BASE}id/hub> <{BASE}id/graph/a> .")
        lines.append(f'<{BASE}id/thing/{n}> <{LABEL}> "Thing {n}"@en <{BASE}id/graph/b> .')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> OxigraphStore:
    folder = tmp_path_factory.mktemp("store")
    source = folder / "data.nq"
    source.write_text(_nquads(300), encoding="utf-8")
    store = OxigraphStore(publish_nquads(source, folder / "build", BASE), workers=1)
    yield store
    store.close()


def test_default_graph_is_the_union_of_named_graphs(small_store: OxigraphStore) -> None:
    result = small_store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{LABEL}> ?o }}")
    assert isinstance(result, SelectResult)
    assert result.rows[0]["n"] == Literal(301)


def test_default_graph_uri_restricts_the_dataset(small_store: OxigraphStore) -> None:
    options = QueryOptions(default_graphs=[f"{BASE}id/graph/a"])
    result = small_store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{LABEL}> ?o }}", options)
    assert isinstance(result, SelectResult)
    assert result.rows[0]["n"] == Literal(1)


def test_ask_and_construct(small_store: OxigraphStore) -> None:
    assert small_store.query(f"ASK {{ <{BASE}id/hub> ?p ?o }}") == AskResult(True)
    result = small_store.query(f"CONSTRUCT {{ ?s <{LABEL}> ?o }} WHERE {{ ?s <{LABEL}> ?o }}",
                               QueryOptions(max_rows=10))
    assert isinstance(result, GraphResult)
    assert len(result.graph) == 10 and result.truncated


def test_row_cap_is_flagged(small_store: OxigraphStore) -> None:
    result = small_store.query("SELECT * WHERE { ?s ?p ?o }", QueryOptions(max_rows=5))
    assert isinstance(result, SelectResult)
    assert len(result.rows) == 5 and result.truncated
    whole = small_store.query(f"SELECT * WHERE {{ <{BASE}id/hub> ?p ?o }}", QueryOptions(max_rows=5))
    assert isinstance(whole, SelectResult) and not whole.truncated


def test_malformed_query_names_the_position(small_store: OxigraphStore) -> None:
    with pytest.raises(QueryError, match=r"1:\d+"):
        small_store.query("SELECT * WHERE { ?s ?p }")
    with pytest.raises(QueryError, match=r"1:\d+"):
        small_store.query("SELECT * WHERE { ?s ?p }", QueryOptions(timeout=5))


def test_timeout_stops_evaluation_and_frees_the_worker(small_store: OxigraphStore) -> None:
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        small_store.query(slow, QueryOptions(timeout=0.5))
    assert time.monotonic() - started < 5
    # The killed worker was replaced: a quick query answers at once.
    result = small_store.query(f"ASK {{ <{BASE}id/hub> ?p ?o }}", QueryOptions(timeout=10))
    assert result == AskResult(True)


def test_describe_has_outgoing_triples_and_labels_of_linked_resources(small_store: OxigraphStore) -> None:
    graph = small_store.describe(URIRef(f"{BASE}id/thing/7"))
    assert (URIRef(f"{BASE}id/thing/7"), URIRef(f"{BASE}ns#pointsTo"), URIRef(f"{BASE}id/hub")) in graph
    assert (URIRef(f"{BASE}id/hub"), URIRef(LABEL), Literal("The hub", lang="en")) in graph


def test_backlinks_are_paged(small_store: OxigraphStore) -> None:
    hub = URIRef(f"{BASE}id/hub")
    first = small_store.backlinks(hub, 0, 50)
    second = small_store.backlinks(hub, 50, 50)
    assert first.total == second.total == 300
    firsts = set(first.graph.subjects(URIRef(f"{BASE}ns#pointsTo"), hub))
    seconds = set(second.graph.subjects(URIRef(f"{BASE}ns#pointsTo"), hub))
    assert len(firsts) == len(seconds) == 50 and not firsts & seconds
    subject = next(iter(firsts))
    assert small_store.describe(subject).value(subject, URIRef(LABEL)) is not None
    assert first.graph.value(subject, URIRef(LABEL)) is not None


def test_exists_and_graphs(small_store: OxigraphStore) -> None:
    assert small_store.exists(URIRef(f"{BASE}id/hub"))
    assert not small_store.exists(URIRef(f"{BASE}id/nothing"))
    assert small_store.graphs() == [URIRef(f"{BASE}id/graph/a"), URIRef(f"{BASE}id/graph/b")]
    assert small_store.triple_count() == 601


def test_missing_build_is_a_clear_error(tmp_path: Path) -> None:
    from matrixkg.errors import BuildMissing

    with pytest.raises(BuildMissing, match="matrixkg build"):
        OxigraphStore(tmp_path / "nowhere")
