"""A crawl of the live server: every IRI the bundled data mints dereferences, in every format, to one graph.

Real clients over real HTTP: rdflib follows the 303 itself, Redland's ``rapper`` checks the Turtle, N-Triples
and RDF/XML syntax, and pyld expands the JSON-LD with network access refused (its context is inline).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from matrixkg.formats import FORMATS, HTML, JSONLD, NTRIPLES, RDF_FORMATS, RDFXML, TURTLE, RdfFormat
from matrixkg.store import OxigraphStore, SelectResult
from tests.conftest import LiveServer

pytestmark = pytest.mark.live

THREADS = 4
RAPPER_SYNTAX = {TURTLE.key: "turtle", NTRIPLES.key: "ntriples", RDFXML.key: "rdfxml"}
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Crawled:
    """Every representation of one minted IRI, fetched once."""

    iri: str
    bodies: dict[str, httpx.Response]


def _parallel(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, items))


@pytest.fixture(scope="session")
def minted(live_server: LiveServer) -> list[str]:
    """Return every IRI under the server's ``/id/`` that the build uses as a subject or an object."""
    store = OxigraphStore(live_server.settings.build_dir, workers=1)
    try:
        result = store.query(
            "SELECT DISTINCT ?iri WHERE { { ?iri ?p ?o } UNION { ?s ?p ?iri } "
            f'FILTER(isIRI(?iri) && STRSTARTS(STR(?iri), "{live_server.url}id/")) }}')
    finally:
        store.close()
    assert isinstance(result, SelectResult)
    iris = sorted(str(row["iri"]) for row in result.rows)
    assert len(iris) > 50, "the bundled data should mint a few hundred IRIs"
    return iris


@pytest.fixture(scope="session")
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Return one HTTP client for the whole crawl."""
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def crawled(minted: list[str], http: httpx.Client, live_server: LiveServer) -> list[Crawled]:
    """Return every format of every minted IRI, fetched by extension URL."""

    def fetch(iri: str) -> Crawled:
        doc = live_server.url + "doc/" + iri[len(live_server.url + "id/"):]
        return Crawled(iri, {fmt.key: http.get(doc + fmt.extension) for fmt in FORMATS})

    return _parallel(fetch, minted)


def _refuse_network(url: str, options: object = None) -> None:
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def parse(fmt: RdfFormat, text: str, base: str) -> Graph:
    """Return the graph of an RDF body; JSON-LD goes through pyld, with every fetch refused."""
    graph = Graph()
    if fmt is JSONLD:
        nquads = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads",
                                                  "documentLoader": _refuse_network})
        graph.parse(data=nquads, format="nt")  # default-graph quads are N-Triples lines
    else:
        graph.parse(data=text, format=fmt.serializer, publicID=base)
    return graph


def _about(graph: Graph, iri: str) -> int:
    node = URIRef(iri)
    return len(list(graph.triples((node, None, None)))) + len(list(graph.triples((None, None, node))))


# --- the tests ---------------------------------------------------------------------------------------------
def test_every_id_redirects_303_to_its_document(minted: list[str], http: httpx.Client,
                                                  live_server: LiveServer) -> None:
    def check(iri: str) -> str | None:
        response = http.head(iri)
        expected = live_server.url + "doc/" + iri[len(live_server.url + "id/"):]
        if response.status_code != 303 or response.headers.get("location") != expected:
            return f"{iri}: {response.status_code} {response.headers.get('location')}"
        return None

    problems = [p for p in _parallel(check, minted) if p]
    assert not problems, "\n".join(problems)


def test_rdflib_dereferences_every_iri(minted: list[str]) -> None:
    # Graph.parse(url) sends rdflib's own Accept header and follows the 303 (Cool URIs §4.2).
    def check(iri: str) -> str | None:
        graph = Graph()
        graph.parse(iri)
        return None if _about(graph, iri) else f"{iri}: no triple about it"

    problems = [p for p in _parallel(check, minted) if p]
    assert not problems, "\n".join(problems)


def test_every_format_is_served(crawled: list[Crawled]) -> None:
    media_types = {fmt.key: fmt.media_type for fmt in FORMATS}
    problems = [f"{c.iri} {key}: {r.status_code} {r.headers.get('content-type')}"
                for c in crawled for key, r in c.bodies.items()
                if r.status_code != 200 or r.headers["content-type"].split(";")[0] != media_types[key]]
    assert not problems, "\n".join(problems[:50])


def test_rdf_formats_hold_isomorphic_graphs(crawled: list[Crawled], live_server: LiveServer) -> None:
    def check(item: Crawled) -> str | None:
        reference = parse(TURTLE, item.bodies[TURTLE.key].text, item.iri)
        if not _about(reference, item.iri):
            return f"{item.iri}: no triple about it in Turtle"
        for fmt in RDF_FORMATS:
            graph = parse(fmt, item.bodies[fmt.key].text, item.iri)
            if not isomorphic(reference, graph):
                _, in_turtle, in_other = graph_diff(to_isomorphic(reference), to_isomorphic(graph))
                return (f"{item.iri}: {fmt.label} differs from Turtle\n"
                        f"only in Turtle:\n{in_turtle.serialize(format='nt')}"
                        f"only in {fmt.label}:\n{in_other.serialize(format='nt')}")
        return None

    problems = [p for p in _parallel(check, crawled) if p]
    assert not problems, "\n".join(problems[:5])


@pytest.mark.parametrize("fmt", [TURTLE, NTRIPLES, RDFXML], ids=lambda f: f.key)
def test_rapper_accepts_and_counts_the_same_triples(fmt: RdfFormat, crawled: list[Crawled],
                                                    tmp_path: Path) -> None:
    rapper = shutil.which("rapper")
    assert rapper is not None, "rapper (Debian raptor2-utils) is installed by .ci/install"

    def check(numbered: tuple[int, Crawled]) -> str | None:
        number, item = numbered
        path = tmp_path / f"{number}{fmt.extension}"
        path.write_bytes(item.bodies[fmt.key].content)
        run = subprocess.run([rapper, "-i", RAPPER_SYNTAX[fmt.key], "-c", str(path), item.iri],
                             capture_output=True, text=True, timeout=60, check=False)
        expected = len(parse(fmt, item.bodies[fmt.key].text, item.iri))
        if run.returncode != 0 or f"returned {expected} triples" not in run.stderr:
            return f"{item.iri}: rapper exit {run.returncode}, expected {expected} triples:\n{run.stderr}"
        return None

    problems = [p for p in _parallel(check, enumerate(crawled)) if p]
    assert not problems, "\n".join(problems[:5])


def test_html_pages_link_their_data(crawled: list[Crawled]) -> None:
    problems = []
    for item in crawled:
        response = item.bodies[HTML.key]
        links = response.headers.get("link", "")
        if any(f'type="{fmt.media_type}"' not in links for fmt in RDF_FORMATS):
            problems.append(f"{item.iri}: Link header lacks an alternate: {links}")
    assert not problems, "\n".join(problems[:10])
