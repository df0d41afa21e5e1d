"""The web tier: /id → 303 → /doc, negotiation by Accept and by extension, headers, caching, paging, errors.

Most tests run in-process (TestClient) over a small hand-written dataset, published without validation, so
that they do not depend on the parser; the crawl of the real data is in ``test_crawl.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from matrixkg.build import publish_nquads
from matrixkg.config import Settings
from matrixkg.errors import ConfigError
from matrixkg.formats import FORMATS, HTML, JSONLD, NTRIPLES, RDF_FORMATS, RDFXML, TURTLE, RdfFormat
from matrixkg.pages import Pages
from matrixkg.store import OxigraphStore, Store
from matrixkg.web import create_app

BASE = "http://localhost:8000/"
PROXIED = "https://data.example.org/kg/"
PAGE_SIZE = 50
ENTRIES = 500

# Accept headers real clients send, as constants so that a regression names the client.
# Firefox/Chrome for a top-level navigation.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
# curl and wget send this when no -H is given.
CURL = "*/*"
# rdflib 7 Graph().parse(url) without format: every parser media type it knows, all at q=1
# (rdflib/parser.py, URLInputSource.__init__).
RDFLIB = ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
          "application/n-quads, application/trix, application/trig")
# rdflib with format="json-ld", "nt" and "xml".
RDFLIB_JSONLD = "application/ld+json, application/json;q=0.9, */*;q=0.1"
RDFLIB_NT = "text/plain, */*;q=0.1"
RDFLIB_XML = "application/rdf+xml, */*;q=0.1"
# Apache Jena RIOT (WebContent.defaultGraphAcceptHeader, Jena 4/5), used by RDFDataMgr.read and riot.
JENA = "text/turtle,application/n-triples;q=0.9,application/ld+json;q=0.8,application/rdf+xml;q=0.7,*/*;q=0.3"
# Comunica's link traversal / LDflex, as reported in assemblee-virtuelle/semapps#98.
COMUNICA = ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
            "application/n-triples;q=0.8,text/turtle;q=0.5,*/*;q=0.1")
# Redland rapper 2.0.x, which lists HTML twice (q=0.2 and q=0.6); the more generous weight must not win
# over the RDF types at q=1.
RAPPER = ("application/rdf+xml, text/rdf;q=0.6, application/n-triples, text/plain;q=0.1, text/turtle, "
          "application/x-turtle, application/turtle, text/n3;q=0.3, text/rdf+n3;q=0.3, "
          "application/rdf+n3;q=0.3, application/x-trig, application/rss;q=0.8, application/rss+xml;q=0.8, "
          "text/rss;q=0.8, application/xml;q=0.3, text/xml;q=0.3, application/atom+xml;q=0.3, "
          "text/html;q=0.2, application/xhtml+xml;q=0.4, text/html;q=0.6, application/xhtml+xml;q=0.8, "
          "text/x-nquads, */*;q=0.1")

CLIENTS: dict[str, tuple[str | None, RdfFormat]] = {
    "browser": (BROWSER, HTML),
    "curl": (CURL, TURTLE),
    "no Accept header": (None, TURTLE),
    "rdflib": (RDFLIB, TURTLE),
    "rdflib json-ld": (RDFLIB_JSONLD, JSONLD),
    "rdflib nt": (RDFLIB_NT, NTRIPLES),
    "rdflib xml": (RDFLIB_XML, RDFXML),
    "jena": (JENA, TURTLE),
    "comunica": (COMUNICA, JSONLD),
    "rapper": (RAPPER, TURTLE),
}

HOSTILE = """<script>alert(1)</script> "double" 'single' </script><!-- & done"""


# --- the test dataset ---------------------------------------------------------------------------------------
def dataset(base: str) -> str:
    """Return N-Quads of a small dataset under *base*: a hub with many incoming links, hostile literals."""
    mkg = "https://w3id.org/matrixkg/ns#"
    skos = "http://www.w3.org/2004/02/skos/core#"
    dct = "http://purl.org/dc/terms/"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    skeleton = f"<{base}id/graph/skeleton>"
    source = f"<{base}id/graph/source/test>"
    ontology = f"<{base}id/graph/ontology>"
    matrix, cell, category = f"<{base}id/matrix/alcohol>", f"<{base}id/matrix/alcohol/cell/E4>", \
        f"<{base}id/category/S>"
    lines = [
        f"{matrix} <{rdf_type}> <{mkg}Matrix> {skeleton} .",
        f'{matrix} <{skos}prefLabel> "Alcohol Matrix"@en {skeleton} .',
        f"{cell} <{rdf_type}> <{mkg}Cell> {skeleton} .",
        f'{cell} <{skos}notation> "E4" {skeleton} .',
        f"{cell} <{mkg}inMatrix> {matrix} {skeleton} .",
        f'{cell} <{skos}prefLabel> "Cell E4 — Zürich naïve ✓"@en {skeleton} .',
        f"{category} <{rdf_type}> <{mkg}Category> {skeleton} .",
        f'{category} <{skos}prefLabel> "Seminal study"@en {skeleton} .',
        f'{category} <{skos}notation> "S" {skeleton} .',
        f"<{mkg.rstrip('#')}> <{rdf_type}> <http://www.w3.org/2002/07/owl#Ontology> {ontology} .",
        f"<{mkg}Entry> <{rdf_type}> <http://www.w3.org/2002/07/owl#Class> {ontology} .",
        f'<{mkg}Entry> <http://www.w3.org/2000/01/rdf-schema#label> "Entry"@en {ontology} .',
        # An IRI that itself ends like a format extension still dereferences.
        f'<{base}id/document/annex.ttl> <{dct}title> "Annex" {source} .',
        f"<{base}id/document/annex.ttl> <{rdf_type}> <{mkg}Document> {source} .",
        f'<{base}id/document/hostile> <{dct}title> "{_nt_escape(HOSTILE)}" {source} .',
        f'<{base}id/document/hostile> <{dct}abstract> "line one\\nline two\\ttab \\\\ backslash" {source} .',
        f"<{base}id/document/hostile> <{rdf_type}> <{mkg}Document> {source} .",
        f'<{base}id/document/hostile> <http://purl.org/spar/fabio/hasPublicationYear> "2012"^^<{xsd}gYear> '
        f"{source} .",
    ]
    for n in range(1, ENTRIES + 1):
        entry = f"<{base}id/matrix/alcohol/cell/E4/entry/e{n:03d}>"
        lines += [
            f"{entry} <{rdf_type}> <{mkg}Entry> {source} .",
            f"{entry} <{mkg}inCell> {cell} {source} .",
            f"{entry} <{mkg}category> {category} {source} .",
            f'{entry} <{dct}title> "Entry {n}" {source} .',
            f'{entry} <{mkg}position> "{n}"^^<{xsd}integer> {source} .',
        ]
    lines.append(f"<{base}id/matrix/alcohol/cell/E4/entry/e001> <{mkg}describes> <{base}id/document/hostile> "
                 f"{source} .")
    return "\n".join(lines) + "\n"


def _nt_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


CATEGORY = "id/category/S"
CELL = "id/matrix/alcohol/cell/E4"
HOSTILE_DOC = "id/document/hostile"


@pytest.fixture(scope="module")
def make_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., TestClient]]:
    """Return a factory of test clients over the test dataset published under a given base IRI."""
    stores: dict[str, tuple[Settings, OxigraphStore]] = {}

    def make(base: str = BASE, raise_server_exceptions: bool = True) -> TestClient:
        if base not in stores:
            folder = tmp_path_factory.mktemp("web")
            source = folder / "data.nq"
            source.write_text(dataset(base), encoding="utf-8")
            settings = Settings(base_uri=base, build_dir=folder / "build", backlink_page_size=PAGE_SIZE)
            publish_nquads(source, settings.build_dir, base)
            stores[base] = (settings, OxigraphStore(settings.build_dir, workers=1))
        settings, store = stores[base]
        return TestClient(create_app(settings, store), raise_server_exceptions=raise_server_exceptions)

    yield make
    for _, store in stores.values():
        store.close()


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """Return a client of the app over the test dataset under the default base."""
    return make_client()


def parse_body(fmt: RdfFormat, text: str, base: str = BASE) -> Graph:
    """Return the graph in an RDF response body (JSON-LD through pyld, without any network access)."""
    graph = Graph()
    if fmt is JSONLD:
        nquads = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads"})
        graph.parse(data=nquads, format="nt")  # default-graph quads are N-Triples lines
    else:
        graph.parse(data=text, format=fmt.serializer, publicID=base)
    return graph


def link_targets(header: str) -> dict[tuple[str, str | None], str]:
    """Return ``{(rel, type): url}`` of a Link header."""
    found = {}
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[a-z]+="[^"]*")*)', header):
        params = dict(re.findall(r'([a-z]+)="([^"]*)"', match.group(2)))
        found[(params["rel"], params.get("type"))] = match.group(1)
    return found


# --- /id → 303 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_id_redirects_303_to_the_generic_document(client: TestClient, method: str) -> None:
    response = client.request(method, "/" + CELL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == BASE + "doc/matrix/alcohol/cell/E4"
    assert response.headers["vary"] == "Accept"
    assert response.headers["access-control-allow-origin"] == "*"


def test_unknown_id_is_404(client: TestClient) -> None:
    response = client.get("/id/matrix/alcohol/cell/Z9", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


# --- negotiation, generated from the formats table ----------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_accept_selects_each_format(client: TestClient, fmt: RdfFormat) -> None:
    for media_type in fmt.media_types:
        response = client.get("/doc/" + CELL[3:], headers={"Accept": media_type})
        assert response.status_code == 200, media_type
        assert response.headers["content-type"].split(";")[0] == fmt.media_type
        assert response.headers["vary"] == "Accept"
        assert response.headers["content-location"] == f"{BASE}doc/{CELL[3:]}{fmt.extension}"


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_extension_selects_each_format_whatever_the_accept_header(client: TestClient, fmt: RdfFormat) -> None:
    response = client.get(f"/doc/{CELL[3:]}{fmt.extension}", headers={"Accept": "application/x-nothing"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == fmt.media_type
    assert "vary" not in response.headers  # the URL alone fixes the format (RFC 9110 §12.5.5)
    assert response.headers["content-location"] == f"{BASE}doc/{CELL[3:]}{fmt.extension}"


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_links_name_every_other_format_the_document_and_the_thing(client: TestClient, fmt: RdfFormat) -> None:
    response = client.get(f"/doc/{CELL[3:]}{fmt.extension}")
    links = link_targets(response.headers["link"])
    doc = f"{BASE}doc/{CELL[3:]}"
    for other in FORMATS:
        if other is not fmt:
            assert links[("alternate", other.media_type)] == doc + other.extension
    assert ("alternate", fmt.media_type) not in links
    assert links[("canonical", None)] == doc
    assert links[("describes", None)] == BASE + CELL


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.key)
def test_preferred_by_q_value(client: TestClient, fmt: RdfFormat) -> None:
    others = ", ".join(f"{o.media_type};q=0.5" for o in FORMATS if o is not fmt)
    response = client.get("/doc/" + CELL[3:], headers={"Accept": f"{others}, {fmt.media_type};q=0.9"})
    assert response.headers["content-type"].split(";")[0] == fmt.media_type


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.key)
def test_q_zero_excludes(client: TestClient, fmt: RdfFormat) -> None:
    excluded = ", ".join(f"{media};q=0" for media in fmt.media_types)
    response = client.get("/doc/" + CELL[3:], headers={"Accept": f"{excluded}, */*;q=0.1"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] != fmt.media_type


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_type_wildcard_with_a_weight_for_the_format(client: TestClient, fmt: RdfFormat) -> None:
    kind = fmt.media_type.split("/")[0]
    response = client.get("/doc/" + CELL[3:], headers={"Accept": f"{kind}/*;q=0.2, {fmt.media_type};q=0.3"})
    assert response.headers["content-type"].split(";")[0] == fmt.media_type


@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_real_clients_get_their_format(client: TestClient, name: str) -> None:
    accept, expected = CLIENTS[name]
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/doc/" + CELL[3:], headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected.media_type


def test_nothing_acceptable_is_406_listing_what_is(client: TestClient) -> None:
    response = client.get("/doc/" + CELL[3:], headers={"Accept": "application/pdf, image/*"})
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("text/plain")
    for fmt in FORMATS:
        assert fmt.media_type in response.text


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_head_has_the_headers_of_get_and_no_body(client: TestClient, fmt: RdfFormat) -> None:
    get = client.get(f"/doc/{CELL[3:]}{fmt.extension}")
    head = client.head(f"/doc/{CELL[3:]}{fmt.extension}")
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "etag", "last-modified", "link", "content-location", "cache-control",
                 "content-length"):
        assert head.headers[name] == get.headers[name], name


@pytest.mark.parametrize("path", ["/", "/healthz", "/context.jsonld", "/def/matrixkg", "/def/matrixkg.ttl",
                                  "/static/context.jsonld", "/doc/" + CELL[3:]])
def test_head_everywhere(client: TestClient, path: str) -> None:
    get = client.get(path, headers={"Accept": BROWSER})
    head = client.head(path, headers={"Accept": BROWSER})
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.key)
def test_every_rdf_format_holds_the_same_graph(client: TestClient, fmt: RdfFormat) -> None:
    reference = parse_body(TURTLE, client.get(f"/doc/{CELL[3:]}.ttl").text)
    graph = parse_body(fmt, client.get(f"/doc/{CELL[3:]}{fmt.extension}").text)
    if not isomorphic(reference, graph):
        _, only_turtle, only_other = graph_diff(to_isomorphic(reference), to_isomorphic(graph))
        pytest.fail(f"{fmt.label} differs.\nOnly in Turtle:\n{only_turtle.serialize(format='nt')}\n"
                    f"Only in {fmt.label}:\n{only_other.serialize(format='nt')}")
    notation = URIRef("http://www.w3.org/2004/02/skos/core#notation")
    assert (URIRef(BASE + CELL), notation, Literal("E4")) in graph


def test_responses_are_byte_stable(client: TestClient) -> None:
    # Strong ETags promise byte-identical representations (RFC 9110 §8.8.3).
    for fmt in FORMATS:
        url = f"/doc/{CELL[3:]}{fmt.extension}"
        assert client.get(url).content == client.get(url).content, fmt.key


def test_jsonld_context_is_inline_and_published(client: TestClient) -> None:
    body = client.get(f"/doc/{CELL[3:]}.jsonld").json()
    published = client.get("/context.jsonld")
    assert published.headers["content-type"].startswith("application/ld+json")
    assert body["@context"] == published.json()["@context"]
    assert client.get("/static/context.jsonld").json() == published.json()
    assert body["@context"]["mkg"] == "https://w3id.org/matrixkg/ns#"


# --- caching ------------------------------------------------------------------------------------------------
def test_etags_differ_per_representation(client: TestClient) -> None:
    tags = {client.get(f"/doc/{CELL[3:]}{fmt.extension}").headers["etag"] for fmt in FORMATS}
    tags.add(client.get(f"/doc/{CATEGORY[3:]}.ttl").headers["etag"])
    assert len(tags) == len(FORMATS) + 1
    assert all(re.fullmatch(r'"[0-9a-f]+"', tag) for tag in tags)  # strong


@pytest.mark.parametrize("accept", [BROWSER, JENA], ids=["html", "turtle"])
def test_if_none_match_gives_304(client: TestClient, accept: str) -> None:
    first = client.get("/doc/" + CELL[3:], headers={"Accept": accept})
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = client.get("/doc/" + CELL[3:], headers={"Accept": accept, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["vary"] == "Accept"
    weak_tag = "W/" + first.headers["etag"]
    weak = client.get("/doc/" + CELL[3:], headers={"Accept": accept, "If-None-Match": weak_tag})
    assert weak.status_code == 304  # If-None-Match compares weakly (RFC 9110 §13.1.2)
    other = client.get("/doc/" + CELL[3:], headers={"Accept": accept, "If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_304_does_not_ask_the_store(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    etag = client.get(f"/doc/{CATEGORY[3:]}.ttl").headers["etag"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a revalidation should not describe the resource again")

    monkeypatch.setattr(OxigraphStore, "describe", refuse)
    monkeypatch.setattr(OxigraphStore, "backlinks", refuse)
    assert client.get(f"/doc/{CATEGORY[3:]}.ttl", headers={"If-None-Match": etag}).status_code == 304


def test_if_modified_since(client: TestClient) -> None:
    first = client.get(f"/doc/{CELL[3:]}.ttl")
    last_modified = first.headers["last-modified"]
    assert client.get(f"/doc/{CELL[3:]}.ttl", headers={"If-Modified-Since": last_modified}).status_code == 304
    long_ago = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(f"/doc/{CELL[3:]}.ttl", headers={"If-Modified-Since": long_ago}).status_code == 200
    assert client.get(f"/doc/{CELL[3:]}.ttl", headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
    both = {"If-Modified-Since": last_modified, "If-None-Match": '"other"'}
    assert client.get(f"/doc/{CELL[3:]}.ttl", headers=both).status_code == 200


# --- CORS ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/doc/" + CELL[3:], "/" + CELL, "/context.jsonld", "/doc/nothing",
                                  "/def/matrixkg", "/static/context.jsonld"])
def test_cors_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False, headers={"Accept": "text/turtle"})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"]
    # Scripts on other sites must be able to read the SPARQL truncation flag too.
    assert "Link" in exposed and "X-Matrixkg-Truncated" in exposed


def test_cors_preflight(client: TestClient) -> None:
    response = client.options("/doc/" + CELL[3:], headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "if-none-match" in response.headers["access-control-allow-headers"]


# --- errors -------------------------------------------------------------------------------------------------
def test_not_found_is_a_page_for_browsers_and_text_otherwise(client: TestClient) -> None:
    page = client.get("/doc/matrix/alcohol/cell/Z9", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.context["base_uri"] == BASE
    text = client.get("/doc/matrix/alcohol/cell/Z9", headers={"Accept": JENA})
    assert text.status_code == 404 and text.headers["content-type"].startswith("text/plain")
    assert "matrix/alcohol/cell/Z9" in text.text
    unrouted = client.get("/no/such/route", headers={"Accept": CURL})
    assert unrouted.status_code == 404 and unrouted.headers["content-type"].startswith("text/plain")
    head = client.head("/doc/nothing", headers={"Accept": BROWSER})
    assert head.status_code == 404 and head.content == b""


def test_unexpected_errors_are_500_without_traceback(make_client: Callable[..., TestClient],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client(raise_server_exceptions=False)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(OxigraphStore, "describe", explode)
    response = client.get(f"/doc/{CELL[3:]}.ttl")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_page_parameter_is_400(client: TestClient, value: str) -> None:
    response = client.get(f"/doc/{CATEGORY[3:]}.ttl", params={"backlinks": value})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")


# --- paths and the public base ------------------------------------------------------------------------------
def test_an_iri_ending_like_an_extension_still_dereferences(client: TestClient) -> None:
    response = client.get("/doc/document/annex.ttl", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/n-triples")
    assert f"<{BASE}id/document/annex.ttl>" in response.text
    assert response.headers["content-location"] == f"{BASE}doc/document/annex.ttl.nt"


def test_behind_a_reverse_proxy_urls_use_the_public_base(make_client: Callable[..., TestClient]) -> None:
    # The proxy publishes https://data.example.org/kg/ and strips /kg before passing the request on.
    client = make_client(PROXIED)
    redirect = client.get("/" + CELL, follow_redirects=False, headers={"Host": "internal:9000"})
    assert redirect.headers["location"] == PROXIED + "doc/matrix/alcohol/cell/E4"
    response = client.get("/doc/matrix/alcohol/cell/E4", headers={"Accept": BROWSER, "Host": "internal:9000"})
    assert response.headers["content-location"] == PROXIED + "doc/matrix/alcohol/cell/E4.html"
    assert all(url.startswith(PROXIED) for url in link_targets(response.headers["link"]).values())
    assert response.context["static_url"] == PROXIED + "static/"
    assert response.context["cite_uri"] == PROXIED + CELL
    assert "internal:9000" not in response.text and "testserver" not in response.text


# --- HTML ---------------------------------------------------------------------------------------------------
def test_html_page_gets_the_common_context(client: TestClient) -> None:
    response = client.get(f"/doc/{CELL[3:]}", headers={"Accept": BROWSER})
    context = response.context
    assert context["canonical"] == f"{BASE}doc/{CELL[3:]}"
    assert context["cite_uri"] == BASE + CELL
    assert context["base_uri"] == BASE
    assert [a["media_type"] for a in context["alternates"]] == [f.media_type for f in RDF_FORMATS]
    for alternate, fmt in zip(context["alternates"], RDF_FORMATS, strict=True):
        assert alternate["url"] == f"{BASE}doc/{CELL[3:]}{fmt.extension}"


class _HeadLinks(HTMLParser):
    """Collects ``<link rel=… type=… href=…>`` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            self.links.append(dict(attrs))


def test_html_page_advertises_every_rdf_format_in_its_head(client: TestClient) -> None:
    parser = _HeadLinks()
    parser.feed(client.get(f"/doc/{CELL[3:]}", headers={"Accept": BROWSER}).text)
    alternates = {link["type"]: link["href"] for link in parser.links if link.get("rel") == "alternate"}
    for fmt in RDF_FORMATS:
        assert alternates[fmt.media_type] == f"{BASE}doc/{CELL[3:]}{fmt.extension}"
    assert {"rel": "canonical", "href": f"{BASE}doc/{CELL[3:]}"} in parser.links


class _Scripts(HTMLParser):
    """Collects the text of each <script> element with its type."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, str]] = []
        self._type: str | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._inside, self._type = True, dict(attrs).get("type")
            self.scripts.append((self._type, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


@pytest.mark.parametrize("path", [f"/doc/{HOSTILE_DOC[3:]}", "/doc/matrix/alcohol/cell/E4/entry/e001"])
def test_hostile_literals_are_escaped_in_html(client: TestClient, path: str) -> None:
    html = client.get(path, headers={"Accept": BROWSER}).text
    assert "<script>alert(1)</script>" not in html
    assert "</script><!--" not in html
    parser = _Scripts()
    parser.feed(html)
    embedded = [text for kind, text in parser.scripts if kind == "application/ld+json"]
    assert all("alert(1)" not in text for kind, text in parser.scripts if kind != "application/ld+json")
    for text in embedded:
        # Inside a script element "</script" would end it early: "<" must be written \u003c.
        assert "<" not in text
        json.loads(text)
    if path.endswith("hostile"):
        # The headline itself is in the page's JSON-LD, and decodes back to the exact text.
        assert any(HOSTILE in _strings(json.loads(text)) for text in embedded)


def test_hostile_literals_round_trip_in_every_rdf_format(client: TestClient) -> None:
    title = URIRef("http://purl.org/dc/terms/title")
    for fmt in RDF_FORMATS:
        graph = parse_body(fmt, client.get(f"/doc/{HOSTILE_DOC[3:]}{fmt.extension}").text)
        assert graph.value(URIRef(BASE + HOSTILE_DOC), title) == Literal(HOSTILE), fmt.key


# --- backlinks ----------------------------------------------------------------------------------------------
def test_backlinks_are_paged_and_next_links_walk_them_all(client: TestClient) -> None:
    category = URIRef(BASE + CATEGORY)
    url: str | None = f"/doc/{CATEGORY[3:]}.nt"
    seen: set[URIRef] = set()
    pages = 0
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        graph = parse_body(NTRIPLES, response.text)
        incoming = set(graph.subjects(URIRef("https://w3id.org/matrixkg/ns#category"), category))
        assert 0 < len(incoming) <= PAGE_SIZE
        assert not incoming & seen
        seen |= incoming
        pages += 1
        links = link_targets(response.headers["link"])
        if pages > 1:
            assert ("prev", None) in links
        next_url = links.get(("next", None))
        url = next_url.removeprefix(BASE.rstrip("/")) if next_url else None
    assert len(seen) == ENTRIES
    assert pages == ENTRIES // PAGE_SIZE


def test_backlinks_page_past_the_end_is_404(client: TestClient) -> None:
    response = client.get(f"/doc/{CATEGORY[3:]}.ttl", params={"backlinks": str(ENTRIES // PAGE_SIZE + 1)})
    assert response.status_code == 404


class _TableRows(HTMLParser):
    """Counts the body rows of the table with a given class, and collects its caption text."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.rows, self.caption = css_class, 0, ""
        self._depth, self._in_caption = 0, False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and self.css_class in (dict(attrs).get("class") or "").split():
            self._depth = 1
        elif self._depth and tag == "tr":
            self.rows += 1
        self._in_caption = self._in_caption or (bool(self._depth) and tag == "caption")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth = 0
        if tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.caption += data


@pytest.mark.parametrize("page", [1, 2, ENTRIES // PAGE_SIZE])
def test_html_shows_one_bounded_page_of_backlinks(client: TestClient, page: int) -> None:
    response = client.get(f"/doc/{CATEGORY[3:]}", params={"backlinks": str(page)},
                          headers={"Accept": BROWSER})
    assert response.status_code == 200
    backlinks = response.context["backlinks"]
    assert backlinks.total == ENTRIES and backlinks.limit == PAGE_SIZE
    assert len(backlinks.rows) == PAGE_SIZE
    table = _TableRows("backlinks")
    table.feed(response.text)
    assert table.rows == PAGE_SIZE + 1  # the header row and one page of links, never all 500
    assert f"of {ENTRIES}" in table.caption
    links = link_targets(response.headers["link"])
    assert (("next", None) in links) == (page < ENTRIES // PAGE_SIZE)
    assert (("prev", None) in links) == (page > 1)
    if page == 1:
        assert links[("next", None)] == f"{BASE}doc/{CATEGORY[3:]}?backlinks=2"


# --- other routes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_ontology_by_extension_and_negotiation(client: TestClient, fmt: RdfFormat) -> None:
    by_extension = client.get("/def/matrixkg" + fmt.extension)
    by_accept = client.get("/def/matrixkg", headers={"Accept": fmt.media_type})
    for response in (by_extension, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == fmt.media_type
    assert by_accept.headers["content-location"] == f"{BASE}def/matrixkg{fmt.extension}"
    if fmt.is_rdf:
        graph = parse_body(fmt, by_extension.text)
        assert (URIRef("https://w3id.org/matrixkg/ns#Entry"), None, None) in graph


def test_home_healthz_and_unknown_vocabulary(client: TestClient) -> None:
    home = client.get("/", headers={"Accept": BROWSER})
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert home.context["base_uri"] == BASE
    assert client.get("/healthz").text == "ok"
    assert client.get("/def/other").status_code == 404


def test_templates_without_autoescaping_are_refused(make_client: Callable[..., TestClient],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    original = Pages.__init__

    def unsafe(self: Pages, settings: Settings, store: Store) -> None:
        original(self, settings, store)
        self.templates.env.autoescape = False

    monkeypatch.setattr(Pages, "__init__", unsafe)
    with pytest.raises(ConfigError, match="autoescaping"):
        make_client("http://unsafe.example/")


def test_static_files_come_from_the_package(client: TestClient, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert client.get("/static/context.jsonld").status_code == 200


def test_well_known_void_leads_to_the_dataset_description(built: Settings, store: OxigraphStore) -> None:
    client = TestClient(create_app(built, store))
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == BASE + "doc/dataset"
    described = client.get("/doc/dataset.ttl")
    graph = Graph().parse(data=described.text, format="turtle")
    void = "http://rdfs.org/ns/void#"
    assert (URIRef(BASE + "id/dataset"), URIRef(void + "sparqlEndpoint"), URIRef(BASE + "sparql")) in graph
    # Graph names are minted IRIs too, and dereference like any other (architecture note, "URIs").
    assert client.get("/doc/graph/source/alcohol-matrix-cell-E4", headers={"Accept": "text/turtle"}).status_code == 200
