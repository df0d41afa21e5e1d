"""Serialisers of query results: every wire format read back by an independent parser, and the CLI table."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import XSD

from matrixkg.errors import NotAcceptable
from matrixkg.formats import RDF_FORMATS
from matrixkg.results import (
    RESULT_FORMATS,
    RESULTS_FORMATS,
    SPARQL_CSV,
    SPARQL_JSON,
    SPARQL_TSV,
    SPARQL_XML,
    choose_format,
    format_named,
    format_table,
    formats_for,
    serialize_result,
)
from matrixkg.store import AskResult, GraphResult, SelectResult, to_rdflib

EX = "http://example.org/"
TRICKY = 'a "quoted", tabbed\tand\nbroken line — ünïcode'
SELECT = SelectResult(
    ["s", "label", "n", "missing"],
    [
        {"s": URIRef(EX + "a"), "label": Literal(TRICKY, lang="en"), "n": Literal(3, datatype=XSD.integer)},
        {"s": BNode("b1"), "label": Literal("plain")},
        {"label": Literal("2012", datatype=XSD.gYear)},
    ],
)
OX_FORMATS = {SPARQL_JSON.key: ox.QueryResultsFormat.JSON, SPARQL_XML.key: ox.QueryResultsFormat.XML,
              SPARQL_CSV.key: ox.QueryResultsFormat.CSV, SPARQL_TSV.key: ox.QueryResultsFormat.TSV}


def _ox_term(term: object) -> object:
    """Return the pyoxigraph term for an rdflib term, as Oxigraph's own result parser would give it."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    assert isinstance(term, Literal)
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


@pytest.mark.parametrize("key", ["json", "xml", "tsv"])
def test_solutions_read_back_exactly_by_oxigraph(key: str) -> None:
    """JSON, XML and TSV keep every term exactly (type, datatype, language, escapes)."""
    body = serialize_result(SELECT, format_named(key).media_type)  # type: ignore[union-attr]
    parsed = ox.parse_query_results(body, format=OX_FORMATS[key])
    assert isinstance(parsed, ox.QuerySolutions)
    assert [v.value for v in parsed.variables] == SELECT.variables
    rows = list(parsed)
    assert len(rows) == len(SELECT.rows)
    for got, expected in zip(rows, SELECT.rows, strict=True):
        for name in SELECT.variables:
            if name not in expected:
                assert got[name] is None
            elif isinstance(expected[name], BNode):
                assert isinstance(got[name], ox.BlankNode)
            else:
                assert got[name] == _ox_term(expected[name])


def test_csv_is_plain_values_with_crlf_and_rfc4180_quoting() -> None:
    """CSV (SPARQL 1.1 CSV/TSV §2) loses types by design: lexical forms only, blank cells for unbound."""
    body = serialize_result(SELECT, "text/csv").decode("utf-8")
    assert body.startswith("s,label,n,missing\r\n")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[1] == [EX + "a", TRICKY, "3", ""]
    assert rows[2][0].startswith("_:")
    assert rows[3] == ["", "2012", "", ""]


def test_tsv_terms_never_break_a_line_or_a_column() -> None:
    """TSV writes terms in SPARQL syntax, so tabs and line breaks inside literals are escaped."""
    lines = serialize_result(SELECT, "text/tab-separated-values").decode("utf-8").split("\n")
    assert lines[0] == "?s\t?label\t?n\t?missing"
    assert all(line.count("\t") == 3 for line in lines if line)
    assert lines[1].split("\t")[2] == f'"3"^^<{XSD.integer}>'


@pytest.mark.parametrize("key", ["json", "xml"])
def test_ask_results(key: str) -> None:
    """ASK answers in the two formats that define a boolean form."""
    for value in (True, False):
        body = serialize_result(AskResult(value), format_named(key).media_type)  # type: ignore[union-attr]
        parsed = ox.parse_query_results(body, format=OX_FORMATS[key])
        assert bool(parsed) is value


def test_ask_is_not_offered_as_csv_or_tsv() -> None:
    """The CSV/TSV note has no boolean form, so asking for one is Not Acceptable rather than made up."""
    assert [f.key for f in formats_for("boolean")] == ["json", "xml"]
    with pytest.raises(NotAcceptable):
        serialize_result(AskResult(True), "text/csv")


def test_links_go_into_the_head_of_json_and_xml() -> None:
    """The truncation note is linked from ``head.link`` (JSON §3.1) and ``<link href>`` (XML §2.2)."""
    note = "http://localhost:8000/sparql/limits"
    document = json.loads(serialize_result(SELECT, SPARQL_JSON.media_type, [note]))
    assert document["head"] == {"vars": SELECT.variables, "link": [note]}
    root = ElementTree.fromstring(serialize_result(SELECT, SPARQL_XML.media_type, [note]))
    ns = "{http://www.w3.org/2005/sparql-results#}"
    head = root.find(ns + "head")
    assert head is not None
    assert [child.tag for child in head][-1] == ns + "link"
    assert head.find(ns + "link").get("href") == note  # type: ignore[union-attr]
    assert "link" not in json.loads(serialize_result(SELECT, SPARQL_JSON.media_type))["head"]


def _graph() -> Graph:
    graph = Graph()
    graph.add((URIRef(EX + "a"), URIRef(EX + "p"), Literal(TRICKY, lang="en")))
    graph.add((URIRef(EX + "a"), URIRef(EX + "q"), Literal("1981", datatype=XSD.gYear)))
    graph.add((URIRef(EX + "a"), URIRef("https://w3id.org/matrixkg/ns#inCell"), URIRef(EX + "c")))
    return graph


@pytest.mark.parametrize("rdf_format", RDF_FORMATS, ids=lambda f: f.key)
def test_graphs_read_back_isomorphic(rdf_format: object) -> None:
    """CONSTRUCT/DESCRIBE results in every RDF format parse back to the same graph."""
    expected = _graph()
    media_type = rdf_format.media_type  # type: ignore[attr-defined]
    body = serialize_result(GraphResult(expected), media_type)
    got = Graph()
    for triple in ox.parse(body, format=ox.RdfFormat.from_media_type(media_type)):  # an independent parser
        got.add(tuple(to_rdflib(term) for term in (triple.subject, triple.predicate, triple.object)))
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        pytest.fail(f"only in output:\n{only_got.serialize(format='nt')}\n"
                    f"only expected:\n{only_expected.serialize(format='nt')}")


def test_every_format_has_a_key_media_type_and_w3c_iri() -> None:
    """One table: each format is found by its key and by its media type."""
    assert len(RESULT_FORMATS) == 8
    for result_format in RESULT_FORMATS:
        assert format_named(result_format.key) is result_format
        assert format_named(result_format.media_type) is result_format
    assert {f.key for f in RESULTS_FORMATS} == {"json", "xml", "csv", "tsv"}


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "json"),
    ("*/*", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv;q=0.5, text/tab-separated-values;q=0.9", "tsv"),
    ("application/json", "json"),
    ("text/*", "csv"),
    ("application/sparql-results+json;q=0.1, application/sparql-results+xml;q=0.2", "xml"),
])
def test_negotiating_solutions(accept: str | None, expected: str) -> None:
    """Accept q-values choose among the results formats; */* and no header give JSON."""
    assert choose_format(SELECT, accept).key == expected


def test_negotiating_graphs_and_the_format_parameter() -> None:
    """Graphs default to Turtle; ``format`` overrides Accept; a format that cannot carry the result is 406."""
    graph = GraphResult(_graph())
    assert choose_format(graph, None).key == "turtle"
    assert choose_format(graph, "application/ld+json").key == "jsonld"
    assert choose_format(graph, "text/turtle", requested="ntriples").key == "ntriples"
    assert choose_format(SELECT, "text/turtle", requested="application/sparql-results+xml").key == "xml"
    with pytest.raises(NotAcceptable):
        choose_format(graph, None, requested="csv")
    with pytest.raises(NotAcceptable):
        choose_format(SELECT, "image/png")


def test_format_table_compacts_iris_and_flags_truncation() -> None:
    """The CLI table shortens IRIs with the project prefixes and says when the row limit cut the result."""
    result = SelectResult(["c", "n"], [{"c": URIRef("https://w3id.org/matrixkg/ns#Cell"),
                                        "n": Literal(16, datatype=XSD.integer)}])
    lines = format_table(result).splitlines()
    assert lines[0].split() == ["c", "n"]
    assert lines[2].split() == ["mkg:Cell", "16"]
    assert lines[-1] == "(1 row)"
    cut = format_table(SelectResult(result.variables, result.rows, truncated=True))
    assert "truncated" in cut.splitlines()[-1]
    assert format_table(AskResult(False)) == "false\n"
    assert "@prefix" in format_table(GraphResult(_graph()))
