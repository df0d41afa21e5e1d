"""The W3C SPARQL 1.1 Protocol test suite, read from its manifest and run over HTTP against a live endpoint.

The suite's manifest (``manifest.ttl`` and the ``data*.nt`` files it loads) stays outside the project, in
``../shared/conformance/sparql11-protocol/`` or wherever ``MATRIXKG_CONFORMANCE_DIR`` points. Each test is a
sequence of HTTP requests (``ht:Request``, the W3C HTTP-in-RDF vocabulary) with the expected status class,
result format and ASK answer. A read-only endpoint answers the query tests (``query_*``, ``bad_query_*``,
``bad_multiple_queries``); the update tests expect writes to succeed and do not apply.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from matrixkg.build import publish_nquads

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")

CONFORMANCE_ENV = "MATRIXKG_CONFORMANCE_DIR"
MANIFEST = "manifest.ttl"
#: Every ``ht:absolutePath`` of the manifest starts with this; runners replace it with the endpoint's path.
MANIFEST_ENDPOINT = "/sparql/"

_RESULTS_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
#: What the manifest's ``mf:expectedFormat`` values accept, as media types.
EXPECTED_MEDIA_TYPES: dict[str, frozenset[str]] = {
    "boolean": frozenset({"application/sparql-results+json", "application/sparql-results+xml"}),
    "tabular": frozenset({"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                          "text/tab-separated-values"}),
    # "expect one of: RDF/XML, Turtle, N-Triples, RDFa" (the suite's own words).
    "RDF": frozenset({"application/rdf+xml", "text/turtle", "application/n-triples",
                      "application/xhtml+xml"}),
}


def conformance_dir() -> Path:
    """Return the Protocol suite folder: ``$MATRIXKG_CONFORMANCE_DIR``, else the one in ``../shared``."""
    configured = os.environ.get(CONFORMANCE_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance" / "sparql11-protocol"


@dataclass(frozen=True)
class Exchange:
    """One request of a test and what its response must be."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    status_classes: frozenset[int]
    expected_format: str | None = None
    expected_boolean: bool | None = None


@dataclass(frozen=True)
class ProtocolCase:
    """One test of the manifest: its name, its requests in order, and the graphs its data goes into."""

    name: str
    title: str
    exchanges: tuple[Exchange, ...]
    graph_data: tuple[tuple[str, str], ...] = ()

    @property
    def applies_to_read_only(self) -> bool:
        """Return whether a read-only query endpoint is expected to pass this test."""
        return self.name.startswith(("query_", "bad_query_")) or self.name == "bad_multiple_queries"


@dataclass
class Outcome:
    """The result of running one test: the problems found (none when it passed)."""

    case: ProtocolCase
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether every response met its expectations."""
        return not self.problems


# --- reading the manifest -----------------------------------------------------------------------------------
def read_manifest(directory: Path) -> list[ProtocolCase]:
    """Return the tests of ``manifest.ttl`` in *directory*, in manifest order."""
    path = directory / MANIFEST
    graph = Graph().parse(path, format="turtle", publicID=path.resolve().as_uri())
    manifest = next(iter(graph.subjects(RDF.type, MF.Manifest)))
    entries = Collection(graph, _required(graph, manifest, MF.entries))
    return [_case(graph, entry) for entry in entries]


def _case(graph: Graph, entry: Node) -> ProtocolCase:
    name = str(entry).rsplit("#", 1)[-1]
    action = graph.value(entry, MF.action)
    requests = Collection(graph, _required(graph, action, HT.requests))
    data = []
    for item in graph.objects(entry, UT.graphData):
        data.append((str(graph.value(item, UT.graph)).rsplit("/", 1)[-1], str(graph.value(item, RDFS.label))))
    return ProtocolCase(name, str(graph.value(entry, MF.name)),
                        tuple(_exchange(graph, request) for request in requests), tuple(sorted(data)))


def _required(graph: Graph, subject: Node | None, predicate: URIRef) -> Node:
    value = graph.value(subject, predicate)
    if value is None:
        raise ValueError(f"the manifest gives {subject} no {predicate}")
    return value


def _exchange(graph: Graph, request: Node) -> Exchange:
    headers: list[tuple[str, str]] = []
    header_list = graph.value(request, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            headers.append((str(graph.value(header, HT.fieldName)), str(graph.value(header, HT.fieldValue))))
    body = None
    content = graph.value(request, HT.body)
    if content is not None:
        encoding = str(graph.value(content, CNT.characterEncoding) or "UTF-8")
        body = str(graph.value(content, CNT.chars)).encode(encoding)
    response = graph.value(request, HT.resp)
    statuses = frozenset(int(str(code).rsplit("StatusCode", 1)[-1][0])
                         for code in graph.objects(response, MF.expectedStatus))
    expected_format = graph.value(response, MF.expectedFormat)
    expected_boolean = graph.value(response, MF.expectedBoolean)
    return Exchange(
        method=str(graph.value(request, HT.methodName)),
        path=str(graph.value(request, HT.absolutePath)),
        headers=tuple(headers),
        body=body,
        status_classes=statuses,
        expected_format=None if expected_format is None else str(expected_format),
        expected_boolean=None if expected_boolean is None else str(expected_boolean) == "true",
    )


# --- the data the tests query -------------------------------------------------------------------------------
def fixture_nquads(cases: Iterable[ProtocolCase], directory: Path) -> str:
    """Return N-Quads putting each data file the *cases* load into the named graph they expect it in."""
    lines: list[str] = []
    for file_name, graph_iri in sorted({pair for case in cases for pair in case.graph_data}):
        graph = ox.NamedNode(graph_iri)
        for triple in ox.parse(path=str(directory / file_name), format=ox.RdfFormat.N_TRIPLES):
            lines.append(str(ox.Quad(triple.subject, triple.predicate, triple.object, graph)) + " .")
    return "\n".join(lines) + "\n"


def publish_fixture(cases: Sequence[ProtocolCase], directory: Path, build_dir: Path, base_uri: str) -> Path:
    """Publish the suite's data as a build (one named graph per data file) for a server to load."""
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    source = build_dir.parent / "sparql11-protocol.nq"
    source.write_text(fixture_nquads(cases, directory), encoding="utf-8")
    return publish_nquads(source, build_dir, base_uri)


# --- running ------------------------------------------------------------------------------------------------
def run_case(client: httpx.Client, endpoint: str, case: ProtocolCase) -> Outcome:
    """Return the outcome of sending the requests of *case* to *endpoint* (an absolute URL) in order."""
    outcome = Outcome(case)
    for number, exchange in enumerate(case.exchanges, start=1):
        url = _url(endpoint, exchange.path)
        response = client.request(exchange.method, url, headers=list(exchange.headers), content=exchange.body)
        prefix = f"request {number} ({exchange.method} {exchange.path[:60]}): "
        outcome.problems += [prefix + problem for problem in check_response(exchange, response)]
    return outcome


def _url(endpoint: str, path: str) -> str:
    if not path.startswith(MANIFEST_ENDPOINT):
        raise ValueError(f"the manifest path {path!r} does not start with {MANIFEST_ENDPOINT}")
    rest = path[len(MANIFEST_ENDPOINT):]
    return endpoint + rest


def check_response(exchange: Exchange, response: httpx.Response) -> list[str]:
    """Return what is wrong with *response* given the expectations of *exchange* (empty when nothing is)."""
    problems: list[str] = []
    if response.status_code // 100 not in exchange.status_classes:
        expected = " or ".join(f"{c}xx" for c in sorted(exchange.status_classes))
        return [f"status {response.status_code}, expected {expected}: {response.text[:200]!r}"]
    if exchange.expected_format is None:
        return problems
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = EXPECTED_MEDIA_TYPES[exchange.expected_format]
    if media_type not in allowed:
        wanted = ", ".join(sorted(allowed))
        return [f"content type {media_type!r} is not {exchange.expected_format} ({wanted})"]
    try:
        if exchange.expected_format == "RDF":
            if media_type != "application/xhtml+xml":
                list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(media_type)))
        elif media_type in _RESULTS_FORMATS:
            parsed = ox.parse_query_results(response.content, format=_RESULTS_FORMATS[media_type])
            if exchange.expected_format == "boolean":
                if not isinstance(parsed, ox.QueryBoolean):
                    problems.append("expected a boolean result")
                elif exchange.expected_boolean is not None and bool(parsed) is not exchange.expected_boolean:
                    problems.append(f"ASK answered {bool(parsed)}, expected {exchange.expected_boolean}")
            elif not isinstance(parsed, ox.QuerySolutions):
                problems.append("expected solutions")
    except (SyntaxError, ValueError) as exc:
        problems.append(f"the {media_type} body does not parse: {exc}")
    return problems


def read_only_cases(cases: Iterable[ProtocolCase]) -> list[ProtocolCase]:
    """Return the cases a read-only endpoint must pass."""
    return [case for case in cases if case.applies_to_read_only]
