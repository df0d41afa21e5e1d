"""The SPARQL endpoint: protocol (GET, POST form, POST direct, dataset), formats, service description, UI, and
the safety rules (read-only, no SERVICE, size, rows, time) — in process over the bundled build, and live."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF

from matrixkg.config import Settings
from matrixkg.errors import QueryError, QueryRefused, QueryTooLarge
from matrixkg.iris import SD, Minter
from matrixkg.results import FORMAT_IRIS
from matrixkg.sparql import check_query, protocol_request, scan_query
from matrixkg.store import OxigraphStore
from tests.sparql_support import sparql_client

CELLS = ("PREFIX mkg: <https://w3id.org/matrixkg/ns#> "
         "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a mkg:Cell }")
# Four independent triple patterns over ~1,600 triples: 10^12 combinations, far beyond any time limit.
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(built: Settings) -> Iterator[TestClient]:
    """Return a client of the app over the bundled build."""
    with sparql_client(built) as opened:
        yield opened


def _count(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# --- the tokenizer ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "service"), [
    ('SELECT * { ?s ?p "SERVICE" }', False),
    ("SELECT * { ?s ?p 'SERVICE' }", False),
    ('SELECT * { ?s ?p """a long\nSERVICE <http://x/> {}""" }', False),
    ('SELECT * { ?s ?p "escaped \\" SERVICE <http://x/> {} \\"" }', False),
    ("SELECT * { <http://example.org/SERVICE> ?p ?o }", False),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://example.org/sparql> { }", False),
    ("PREFIX ex: <http://example.org/> SELECT * { ?s ex:SERVICE ?o }", False),
    ("PREFIX service: <http://example.org/> SELECT * { ?s service:x ?o }", False),
    ("SELECT ?SERVICE $service WHERE { ?SERVICE ?p $service }", False),
    ('SELECT * { ?s ?p "x"@service }', False),
    ("SELECT * { _:SERVICE ?p ?o }", False),
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", True),
    ("select * { service silent <http://example.org/sparql> { ?s ?p ?o } }", True),
    ("SELECT * {\n# a comment line\nSeRvIcE ?endpoint { ?s ?p ?o } }", True),
    ('SELECT * { ?s ?p "SERVICE" . SERVICE <http://x/> { } }', True),
    ("SELECT * { ?s ?p <http://x/>.SERVICE<http://x/>{} }", True),
])
def test_service_keyword_only_outside_strings_iris_comments_and_names(query: str, service: bool) -> None:
    """Only a real SERVICE keyword counts; the same letters in a string, IRI, comment or name do not."""
    assert scan_query(query).service is service


@pytest.mark.parametrize("update", [
    "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/data.ttl>",
    "CLEAR ALL",
    "DROP GRAPH <http://example.org/g>",
    "CREATE GRAPH <http://example.org/g>",
    "ADD <http://example.org/a> TO <http://example.org/b>",
    "MOVE DEFAULT TO <http://example.org/b>",
    "COPY <http://example.org/a> TO DEFAULT",
    "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/>\nBASE <http://example.org/>\ninsert data { ex:a ex:b ex:c }",
    "# a comment first\nDrop All",
])
def test_updates_are_recognised_after_the_prologue(update: str) -> None:
    """Every SPARQL Update operation is refused before it reaches the parser, with a read-only message."""
    assert scan_query(update).is_update
    with pytest.raises(QueryRefused, match="read-only"):
        check_query(update, Settings())


def test_queries_are_not_mistaken_for_updates() -> None:
    """Query forms pass, also when update words appear as names, strings or after the prologue."""
    for query in ("PREFIX insert: <http://x/> SELECT * { ?s insert:p 'DELETE' }", "ASK {}",
                  "BASE <http://x/> CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE <http://x/LOAD>"):
        assert not scan_query(query).is_update
        check_query(query, Settings())


def test_query_size_is_capped() -> None:
    """Query text over max_query_length is refused (413) before anything parses it."""
    settings = Settings(max_query_length=50)
    check_query("ASK { ?s ?p ?o }", settings)
    with pytest.raises(QueryTooLarge):
        check_query("ASK { ?s ?p ?o }" + " " * 50, settings)


def test_protocol_parameters() -> None:
    """Graph parameters repeat; several queries, or any update parameter, are client errors."""
    request = protocol_request([("query", "ASK {}"), ("default-graph-uri", "http://a/"),
                                ("default-graph-uri", "http://b/"), ("named-graph-uri", "http://c/")])
    assert request.default_graphs == ["http://a/", "http://b/"]
    assert request.named_graphs == ["http://c/"]
    with pytest.raises(QueryError, match="more than one query"):
        protocol_request([("query", "ASK {}")], body_query="ASK {}")
    with pytest.raises(QueryRefused):
        protocol_request([("update", "CLEAR ALL")])


# --- the protocol, in process -------------------------------------------------------------------------------
def test_get_post_form_and_post_direct_answer_alike(client: TestClient) -> None:
    """SPARQL Protocol §2.1.1–2.1.3: the three ways of sending a query give the same answer."""
    by_get = _count(client.get("/sparql", params={"query": CELLS}))
    by_form = _count(client.post("/sparql", data={"query": CELLS}))
    by_body = _count(client.post("/sparql", content=CELLS.encode(),
                                 headers={"Content-Type": "application/sparql-query; charset=UTF-8"}))
    assert by_get == by_form == by_body == 50


@pytest.mark.parametrize(("accept", "media_type"), [
    (None, "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.2, application/sparql-results+xml;q=0.4", "application/sparql-results+xml"),
])
def test_select_formats_by_accept(client: TestClient, accept: str | None, media_type: str) -> None:
    """SELECT results come in the four W3C results formats, chosen by Accept with q-values."""
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": CELLS}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["vary"] == "Accept"
    if media_type == "text/csv":  # lossy by design: Oxigraph will not parse it back, so read it as CSV
        assert response.text == "n\r\n50\r\n"
        return
    kind = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
            "application/sparql-results+xml": ox.QueryResultsFormat.XML,
            "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    solutions = list(ox.parse_query_results(response.content, format=kind[media_type]))  # type: ignore[arg-type]
    assert solutions[0]["n"].value == "50"


@pytest.mark.parametrize("key", ["json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml"])
def test_format_parameter(client: TestClient, key: str) -> None:
    """``format=`` picks the format whatever Accept says; graph formats answer CONSTRUCT."""
    graph_format = key in ("turtle", "ntriples", "jsonld", "rdfxml")
    query = ("CONSTRUCT WHERE { ?c a <https://w3id.org/matrixkg/ns#Cell> }" if graph_format else CELLS)
    response = client.get("/sparql", params={"query": query, "format": key}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type == FORMAT_MEDIA[key]
    if graph_format:
        triples = list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(media_type)))
        assert len(triples) == 50


FORMAT_MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle",
                "ntriples": "application/n-triples", "jsonld": "application/ld+json",
                "rdfxml": "application/rdf+xml"}


def test_construct_and_describe_negotiate_rdf(client: TestClient, built: Settings) -> None:
    """CONSTRUCT and DESCRIBE answer in Turtle by default and in the other RDF formats by Accept."""
    cell = Minter(built.base_uri).cell("alcohol", "E4")
    response = client.get("/sparql", params={"query": f"DESCRIBE <{cell}>"})
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert (cell, RDF.type, URIRef("https://w3id.org/matrixkg/ns#Cell")) in graph
    response = client.get("/sparql", params={"query": f"CONSTRUCT WHERE {{ <{cell}> ?p ?o }}"},
                          headers={"Accept": "application/n-triples, text/turtle;q=0.5"})
    assert response.headers["content-type"].startswith("application/n-triples")


def test_default_graph_is_the_union_unless_graphs_are_named(client: TestClient, built: Settings) -> None:
    """§2.1.4: default-graph-uri and named-graph-uri make the dataset; without them, the union is default."""
    minter = Minter(built.base_uri)
    skeleton, ontology = str(minter.graph("skeleton")), str(minter.graph("ontology"))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = _count(client.get("/sparql", params={"query": count}))
    only_skeleton = _count(client.get("/sparql", params={"query": count, "default-graph-uri": skeleton}))
    both = _count(client.get("/sparql", params=[("query", count), ("default-graph-uri", skeleton),
                                                ("default-graph-uri", ontology)]))
    assert 0 < only_skeleton < both < union
    named = client.post("/sparql", params={"named-graph-uri": ontology},
                        content="SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                        headers={"Content-Type": "application/sparql-query"})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [ontology]


def test_from_clauses_make_the_dataset_unless_the_request_names_graphs(client: TestClient,
                                                                      built: Settings) -> None:
    """FROM / FROM NAMED in a query make its dataset (SPARQL 1.1 Query §13.2); protocol graphs override."""
    minter = Minter(built.base_uri)
    skeleton, ontology = str(minter.graph("skeleton")), str(minter.graph("ontology"))

    def count(clause: str = "", **params: str) -> int:
        query = f"SELECT (COUNT(*) AS ?n) {clause} WHERE {{ ?s ?p ?o }}"
        return _count(client.get("/sparql", params={"query": query, **params}))

    assert count(f"FROM <{skeleton}>") == count(**{"default-graph-uri": skeleton})
    assert count(f"FROM <{skeleton}>", **{"default-graph-uri": ontology}) == count(
        **{"default-graph-uri": ontology})
    named = client.get("/sparql", params={
        "query": f"SELECT DISTINCT ?g FROM NAMED <{ontology}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [ontology]


def test_service_description(client: TestClient, built: Settings) -> None:
    """Without a query, RDF clients get an SD description: endpoint, language, formats, union default graph,
    and each named graph of the store (SPARQL 1.1 Service Description §3)."""
    response = client.get("/sparql", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    endpoint = URIRef(built.base_uri + "sparql")
    assert (endpoint, RDF.type, SD.Service) in graph
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (endpoint, SD.feature, SD.UnionDefaultGraph) in graph
    assert {str(o) for o in graph.objects(endpoint, SD.resultFormat)} == set(FORMAT_IRIS.values())
    dataset = graph.value(endpoint, SD.defaultDataset)
    named = set(graph.objects(dataset, SD.namedGraph))
    minter = Minter(built.base_uri)
    assert {minter.graph("skeleton"), minter.graph("ontology"), minter.graph("curated")} <= named
    assert all((g, SD.name, g) in graph for g in named)
    assert not any(isinstance(node, BNode) for node in graph.all_nodes())
    jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")


class _Refs(HTMLParser):
    """Collects the src and href attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_browsers_get_the_query_ui(client: TestClient, built: Settings) -> None:
    """A browser asking /sparql gets YASGUI, preset to this endpoint, with the example queries, loading
    scripts and styles only from this server."""
    response = client.get("/sparql", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.template.name == "sparql.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert context["endpoint"] == built.base_uri + "sparql"
    assert context["initial_query"] is None
    assert len(context["examples"]) >= 12
    assert context["prefixes"]["mkg"] == "https://w3id.org/matrixkg/ns#"
    refs = _Refs()
    refs.feed(response.text)
    scripts = [u for u in refs.urls if u.endswith(".js")]
    assert built.base_uri + "static/yasgui/yasgui.min.js" in scripts
    assert all(u.startswith(built.base_uri) for u in scripts + [u for u in refs.urls if u.endswith(".css")])
    for url in scripts:
        assert client.get(urlsplit(url).path).status_code == 200


def test_a_browser_following_a_query_link_gets_the_ui_with_the_query(client: TestClient) -> None:
    """``/sparql?query=…`` opened in a browser shows (and runs) the query in the editor: shareable links."""
    response = client.get("/sparql", params={"query": CELLS}, headers={"Accept": BROWSER})
    assert response.template.name == "sparql.html"  # type: ignore[attr-defined]
    assert response.context["initial_query"] == CELLS  # type: ignore[attr-defined]
    config = json.loads(response.text.split('id="sparql-config">', 1)[1].split("</script>", 1)[0])
    assert config["initialQuery"] == CELLS


# --- refusals and errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("request_args", "status", "message"), [
    ({"method": "GET", "url": "/sparql", "params": {"query": "ASK {"}}, 400, "error at 1:"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "SELECT ?x WHERE { ?x ?y }"}}, 400,
     "error at 1:"),
    ({"method": "GET", "url": "/sparql", "params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400,
     "more than one query"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "  "}}, 400, "empty"),
    ({"method": "GET", "url": "/sparql", "params": {"update": "CLEAR ALL"}}, 403, "read-only"),
    ({"method": "POST", "url": "/sparql", "data": {"update": "CLEAR ALL"}}, 403, "read-only"),
    ({"method": "POST", "url": "/sparql", "content": b"CLEAR ALL",
      "headers": {"Content-Type": "application/sparql-update"}}, 403, "read-only"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "DROP ALL"}}, 403, "read-only"),
    ({"method": "GET", "url": "/sparql",
      "params": {"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}}, 403, "SERVICE"),
    ({"method": "POST", "url": "/sparql", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}},
     415, "text/plain"),
    ({"method": "POST", "url": "/sparql", "content": b"query=ASK%20%7B%7D"}, 400, "Content-Type"),
    ({"method": "POST", "url": "/sparql", "content": "ASK {}".encode("utf-16"),
      "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 400, "UTF-8"),
    ({"method": "POST", "url": "/sparql", "content": b"ASK { ?s ?p \"\xff\" }",
      "headers": {"Content-Type": "application/sparql-query"}}, 400, "UTF-8"),
    ({"method": "POST", "url": "/sparql", "data": {"default-graph-uri": "http://x/"}}, 400, "no query"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "ASK {}", "default-graph-uri": "not an iri"}},
     400, "IRI"),
    ({"method": "PUT", "url": "/sparql", "params": {"query": "ASK {}"}}, 405, ""),
    ({"method": "GET", "url": "/sparql", "params": {"query": CELLS, "format": "yaml"}}, 406, ""),
    ({"method": "GET", "url": "/sparql", "params": {"query": "ASK {}", "format": "csv"}}, 406, ""),
    ({"method": "GET", "url": "/sparql", "params": {"query": CELLS}, "headers": {"Accept": "image/png"}},
     406, ""),
])
def test_client_errors_are_4xx_with_a_message(client: TestClient, request_args: dict[str, object],
                                               status: int, message: str) -> None:
    """Malformed, refused or unsupported requests get the right 4xx and a message saying why, never a 500."""
    response = client.request(**request_args)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert message in response.text


def test_oversized_queries_are_413(built: Settings) -> None:
    """Query text over max_query_length is 413 by GET, by form and by direct POST (also for a huge body)."""
    with sparql_client(replace(built, max_query_length=100), workers=1) as small:
        long_query = "ASK { ?s ?p ?o }" + "#" * 200
        assert small.get("/sparql", params={"query": long_query}).status_code == 413
        assert small.post("/sparql", data={"query": long_query}).status_code == 413
        assert small.post("/sparql", content=b"ASK {}" + b" " * 200_000,
                          headers={"Content-Type": "application/sparql-query"}).status_code == 413
        assert small.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_truncation_is_visible(built: Settings) -> None:
    """Results over max_result_rows are cut; the cut shows in headers and in the results' head link."""
    with sparql_client(replace(built, max_result_rows=5), workers=1) as small:
        everything = "SELECT * WHERE { ?s ?p ?o }"
        response = small.get("/sparql", params={"query": everything})
        assert response.headers["x-matrixkg-truncated"] == "true"
        assert response.headers["x-matrixkg-row-limit"] == "5"
        document = response.json()
        assert len(document["results"]["bindings"]) == 5
        assert document["head"]["link"] == [built.base_uri + "sparql/limits"]
        xml = small.get("/sparql", params={"query": everything, "format": "xml"})
        assert b'<link href="' + (built.base_uri + "sparql/limits").encode() + b'"' in xml.content
        graph = small.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
        assert graph.headers["x-matrixkg-truncated"] == "true"
        assert len(Graph().parse(data=graph.text, format="turtle")) == 5
        small_enough = small.get("/sparql", params={"query": CELLS})
        assert "x-matrixkg-truncated" not in small_enough.headers
        assert "link" not in small_enough.json()["head"]
        limits = small.get("/sparql/limits").json()
        assert limits["max_result_rows"] == 5


def test_timeout_stops_the_query_and_the_next_one_is_prompt(built: Settings) -> None:
    """A query past query_timeout is stopped (its worker killed): 503; the next one is answered at once."""
    with sparql_client(replace(built, query_timeout=1.0), workers=1) as slow:
        started = time.monotonic()
        response = slow.get("/sparql", params={"query": CROSS_JOIN})
        assert response.status_code == 503
        assert "stopped" in response.text
        assert time.monotonic() - started < 5
        started = time.monotonic()
        assert slow.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True
        assert time.monotonic() - started < 3


# --- against the live server --------------------------------------------------------------------------------
@pytest.mark.live
def test_live_timeout_then_prompt_answer(live_server: object) -> None:
    """On the real server (MATRIXKG_QUERY_TIMEOUT=3) the cross join is stopped; the next query is prompt."""
    url = live_server.url + "sparql"  # type: ignore[attr-defined]
    started = time.monotonic()
    response = httpx.get(url, params={"query": CROSS_JOIN}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "ran longer than 3 s and was stopped" in response.text
    assert 2.5 < elapsed < 10
    started = time.monotonic()
    response = httpx.get(url, params={"query": CELLS}, timeout=30)
    assert _count(response) == 50
    assert time.monotonic() - started < 3


@pytest.mark.live
def test_live_endpoint_over_http(live_server: object) -> None:
    """A plain HTTP client gets results, the service description and the documented errors."""
    url = live_server.url + "sparql"  # type: ignore[attr-defined]
    assert _count(httpx.post(url, data={"query": CELLS}, timeout=30)) == 50
    description = httpx.get(url, headers={"Accept": "text/turtle"}, timeout=30)
    assert (URIRef(url), RDF.type, SD.Service) in Graph().parse(data=description.text, format="turtle")
    assert httpx.get(url, params={"query": "ASK {"}, timeout=30).status_code == 400
    assert httpx.get(url, params={"update": "CLEAR ALL"}, timeout=30).status_code == 403


def test_head_on_the_endpoint_and_the_query_pages(built: Settings, store: OxigraphStore) -> None:
    from matrixkg.web import create_app

    client = TestClient(create_app(built, store))
    for path in ("/sparql?query=ASK%20%7B%7D", "/queries", "/queries/cells-with-most-entries"):
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
