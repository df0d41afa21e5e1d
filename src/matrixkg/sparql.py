"""The read-only SPARQL 1.1 endpoint at ``/sparql``, its service description and query UI, and ``/queries``.

Requests follow the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/): query via GET
(§2.1.1), via URL-encoded POST (§2.1.2) or via POST directly (§2.1.3), with the RDF dataset from
``default-graph-uri`` and ``named-graph-uri`` (§2.1.4). Updates, ``SERVICE`` and oversized queries are
refused before anything is evaluated; evaluation runs in the store's killable worker under the time and row
limits of the settings.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node
from starlette.concurrency import run_in_threadpool

from matrixkg.config import Settings
from matrixkg.errors import NotAcceptable, QueryError, QueryRefused, QueryTooLarge
from matrixkg.formats import HTML, RDF_FORMATS, TURTLE, RdfFormat, negotiate
from matrixkg.iris import PREFIXES, SD, VOID, Minter
from matrixkg.queries import NamedQuery, load_queries
from matrixkg.results import (
    FORMAT_IRIS,
    RESULTS_FORMATS,
    SPARQL_CSV,
    SPARQL_JSON,
    choose_format,
    compact,
    format_named,
    formats_for,
    json_rows,
    serialize_result,
)
from matrixkg.store import AskResult, GraphResult, QueryOptions, QueryResult, SelectResult, Store

TRUNCATED_HEADER = "X-Matrixkg-Truncated"
ROW_LIMIT_HEADER = "X-Matrixkg-Row-Limit"
UPDATE_PARAMETERS = frozenset({"update", "using-graph-uri", "using-named-graph-uri"})
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
#: Bytes of request body read at most per character of ``max_query_length``: a UTF-8 character percent-encoded
#: takes up to 12 bytes, and the graph parameters get some room on top.
BODY_BYTES_PER_CHAR = 12
BODY_SLACK = 64 * 1024


class UnsupportedMediaType(QueryError):
    """A POST whose body is neither a URL-encoded form nor a SPARQL query (SPARQL Protocol §2.1)."""

    status = 415


class TemplatePages(Protocol):
    """What the endpoint needs from the HTML layer: the Jinja2 templates."""

    templates: Jinja2Templates


# --- a small SPARQL tokenizer -------------------------------------------------------------------------------
# Enough of the SPARQL 1.1 grammar (§19.8 terminals) to tell keywords from strings, IRIs, comments, variables,
# prefixed names and language tags; the real parsing is the store's.
_TOKENS = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:\\.|[^\\])*?(?:'''|\Z) | \"\"\"(?:\\.|[^\\])*?(?:\"\"\"|\Z)
              | '(?:\\.|[^'\\\r\n])*(?:'|$) | "(?:\\.|[^"\\\r\n])*(?:"|$))
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$]\w+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<bnode>_:[\w.-]*)
  | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w.:%-]|\\\S)*)
  | (?P<word>[^\W\d]\w*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
#: The keywords an update operation starts with (SPARQL 1.1 Update §3).
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                             "WITH"})


@dataclass(frozen=True)
class Token:
    """One lexical token of a query: its kind (a group name of the token pattern) and its text."""

    kind: str
    text: str


def tokenize(sparql: str) -> Iterator[Token]:
    """Yield the tokens of *sparql*, whitespace and comments left out.

    >>> [t.text for t in tokenize('SELECT * { ?s ex:SERVICE "SERVICE" } # SERVICE')]
    ['SELECT', '*', '{', '?s', 'ex:SERVICE', '"SERVICE"', '}']
    """
    for match in _TOKENS.finditer(sparql):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group())


@dataclass(frozen=True)
class QueryScan:
    """What the tokenizer tells about a request's text before it is parsed."""

    operation: str | None
    service: bool
    dataset_clause: bool = False

    @property
    def is_update(self) -> bool:
        """Return whether the text is a SPARQL Update request."""
        return self.operation in UPDATE_KEYWORDS


def scan_query(sparql: str) -> QueryScan:
    """Return the operation keyword after the prologue, and whether ``SERVICE`` and ``FROM`` occur.

    >>> scan_query("PREFIX ex: <http://x/> INSERT DATA { ex:a ex:b ex:c }")
    QueryScan(operation='INSERT', service=False, dataset_clause=False)
    >>> scan_query("select * { service <http://x/> { ?s ?p ?o } }")
    QueryScan(operation='SELECT', service=True, dataset_clause=False)
    >>> scan_query('ASK FROM <http://x/g> { ?s ?p "SERVICE"@en }')
    QueryScan(operation='ASK', service=False, dataset_clause=True)
    """
    operation: str | None = None
    service = dataset_clause = False
    skip = 0
    for token in tokenize(sparql):
        if token.kind != "word":
            skip = max(skip - 1, 0)
            continue
        keyword = token.text.upper()
        if keyword == "SERVICE":
            service = True
        elif keyword == "FROM":
            dataset_clause = True
        if operation is None and not skip:
            if keyword == "PREFIX":
                skip = 2  # PREFIX pname: <iri>
            elif keyword == "BASE":
                skip = 1  # BASE <iri>
            else:
                operation = keyword
    return QueryScan(operation, service, dataset_clause)


# --- requests -----------------------------------------------------------------------------------------------
@dataclass
class ProtocolRequest:
    """A query operation as the protocol parameters give it (§2.1)."""

    query: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format: str | None = None


def protocol_request(params: Sequence[tuple[str, str]], body_query: str | None = None) -> ProtocolRequest:
    """Return the query operation in *params* (and a direct POST body), or raise the protocol's client errors.

    >>> protocol_request([("query", "ASK {}"), ("default-graph-uri", "http://g/")]).default_graphs
    ['http://g/']
    >>> protocol_request([("query", "ASK {}"), ("query", "SELECT * {}")])
    Traceback (most recent call last):
    ...
    matrixkg.errors.QueryError: more than one query in the request (SPARQL 1.1 Protocol §2.1: exactly one)
    """
    names = {name for name, _ in params}
    if names & UPDATE_PARAMETERS:
        raise QueryRefused("this endpoint is read-only: SPARQL Update requests (the 'update' operation, "
                           "SPARQL 1.1 Protocol §2.2) are not accepted")
    queries = [value for name, value in params if name == "query"]
    if body_query is not None:
        queries.append(body_query)
    if len(queries) > 1:
        raise QueryError("more than one query in the request (SPARQL 1.1 Protocol §2.1: exactly one)")
    formats = [value for name, value in params if name == "format"]
    return ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=[value for name, value in params if name == "default-graph-uri"],
        named_graphs=[value for name, value in params if name == "named-graph-uri"],
        format=formats[-1] if formats else None,
    )


def check_query(sparql: str, settings: Settings) -> QueryScan:
    """Return the scan of *sparql*, or raise when the endpoint will not run it (size, update, SERVICE)."""
    if len(sparql) > settings.max_query_length:
        raise QueryTooLarge(f"the query has {len(sparql)} characters; this endpoint accepts at most "
                            f"{settings.max_query_length}")
    if not sparql.strip():
        raise QueryError("the query is empty")
    scan = scan_query(sparql)
    if scan.is_update:
        raise QueryRefused(f"this endpoint is read-only: {scan.operation} is a SPARQL Update operation "
                           "and is not accepted")
    if scan.service:
        raise QueryRefused("SERVICE (federated query) is not allowed on this endpoint: it would make the "
                           "server fetch from other hosts")
    return scan


def _media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """Return the bare media type of a Content-Type header and its parameters.

    >>> _media_type("Application/SPARQL-Query; charset=UTF-8")
    ('application/sparql-query', {'charset': 'utf-8'})
    """
    if not header:
        return "", {}
    kind, *parts = header.split(";")
    params = {}
    for part in parts:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


async def _read_body(request: Request, limit: int) -> bytes:
    """Return the request body, or raise :class:`QueryTooLarge` as soon as it passes *limit* bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise QueryTooLarge(f"the request body has {declared} bytes; this endpoint reads at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise QueryTooLarge(f"the request body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"the {what} is not valid UTF-8: {exc}") from exc


# --- the service description --------------------------------------------------------------------------------
def service_description(settings: Settings, graphs: Sequence[URIRef]) -> Graph:
    """Return the SPARQL 1.1 Service Description of the endpoint: languages, formats, features and dataset."""
    minter = Minter(settings.base_uri)
    endpoint = minter.sparql_endpoint()
    dataset = minter.dataset()
    graph = Graph()
    for prefix in ("sd", "void", "rdfs"):
        graph.bind(prefix, PREFIXES[prefix])
    graph.add((endpoint, RDF.type, SD.Service))
    graph.add((endpoint, SD.endpoint, endpoint))
    graph.add((endpoint, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((endpoint, SD.feature, SD.UnionDefaultGraph))
    graph.add((endpoint, RDFS.label, Literal("matrixkg SPARQL endpoint (read-only)", lang="en")))
    graph.add((endpoint, RDFS.comment, Literal(
        f"SPARQL 1.1 Query only; no Update, no SERVICE. Queries stop after {settings.query_timeout:g} s, "
        f"results are cut at {settings.max_result_rows} rows, query text is limited to "
        f"{settings.max_query_length} characters. The default graph is the union of the named graphs "
        "unless the request (default-graph-uri) or the query (FROM) names graphs.", lang="en")))
    for result_format in (*RESULTS_FORMATS, *RDF_FORMATS):
        graph.add((endpoint, SD.resultFormat, URIRef(_format_iri(result_format))))
    graph.add((endpoint, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, VOID.sparqlEndpoint, endpoint))
    # SPARQL 1.1 Service Description §3.2.6: each named graph of the dataset; the graph name identifies the
    # sd:NamedGraph itself so the description needs no blank nodes.
    for name in graphs:
        graph.add((dataset, SD.namedGraph, name))
        graph.add((name, RDF.type, SD.NamedGraph))
        graph.add((name, SD.name, name))
    return graph


def _format_iri(result_format: RdfFormat) -> str:
    return FORMAT_IRIS[result_format.key]


# --- HTML helpers -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of an HTML results table: its text and, for an IRI, where it links."""

    text: str
    href: str | None = None
    title: str | None = None


def table_rows(result: SelectResult) -> list[list[Cell]]:
    """Return the rows of *result* as table cells (IRIs shortened with the known prefixes and linked)."""
    return [[_cell(row.get(name)) for name in result.variables] for row in result.rows]


def _cell(term: Node | None) -> Cell:
    if isinstance(term, URIRef):
        return Cell(compact(term), str(term), str(term))
    return Cell(compact(term))


#: The plain JSON of the example-query API: an array with one object per row (not an RDF format).
QUERY_ROWS_JSON = RdfFormat("rows", ".json", "application/json", "JSON rows", None)
#: What ``/queries/{name}`` answers in, by ``format`` value; the order breaks Accept ties (JSON rows first).
_NAMED_FORMATS: dict[str, RdfFormat] = {"json": QUERY_ROWS_JSON, "sparql-json": SPARQL_JSON,
                                        "csv": SPARQL_CSV, "html": HTML}


# --- the router ---------------------------------------------------------------------------------------------
class SparqlEndpoint:
    """Request handlers of ``/sparql`` and ``/queries``, sharing the settings, store and templates."""

    def __init__(self, settings: Settings, store: Store, pages: TemplatePages,
                 queries: dict[str, NamedQuery]) -> None:
        self.settings = settings
        self.store = store
        self.templates = pages.templates
        self.queries = queries
        # Absolute URLs come from the public base, never from the request's Host (as in matrixkg.web).
        self.endpoint_url = settings.base_uri + "sparql"
        self.limits_url = settings.base_uri + "sparql/limits"

    # running ------------------------------------------------------------------------------------------------
    async def execute(self, sparql: str, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
                      scan: QueryScan | None = None) -> QueryResult:
        """Return the result of *sparql* under the endpoint's limits (raises the typed query errors).

        *scan* is the :func:`check_query` result when the caller has already checked the text.
        """
        scan = scan or check_query(sparql, self.settings)
        # SPARQL 1.1 Protocol §2.1.4: graphs given in the request override the query's FROM clauses; with
        # neither, the default graph is the union of the named graphs (sd:UnionDefaultGraph).
        from_query = scan.dataset_clause and not default_graphs and not named_graphs
        options = QueryOptions(default_graphs=list(default_graphs), named_graphs=list(named_graphs),
                               timeout=self.settings.query_timeout, max_rows=self.settings.max_result_rows,
                               base_iri=self.endpoint_url, union_default_graph=not from_query)
        return await run_in_threadpool(self.store.query, sparql, options)

    def result_response(self, result: QueryResult, chosen: RdfFormat) -> Response:
        """Return *result* serialised as *chosen*, with the truncation flagged in headers and results."""
        truncated = not isinstance(result, AskResult) and result.truncated
        links = [self.limits_url] if truncated else []
        headers = {"Vary": "Accept"}
        if truncated:
            headers[TRUNCATED_HEADER] = "true"
            headers[ROW_LIMIT_HEADER] = str(self.settings.max_result_rows)
            headers["Link"] = f'<{self.limits_url}>; rel="describedby"'
        body = serialize_result(result, chosen.media_type, links)
        return Response(body, media_type=chosen.content_type, headers=headers)

    def page(self, request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
        """Return an HTML page from *template* with the shared context."""
        full = {"base_uri": self.settings.base_uri, "static_url": self.settings.base_uri + "static/",
                "prefixes": PREFIXES, "settings": self.settings, **context}
        response = self.templates.TemplateResponse(request, template, full, status_code=status)
        response.headers["Vary"] = "Accept"
        return response

    # /sparql ------------------------------------------------------------------------------------------------
    async def get(self, request: Request) -> Response:
        """Answer a query via GET (§2.1.1), or describe the service / show the UI when there is no query."""
        operation = protocol_request(request.query_params.multi_items())
        return await self.answer(request, operation)

    async def post(self, request: Request) -> Response:
        """Answer a query via URL-encoded POST (§2.1.2) or via POST directly (§2.1.3)."""
        media_type, params = _media_type(request.headers.get("content-type"))
        charset = params.get("charset", "utf-8")
        url_params = request.query_params.multi_items()
        limit = self.settings.max_query_length * BODY_BYTES_PER_CHAR + BODY_SLACK
        if media_type == UPDATE_TYPE:
            raise QueryRefused("this endpoint is read-only: SPARQL Update requests "
                               "(application/sparql-update, SPARQL 1.1 Protocol §2.2) are not accepted")
        if media_type not in (FORM_TYPE, QUERY_TYPE):
            if not media_type:
                raise QueryError(f"a POST to the SPARQL endpoint needs a Content-Type: {FORM_TYPE} or "
                                 f"{QUERY_TYPE} (SPARQL 1.1 Protocol §2.1)")
            raise UnsupportedMediaType(f"cannot take a {media_type} body; send {FORM_TYPE} or {QUERY_TYPE} "
                                       "(SPARQL 1.1 Protocol §2.1)")
        if charset not in ("utf-8", "utf8"):
            # §2.1.2 and §2.1.3: the query string is UTF-8 encoded.
            raise QueryError(f"the query must be sent as UTF-8, not {charset}")
        body = await _read_body(request, limit)
        if media_type == FORM_TYPE:
            text = _utf8(body, "form body")
            try:
                form = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
            except (UnicodeDecodeError, ValueError) as exc:
                raise QueryError(f"the form body cannot be decoded: {exc}") from exc
            # The test suite sends default-graph-uri in the URL beside a form body; both are read.
            operation = protocol_request([*url_params, *form])
        else:
            operation = protocol_request(url_params, _utf8(body, "query body"))
        if operation.query is None:
            raise QueryError("no query in the request: send a 'query' parameter (SPARQL 1.1 Protocol §2.1)")
        return await self.answer(request, operation)

    async def answer(self, request: Request, operation: ProtocolRequest) -> Response:
        """Return the response to a parsed query operation, in the negotiated or requested format."""
        accept = request.headers.get("accept")
        if operation.query is None:
            return self.describe_service(request, accept, operation.format)
        scan = check_query(operation.query, self.settings)
        if operation.format is None and self._wants_page(accept, scan):
            return self.ui(request, initial_query=operation.query)
        result = await self.execute(operation.query, operation.default_graphs, operation.named_graphs, scan)
        return self.result_response(result, choose_format(result, accept, operation.format))

    @staticmethod
    def _wants_page(accept: str | None, scan: QueryScan) -> bool:
        """Return whether the client (a browser) prefers the HTML UI to any format the result could take."""
        if not accept:
            return False
        if scan.operation == "SELECT":
            offered = formats_for("solutions")
        elif scan.operation == "ASK":
            offered = formats_for("boolean")
        elif scan.operation in ("CONSTRUCT", "DESCRIBE"):
            offered = formats_for("graph")
        else:
            offered = (*RESULTS_FORMATS, *RDF_FORMATS)
        try:
            return negotiate(accept, (*offered, HTML)) is HTML
        except NotAcceptable:
            return False

    def describe_service(self, request: Request, accept: str | None, requested: str | None) -> Response:
        """Return the service description (RDF), or the query UI for a browser (§ "Service Description" 2)."""
        if requested:
            chosen = format_named(requested)
            if chosen is None or chosen not in RDF_FORMATS:
                raise NotAcceptable([f.key for f in RDF_FORMATS])
        else:
            chosen = negotiate(accept, (HTML, *RDF_FORMATS), wildcard_choice=TURTLE)
        if chosen is HTML:
            return self.ui(request)
        graph = service_description(self.settings, self.store.graphs())
        return self.result_response(GraphResult(graph), chosen)

    def ui(self, request: Request, initial_query: str | None = None) -> Response:
        """Return the YASGUI query page, with *initial_query* in the editor (and run) when given."""
        endpoint = self.endpoint_url
        examples = [{"name": q.name, "title": q.title, "description": q.description, "text": q.text,
                     "link": "?" + urlencode({"query": q.text})} for q in self.queries.values()]
        return self.page(request, "sparql.html", {
            "endpoint": endpoint, "initial_query": initial_query, "examples": examples,
            "default_query": _default_query(),
            "formats": [*RESULTS_FORMATS, *RDF_FORMATS],
        })

    async def limits(self, request: Request) -> Response:
        """Return the note that truncated results link to: the endpoint's limits."""
        document = {
            "max_result_rows": self.settings.max_result_rows,
            "max_query_length": self.settings.max_query_length,
            "query_timeout_seconds": self.settings.query_timeout,
            "note": (f"Results are cut after {self.settings.max_result_rows} rows (or triples); a cut "
                     f"result carries the HTTP header '{TRUNCATED_HEADER}: true' and, in SPARQL JSON and "
                     "XML results, a link to this note in its head. Use LIMIT and OFFSET to page through "
                     "larger results."),
        }
        return Response(_json(document), media_type="application/json")

    # /queries -----------------------------------------------------------------------------------------------
    async def list_queries(self, request: Request) -> Response:
        """Return the example queries: an HTML page for readers, a JSON list otherwise."""
        chosen = negotiate(request.headers.get("accept"), (QUERY_ROWS_JSON, HTML))
        if chosen is HTML:
            return self.page(request, "queries.html", {"queries": list(self.queries.values())})
        listing = [{"name": q.name, "title": q.title, "description": q.description,
                    "url": self.settings.base_uri + "queries/" + q.name,
                    "parameters": [{"name": p.name, "default": p.default, "description": p.description,
                                    "pattern": p.pattern, "type": p.type} for p in q.parameters],
                    "sparql": q.text} for q in self.queries.values()]
        return Response(_json(listing), media_type="application/json")

    async def run_named(self, request: Request, query: NamedQuery, values: dict[str, Any]) -> Response:
        """Return the answer of a named query with *values* bound: JSON rows, SPARQL JSON, CSV or a page."""
        requested = values.pop("format", None)
        sparql = query.bind(values)
        if requested:
            chosen = _NAMED_FORMATS.get(requested)
            if chosen is None:
                raise NotAcceptable(sorted(_NAMED_FORMATS))
        else:
            chosen = negotiate(request.headers.get("accept"), tuple(_NAMED_FORMATS.values()))
        result = await self.execute(sparql)
        if chosen is HTML:
            assert isinstance(result, SelectResult)
            return self.page(request, "query.html", {
                "query": query, "sparql": sparql, "values": {p.name: values.get(p.name) or p.default
                                                             for p in query.parameters},
                "result": result, "rows": table_rows(result),
                "editor_link": self.endpoint_url + "?" + urlencode({"query": sparql}),
                "data_links": {key: str(request.url.include_query_params(format=key))
                               for key in ("json", "csv", "sparql-json")},
            })
        if chosen is QUERY_ROWS_JSON:
            assert isinstance(result, SelectResult)
            response = Response(_json(json_rows(result)), media_type="application/json")
            if result.truncated:
                response.headers[TRUNCATED_HEADER] = "true"
                response.headers[ROW_LIMIT_HEADER] = str(self.settings.max_result_rows)
            return response
        return self.result_response(result, chosen)

    def named_route(self, query: NamedQuery) -> Callable[..., Awaitable[Response]]:
        """Return a route function for *query* whose signature declares its parameters (for OpenAPI)."""

        async def run_query(request: Request, **values: Any) -> Response:
            return await self.run_named(request, query, values)

        signature = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                       annotation=Request)]
        for parameter in query.parameters:
            kind = int if parameter.type == "integer" else str
            signature.append(inspect.Parameter(
                parameter.name, inspect.Parameter.KEYWORD_ONLY, default=kind(parameter.default),
                annotation=Annotated[kind, Query(  # type: ignore[valid-type]
                    description=parameter.description, examples=[parameter.default],
                    pattern=None if kind is int else f"^(?:{parameter.pattern})$")]))
        signature.append(inspect.Parameter(
            "format", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, Query(
                description="Answer format, instead of the Accept header: " + ", ".join(_NAMED_FORMATS),
                pattern="^(" + "|".join(_NAMED_FORMATS) + ")$")]))
        run_query.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
        run_query.__name__ = "query_" + query.name.replace("-", "_")
        run_query.__doc__ = query.description
        return run_query


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def _route_name(query: NamedQuery) -> str:
    return "query-" + query.name


def _default_query() -> str:
    prefixes = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("mkg", "skos", "dcterms", "rdfs"))
    return (prefixes + "\nSELECT ?cell ?label WHERE {\n  ?cell a mkg:Cell ; skos:prefLabel ?label .\n}\n"
            "LIMIT 50\n")


_IRI_LIST = {"type": "array", "items": {"type": "string", "format": "uri"}}
SPARQL_PARAMETERS: list[dict[str, Any]] = [
    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE). Without it, GET returns the "
                    "service description (RDF) or the query UI (HTML)."},
    {"name": "default-graph-uri", "in": "query", "required": False,
     "schema": _IRI_LIST, "style": "form", "explode": True,
     "description": "A graph of the default graph (repeatable). Without it the default graph is the union "
                    "of all named graphs."},
    {"name": "named-graph-uri", "in": "query", "required": False,
     "schema": _IRI_LIST, "style": "form", "explode": True,
     "description": "A named graph of the dataset (repeatable)."},
    {"name": "format", "in": "query", "required": False,
     "schema": {"type": "string", "enum": [f.key for f in (*RESULTS_FORMATS, *RDF_FORMATS)]},
     "description": "Result format, instead of the Accept header."},
]


def create_sparql_router(settings: Settings, store: Store, pages: TemplatePages,
                         queries: dict[str, NamedQuery] | None = None) -> APIRouter:
    """Return the routes of the SPARQL endpoint (``/sparql``) and the example queries (``/queries``)."""
    queries = load_queries() if queries is None else queries
    endpoint = SparqlEndpoint(settings, store, pages, queries)
    router = APIRouter()
    result_content: dict[str, Any] = {f.media_type: {} for f in (*RESULTS_FORMATS, *RDF_FORMATS, HTML)}
    errors = {400: {"description": "Malformed query (with the parser's message and position) or request"},
              403: {"description": "Update or SERVICE: the endpoint is read-only"},
              406: {"description": "No acceptable format"}, 413: {"description": "Query text too long"},
              503: {"description": "Query ran past the time limit and was stopped"}}
    router.add_api_route(
        "/sparql", endpoint.get, methods=["GET"], name="sparql", tags=["SPARQL"],
        summary="SPARQL 1.1 query via GET, service description, query UI", response_class=Response,
        responses={200: {"content": result_content}, **errors},  # type: ignore[dict-item]
        openapi_extra={"parameters": SPARQL_PARAMETERS})
    router.add_api_route(
        "/sparql", endpoint.post, methods=["POST"], name="sparql-post", tags=["SPARQL"],
        summary="SPARQL 1.1 query via POST (URL-encoded form or application/sparql-query)",
        response_class=Response, responses={200: {"content": result_content}, 415: {}, **errors},  # type: ignore[dict-item]
        openapi_extra={"parameters": SPARQL_PARAMETERS[1:3], "requestBody": {"required": True, "content": {
            FORM_TYPE: {"schema": {"type": "object", "properties": {"query": {"type": "string"}},
                                   "required": ["query"]}},
            QUERY_TYPE: {"schema": {"type": "string"}}}}})
    router.add_api_route("/sparql/limits", endpoint.limits, methods=["GET"], name="sparql-limits",
                         tags=["SPARQL"], summary="The endpoint's limits (linked from truncated results)",
                         response_class=Response)
    router.add_api_route("/queries", endpoint.list_queries, methods=["GET"], name="queries",
                         tags=["example queries"], summary="The example queries (HTML page or JSON list)",
                         response_class=Response)
    named_content: dict[str, Any] = {f.media_type: {} for f in _NAMED_FORMATS.values()}
    for query in queries.values():
        router.add_api_route(
            f"/queries/{query.name}", endpoint.named_route(query), methods=["GET"], name=_route_name(query),
            tags=["example queries"], summary=query.title, description=query.description,
            response_class=Response,
            responses={200: {"content": named_content, "description": "The answer, one object per row"},
                       400: {"description": "A parameter value that does not fit"}})  # type: ignore[dict-item]
    return router
