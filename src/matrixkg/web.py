"""The linked-data web tier: ``/id/`` → 303 → ``/doc/`` with content negotiation, the ontology, the JSON-LD
context, static files, and one place where errors become responses.

Paths are served relative to the root: behind a reverse proxy that publishes the service under a path
(``https://data.example.org/kg/``), the proxy strips that prefix. Every absolute URL the service writes
(``Location``, ``Link``, ``Content-Location``, page links) comes from ``settings.base_uri``, never from the
request's ``Host`` header.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from itertools import chain
from typing import Any

from fastapi import FastAPI
from rdflib import Graph, URIRef
from rdflib.term import Node
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matrixkg import __version__
from matrixkg.build import Manifest
from matrixkg.config import Settings
from matrixkg.errors import ConfigError, MatrixkgError, NotAcceptable, NotFound
from matrixkg.formats import (
    FORMATS,
    HTML,
    TURTLE,
    RdfFormat,
    jsonld_context,
    negotiate,
    split_extension,
)
from matrixkg.iris import ONTOLOGY_IRI, PREFIXES, Minter
from matrixkg.pages import Pages, PageView
from matrixkg.sparql import create_sparql_router
from matrixkg.store import Backlinks, GraphResult, Store

log = logging.getLogger(__name__)

#: How long shared caches and browsers may reuse a response without asking again; a new build changes the
#: validators, so a rebuilt dataset is visible at most this long after a restart.
CACHE_SECONDS = 300
BACKLINKS_PARAM = "backlinks"
ONTOLOGY_NAME = "matrixkg"
EXPOSED_HEADERS = "Link, Content-Location, ETag, Last-Modified, Vary, X-Matrixkg-Truncated, X-Matrixkg-Row-Limit"


Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class Content:
    """What a document shows, computed only once a full response is to be sent (not for a 304)."""

    view: Callable[[], PageView]
    triples: Callable[[], Iterable[Triple]]
    page_links: Mapping[str, str]


class BadParameter(MatrixkgError):
    """A query-string parameter with a value the service cannot use."""

    status = 400


# --- validators (RFC 9110 §8.8) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Validators:
    """``ETag`` and ``Last-Modified`` of every representation, derived once from the published build."""

    seed: str
    last_modified: datetime

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> Validators:
        """Return the validators of a build: one seed for its ETags, its creation time."""
        fields = (manifest.created, manifest.base_uri, str(manifest.quads), manifest.version, __version__)
        seed = "\n".join(fields)
        return cls(hashlib.sha256(seed.encode("utf-8")).hexdigest(), datetime.fromisoformat(manifest.created))

    def etag(self, *parts: str) -> str:
        """Return a strong entity tag for one representation (RFC 9110 §8.8.3): build, format, path, page."""
        digest = hashlib.sha256("\n".join((self.seed, *parts)).encode("utf-8")).hexdigest()[:32]
        return f'"{digest}"'

    @property
    def http_date(self) -> str:
        """Return ``Last-Modified`` as an HTTP-date (RFC 9110 §5.6.7)."""
        return format_datetime(self.last_modified, usegmt=True)

    def not_modified(self, request: Request, etag: str) -> bool:
        """Return whether a conditional GET/HEAD may be answered 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2)."""
        if request.method not in ("GET", "HEAD"):
            return False
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            # §13.1.2: If-None-Match uses the weak comparison; when present, If-Modified-Since is ignored.
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        if_modified_since = request.headers.get("if-modified-since")
        if if_modified_since is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # §13.1.3: an invalid date makes the condition ignored
        if since.tzinfo is None:
            return False
        return self.last_modified.replace(microsecond=0) <= since


# --- CORS ---------------------------------------------------------------------------------------------------
class PublicCors:
    """Mark every response readable from any origin and answer CORS preflight requests.

    Everything served is public and read-only, and no credentials are used, so ``*`` is safe. It is sent
    whether or not the request carries ``Origin``: a shared cache must never keep a copy without it
    (Fetch standard §3.2.3, CORS protocol and HTTP caches).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        preflight_asked = "origin" in headers and "access-control-request-method" in headers
        if scope["method"] == "OPTIONS" and preflight_asked:
            preflight = Response(status_code=204, headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                # Public, credential-free data: whatever headers the page wants to send are fine.
                "Access-Control-Allow-Headers": headers.get("access-control-request-headers", ""),
                "Access-Control-Max-Age": "86400",
            })
            await preflight(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() not in (
                    b"access-control-allow-origin", b"access-control-expose-headers")]
                raw.append((b"access-control-allow-origin", b"*"))
                raw.append((b"access-control-expose-headers", EXPOSED_HEADERS.encode("latin-1")))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_cors)


class HeadAsGet:
    """Answer HEAD on every route as GET without the body (RFC 9110 §9.3.2), routers need not list it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


# --- the service --------------------------------------------------------------------------------------------
class LinkedData:
    """The request handlers, holding what they share: settings, store, pages, IRIs and validators."""

    def __init__(self, settings: Settings, store: Store, pages: Pages, validators: Validators) -> None:
        self.settings = settings
        self.store = store
        self.pages = pages
        self.validators = validators
        self.base = settings.base_uri
        self.minter = Minter(settings.base_uri)
        self.context = jsonld_context()
        self.ontology = self._ontology_graph()

    def _ontology_graph(self) -> Graph:
        """Return the ontology as published in this build's ontology graph (empty when the build has none)."""
        graph_iri = self.minter.graph("ontology")
        result = self.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
        graph = _new_graph()
        if isinstance(result, GraphResult):
            for triple in result.graph:
                graph.add(triple)
        return graph

    # common pieces -------------------------------------------------------------------------------------
    def common_context(self, canonical: str, cite_uri: str,
                       alternates: Sequence[Mapping[str, str]]) -> dict[str, Any]:
        """Return the template variables every page receives."""
        return {
            "alternates": list(alternates),
            "canonical": canonical,
            "base_uri": self.base,
            "static_url": self.base + "static/",
            "cite_uri": cite_uri,
        }

    def render(self, request: Request, view: PageView, common: Mapping[str, Any], status_code: int = 200,
               headers: Mapping[str, str] | None = None) -> Response:
        """Return the template response of a page view, with the common variables added."""
        return self.pages.templates.TemplateResponse(request, view.template, {**view.context, **common},
                                                     status_code=status_code, headers=dict(headers or {}))

    def serialize(self, triples: Iterable[Triple], rdf_format: RdfFormat) -> bytes:
        """Return *triples* in an RDF format, with the project's prefixes (and inline context for JSON-LD)."""
        out = _new_graph()
        for triple in triples:
            out.add(triple)
        if rdf_format.serializer == "json-ld":
            return out.serialize(format="json-ld", context=self.context, auto_compact=True).encode("utf-8")
        return out.serialize(format=rdf_format.serializer or "", encoding="utf-8")

    def wants_html(self, request: Request) -> bool:
        """Return whether the client prefers an HTML page (a browser) to plain text, for error pages."""
        try:
            return negotiate(request.headers.get("accept"), FORMATS, wildcard_choice=TURTLE) is HTML
        except NotAcceptable:
            return False

    # routes ----------------------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        """Return the home page."""
        etag = self.validators.etag("home")
        headers = self._cache_headers(etag)
        if self.validators.not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        common = self.common_context(self.base, "", [])
        return _head_safe(request, self.render(request, self.pages.home_view(), common, headers=headers))

    def healthz(self, request: Request) -> Response:
        """Return 200 "ok" while the process serves requests."""
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})

    def context_document(self, request: Request) -> Response:
        """Return the published JSON-LD context."""
        etag = self.validators.etag("context")
        headers = {**self._cache_headers(etag), "Content-Type": "application/ld+json"}
        if self.validators.not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        body = _json_bytes({"@context": self.context})
        return _head_safe(request, Response(body, headers=headers))

    def see_other(self, request: Request, path: str) -> Response:
        """Redirect a thing's IRI to the document describing it (Cool URIs §4.2, one generic document)."""
        iri = self.minter.id_path_to_iri("/id/" + path)
        if not path or not self.store.exists(iri):
            raise NotFound(f"nothing is identified by {iri}")
        return RedirectResponse(self.minter.doc_url(iri), status_code=303, headers={"Vary": "Accept"})

    def void(self, request: Request) -> Response:
        """Redirect the well-known VoID location to the dataset's description (VoID §6.2)."""
        return RedirectResponse(self.minter.doc_url(self.minter.dataset()), status_code=303,
                                headers={"Vary": "Accept"})

    def document(self, request: Request, path: str) -> Response:
        """Return the description of a resource in the negotiated (or the extension's) format."""
        iri, stem, fixed = self._resolve(path)
        page = _page_number(request)

        def load() -> Content:
            size = self.settings.backlink_page_size
            backlinks = self.store.backlinks(iri, (page - 1) * size, size)
            if page > 1 and backlinks.offset >= backlinks.total:
                raise NotFound(f"{iri} has {backlinks.total} incoming links: there is no page {page}")
            description = self.store.describe(iri)
            return Content(view=lambda: self.pages.resource_view(iri, description, backlinks),
                           triples=lambda: chain(description, backlinks.graph),
                           page_links=_page_links(self.base + "doc/" + path, backlinks))

        return self._represent(request, f"doc/{stem}", self.base + "doc/" + stem, str(iri), fixed, page, load)

    def ontology_document(self, request: Request, name: str) -> Response:
        """Return the ontology as a page or in an RDF format (``/def/matrixkg``, ``/def/matrixkg.ttl``)."""
        stem, fixed = split_extension(name)
        if stem != ONTOLOGY_NAME or len(self.ontology) == 0:
            raise NotFound(f"no vocabulary at /def/{name}")
        doc = self.base + "def/" + ONTOLOGY_NAME
        content = Content(view=self.pages.ontology_view, triples=lambda: self.ontology, page_links={})
        return self._represent(request, f"def/{stem}", doc, str(ONTOLOGY_IRI), fixed, 1, lambda: content)

    # helpers -----------------------------------------------------------------------------------------------
    def _resolve(self, path: str) -> tuple[URIRef, str, RdfFormat | None]:
        """Return the IRI a ``/doc/`` path describes, that path without extension, and its format."""
        stem, fixed = split_extension(path)
        if stem:
            iri = self.minter.id_path_to_iri("/doc/" + stem)
            if self.store.exists(iri):
                return iri, stem, fixed
        if fixed is not None and path:
            # An IRI may itself end in something that looks like an extension; it is then described as is.
            iri = self.minter.id_path_to_iri("/doc/" + path)
            if self.store.exists(iri):
                return iri, path, None
        raise NotFound(f"no description at /doc/{path}")

    def _cache_headers(self, etag: str) -> dict[str, str]:
        return {
            "ETag": etag,
            "Last-Modified": self.validators.http_date,
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        }

    def _represent(self, request: Request, key: str, doc: str, cite: str, fixed: RdfFormat | None, page: int,
                   load: Callable[[], Content]) -> Response:
        """Return one representation of a document: negotiation, validators and 304 first, then content."""
        chosen = fixed or negotiate(request.headers.get("accept"), FORMATS, wildcard_choice=TURTLE)
        query = f"?{BACKLINKS_PARAM}={page}" if page > 1 else ""
        etag = self.validators.etag(key, chosen.key, str(page))
        headers = {**self._cache_headers(etag), "Content-Location": doc + chosen.extension + query}
        if fixed is None:
            headers["Vary"] = "Accept"  # RFC 9110 §12.5.5: the choice depended on Accept
        if self.validators.not_modified(request, etag):
            # RFC 9110 §15.4.5: a 304 carries the validators, Content-Location and Vary of the 200, no body;
            # the store is not asked anything.
            return Response(status_code=304, headers=headers)
        content = load()
        alternates = [{"label": f.label, "media_type": f.media_type, "url": doc + f.extension + query}
                      for f in FORMATS if f is not chosen]
        links = [f'<{a["url"]}>; rel="alternate"; type="{a["media_type"]}"' for a in alternates]
        links.append(f'<{doc}>; rel="canonical"')
        # RFC 6892: this document describes the thing named by its /id/ IRI.
        links.append(f'<{cite}>; rel="describes"')
        links.extend(f'<{url}>; rel="{rel}"' for rel, url in content.page_links.items())
        headers["Link"] = ", ".join(links)
        if chosen is HTML:
            common = self.common_context(doc, cite, alternates)
            return _head_safe(request, self.render(request, content.view(), common, headers=headers))
        body = self.serialize(content.triples(), chosen)
        headers["Content-Type"] = chosen.content_type
        return _head_safe(request, Response(body, headers=headers))

    # errors ------------------------------------------------------------------------------------------------
    def error_response(self, request: Request, status: int, message: str) -> Response:
        """Return the one response shape of every error: an HTML page for browsers, plain text otherwise."""
        headers = {"Vary": "Accept", "Cache-Control": "no-store"}
        if status == 404 and self.wants_html(request):
            common = self.common_context("", "", [])
            view = self.pages.not_found_view(request.url.path)
            return _head_safe(request, self.render(request, view, common, status_code=404, headers=headers))
        return _head_safe(request, PlainTextResponse(message + "\n", status_code=status, headers=headers))

    async def on_matrixkg_error(self, request: Request, exc: Exception) -> Response:
        """Map a typed matrixkg error to its status (``exc.status``)."""
        assert isinstance(exc, MatrixkgError)
        # Messages of typed errors are written to be shown (they name the offending value, never a traceback).
        if exc.status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        message = str(exc)
        if isinstance(exc, NotAcceptable):
            message = "Not Acceptable. This resource is available as: " + ", ".join(exc.offered)
        return self.error_response(request, exc.status, message)

    async def on_http_error(self, request: Request, exc: Exception) -> Response:
        """Map routing errors (unknown path, method not allowed) to the same response shape."""
        assert isinstance(exc, StarletteHTTPException)
        response = self.error_response(request, exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def on_unexpected_error(self, request: Request, exc: Exception) -> Response:
        """Answer 500 without leaking the traceback (it goes to the log)."""
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return PlainTextResponse("Internal server error.\n", status_code=500)


def create_app(settings: Settings, store: Store) -> FastAPI:
    """Return the web application over a published build and its store."""
    validators = Validators.from_manifest(Manifest.read(settings.build_dir))
    pages = Pages(settings, store)
    _require_autoescape(pages)
    service = LinkedData(settings, store, pages, validators)

    # The OpenAPI description (of /sparql and /queries) is served; the interactive docs pages are not, as
    # they load their scripts from a third-party CDN.
    app = FastAPI(title="matrixkg", version=__version__, docs_url=None, redoc_url=None)
    get = ["GET", "HEAD"]
    app.add_api_route("/", service.home, methods=get, include_in_schema=False)
    app.add_api_route("/healthz", service.healthz, methods=get, include_in_schema=False)
    app.add_api_route("/context.jsonld", service.context_document, methods=get, include_in_schema=False)
    app.add_api_route("/id/{path:path}", service.see_other, methods=get, include_in_schema=False)
    app.add_api_route("/doc/{path:path}", service.document, methods=get, include_in_schema=False)
    app.add_api_route("/def/{name}", service.ontology_document, methods=get, include_in_schema=False)
    app.add_api_route("/.well-known/void", service.void, methods=get, include_in_schema=False)
    app.include_router(create_sparql_router(settings, store, pages))
    # Served from the installed package, never from the working directory.
    app.mount("/static", StaticFiles(packages=[("matrixkg", "static")]), name="static")

    app.add_exception_handler(MatrixkgError, service.on_matrixkg_error)
    app.add_exception_handler(StarletteHTTPException, service.on_http_error)
    app.add_exception_handler(Exception, service.on_unexpected_error)
    app.add_middleware(HeadAsGet)
    app.add_middleware(PublicCors)
    return app


# --- small helpers ------------------------------------------------------------------------------------------
def _new_graph() -> Graph:
    """Return an empty graph with the project's prefixes bound (and rdflib's many defaults left out)."""
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _page_number(request: Request) -> int:
    """Return the 1-based backlinks page asked for by ``?backlinks=N``."""
    raw = request.query_params.get(BACKLINKS_PARAM)
    if raw is None:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise BadParameter(f"{BACKLINKS_PARAM} must be a page number from 1, got {raw!r}")
    return int(raw)


def _page_links(url: str, backlinks: Backlinks) -> dict[str, str]:
    """Return the ``prev``/``next`` URLs of the backlinks pages around the current one."""
    links: dict[str, str] = {}
    page = backlinks.offset // backlinks.limit + 1
    if page > 1:
        links["prev"] = url if page == 2 else f"{url}?{BACKLINKS_PARAM}={page - 1}"
    if backlinks.offset + backlinks.limit < backlinks.total:
        links["next"] = f"{url}?{BACKLINKS_PARAM}={page + 1}"
    return links


def _head_safe(request: Request, response: Response) -> Response:
    """Return *response*, or for HEAD the same status and headers without the body (RFC 9110 §9.3.2)."""
    if request.method != "HEAD":
        return response
    return Response(status_code=response.status_code, headers=dict(response.headers))


def _require_autoescape(pages: Pages) -> None:
    """Refuse to serve pages whose templates would not escape data (every literal is untrusted text)."""
    autoescape = pages.templates.env.autoescape
    enabled = autoescape("page.html") if callable(autoescape) else bool(autoescape)
    if not enabled:
        raise ConfigError("HTML templates must be rendered with autoescaping on")
