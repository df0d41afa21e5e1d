"""Real SPARQL clients against the live server: SPARQLWrapper, rdflib's SPARQLStore, Comunica (Node.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper

from matrixkg.iris import MKG, Minter
from tests.conftest import LiveServer

pytestmark = pytest.mark.live

COMUNICA = Path(__file__).resolve().parent / "comunica"
PREFIXES = "PREFIX mkg: <https://w3id.org/matrixkg/ns#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
E4_CATEGORIES = {"S": 1, "K": 6, "R": 5, "G": 4}


def _endpoint(live_server: LiveServer) -> str:
    return live_server.url + "sparql"


def test_sparqlwrapper_select_ask_construct(live_server: LiveServer) -> None:
    """SPARQLWrapper gets SELECT results (JSON, XML), an ASK answer and a CONSTRUCT graph, by GET and POST."""
    client = SPARQLWrapper(_endpoint(live_server))
    client.setQuery(PREFIXES + "SELECT ?category (COUNT(DISTINCT ?e) AS ?n) WHERE { "
                    "?e a mkg:Entry ; mkg:category/skos:notation ?category } GROUP BY ?category")
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index, call-overload]
    assert {b["category"]["value"]: int(b["n"]["value"]) for b in bindings} == E4_CATEGORIES

    client.setMethod(POST)
    client.setReturnFormat(XML)
    document = client.queryAndConvert()  # an xml.dom.minidom Document
    assert len(document.getElementsByTagName("result")) == 4  # type: ignore[union-attr]

    client.setQuery(PREFIXES + 'ASK { ?c skos:notation "E4" ; a mkg:Cell }')
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index, call-overload]

    cell = Minter(live_server.url).cell("alcohol", "E4")
    client.setQuery(f"CONSTRUCT WHERE {{ <{cell}> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = Graph().parse(data=client.queryAndConvert(), format="turtle")  # type: ignore[arg-type]
    assert (cell, RDF.type, MKG.Cell) in graph
    assert (cell, SKOS.notation, Literal("E4")) in graph


def test_rdflib_sparqlstore(live_server: LiveServer) -> None:
    """rdflib's SPARQLStore queries the endpoint and reads triples through it as if it were a local graph."""
    graph = Graph(store=SPARQLStore(_endpoint(live_server), returnFormat="xml"))
    rows = list(graph.query(PREFIXES + "SELECT ?label WHERE { ?c a mkg:Cell ; skos:notation 'E4' ; "
                                       "mkg:inMatrix/skos:notation 'alcohol' ; skos:prefLabel ?label }"))
    assert len({str(row[0]) for row in rows}) == 1  # type: ignore[index]
    assert "E4" in str(rows[0][0])  # type: ignore[index]
    cell = Minter(live_server.url).cell("alcohol", "E4")
    assert (cell, MKG.inMatrix, URIRef(Minter(live_server.url).matrix("alcohol"))) in graph
    assert bool(graph.query(PREFIXES + "ASK { ?e a mkg:Entry }"))


def test_comunica(live_server: LiveServer) -> None:
    """Comunica (@comunica/query-sparql, Node.js) treats the endpoint as a SPARQL source and gets answers.

    The package is installed by ``.ci/install`` (``npm install`` in tests/comunica); locally, run that once.
    """
    node = shutil.which("node")
    assert node, "Node.js is needed: .ci/install installs it"
    assert (COMUNICA / "node_modules" / "@comunica" / "query-sparql").is_dir(), \
        "run `npm install` in tests/comunica (as .ci/install does)"
    completed = subprocess.run([node, str(COMUNICA / "query.mjs"), _endpoint(live_server)],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    assert [c["cell"] for c in answer["cells"]] == ["E4"]
    assert "Treatment systems" in answer["cells"][0]["label"]
    assert answer["categories"] == E4_CATEGORIES
    assert answer["hasGuidance"] is True
