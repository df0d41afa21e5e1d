"""The named example queries: file format, safe binding, the right answers on the bundled data, and their
REST endpoints (JSON rows, SPARQL JSON, CSV, HTML) as described in the OpenAPI document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib.namespace import RDF

from matrixkg.config import Settings
from matrixkg.queries import (
    ParameterError,
    QueryDefinitionError,
    QueryParameter,
    load_queries,
    parse_named_query,
)
from matrixkg.results import json_rows
from matrixkg.store import OxigraphStore, QueryOptions, SelectResult
from tests.sparql_support import sparql_client

QUERIES = load_queries()
HEADER = """# title: Entries of a cell
# description: The entries a cell lists,
#   in page order.
# param: cell = E4 (the cell's code)
#   pattern: [A-E][1-5]
# param: limit = 10 (how many)
#   type: integer
#   pattern: [0-9]{1,3}
SELECT * WHERE { VALUES ?cell { "E4" } VALUES ?limit { "10"^^<http://www.w3.org/2001/XMLSchema#integer> } }
"""


# --- the file format ----------------------------------------------------------------------------------------
def test_header_fields_and_parameters() -> None:
    """Title, description (continuation lines too) and typed, patterned parameters come from the header."""
    query = parse_named_query("entries", HEADER)
    assert query.title == "Entries of a cell"
    assert query.description == "The entries a cell lists, in page order."
    assert [(p.name, p.default, p.description, p.pattern, p.type) for p in query.parameters] == [
        ("cell", "E4", "the cell's code", "[A-E][1-5]", "string"),
        ("limit", "10", "how many", "[0-9]{1,3}", "integer")]
    assert query.text == HEADER


def test_binding_replaces_only_the_values_blocks() -> None:
    """Values are bound as SPARQL terms in the VALUES blocks; defaults fill what is not given."""
    query = parse_named_query("entries", HEADER)
    bound = query.bind({"cell": "B3"})
    assert 'VALUES ?cell { "B3" }' in bound
    assert 'VALUES ?limit { "10"^^<http://www.w3.org/2001/XMLSchema#integer> }' in bound
    assert query.bind() == HEADER


@pytest.mark.parametrize("value", ['E4" } ?s ?p ?o . { "', "E4\\", "E4\n", "e4", "E44", ""])
def test_values_that_do_not_fit_are_refused(value: str) -> None:
    """Anything outside the declared pattern is refused: raw input never reaches the query text."""
    query = parse_named_query("entries", HEADER)
    with pytest.raises(ParameterError):
        query.bind({"cell": value})


def test_terms_are_escaped_even_when_a_pattern_is_loose() -> None:
    """A permissive pattern still cannot break out of the literal: rdflib writes the escaped term."""
    loose = QueryParameter("text", "x", "", ".+")
    assert loose.term('a" } DROP ALL { "') == '"a\\" } DROP ALL { \\""'
    iri = QueryParameter("thing", "http://x/", "", ".+", "iri")
    with pytest.raises(ParameterError):
        iri.term("http://x/> } DROP ALL { <y")


@pytest.mark.parametrize(("text", "problem"), [
    ("# description: d\nASK {}\n", "title"),
    ("# title: t\nASK {}\n", "description"),
    ("# title: t\n# description: d\n# param: cell = E4 (c)\nASK {}\n", "pattern"),
    ("# title: t\n# description: d\n# param: cell = E4 (c)\n#   pattern: [A-E][1-5]\nASK {}\n",
     "exactly one"),
    ("# title: t\n# description: d\n# param: format = json (f)\n#   pattern: .+\nASK {}\n", "cannot be"),
    ("# title: t\n# description: d\n# param: cell = Z9 (c)\n#   pattern: [A-E][1-5]\n"
     'ASK { VALUES ?cell { "Z9" } }\n', "default"),
    ("# title: t\n# description: d\n# param: n = 1 (c)\n#   type: float\n#   pattern: 1\nASK {}\n", "type"),
])
def test_broken_query_files_are_reported(text: str, problem: str) -> None:
    """A header that breaks the format names the file and the problem."""
    with pytest.raises(QueryDefinitionError, match=problem):
        parse_named_query("broken", text)


def test_the_package_has_at_least_twelve_documented_queries() -> None:
    """Each packaged query has a title, a description, and parses as SPARQL with its defaults bound."""
    assert len(QUERIES) >= 12
    store = ox.Store()
    for query in QUERIES.values():
        assert query.title and len(query.description) > 40, query.name
        store.query(query.bind())  # raises SyntaxError when the text is not SPARQL 1.1


def test_load_queries_from_a_folder(tmp_path: Path) -> None:
    """A folder of .rq files loads the same way as the packaged ones."""
    (tmp_path / "entries.rq").write_text(HEADER, encoding="utf-8")
    assert list(load_queries(tmp_path)) == ["entries"]


# --- right answers on the bundled data (Alcohol Matrix cell E4) ---------------------------------------------
def _rows(store: OxigraphStore, name: str, **values: str) -> list[dict[str, Any]]:
    result = store.query(QUERIES[name].bind(values), QueryOptions(timeout=30))
    assert isinstance(result, SelectResult)
    return json_rows(result)


def test_guidance_bodies_in_cell(store: OxigraphStore) -> None:
    """NICE, the Department of Health, the NTA and SAMHSA published E4's guidance; a report was for SACDM."""
    rows = _rows(store, "guidance-bodies-in-cell", matrix="alcohol", cell="E4")
    publishers = {r["acronym"] for r in rows if r["role"] == "publisher"}
    assert publishers == {"NICE", "DH", "NTA", "SAMHSA"}
    assert [r["acronym"] for r in rows if r["role"] == "produced for"] == ["SACDM"]
    assert {r["serves"] for r in rows if r["acronym"] == "SAMHSA"} == {"United States"}
    assert _rows(store, "guidance-bodies-in-cell", cell="A1") == []


def test_entries_per_category(store: OxigraphStore) -> None:
    """E4 lists 1 seminal study, 6 key studies, 5 reviews and 4 guidance documents."""
    rows = _rows(store, "entries-per-category")
    assert [(r["category"], r["entries"]) for r in rows] == [("S", 1), ("K", 6), ("R", 5), ("G", 4)]


def test_bite_section_discusses(store: OxigraphStore) -> None:
    """The Issues section discusses the mutual-aid studies, among them the UK and US referral trials."""
    rows = _rows(store, "bite-section-discusses", section="issues-to-consider-and-discuss")
    titles = {r["title"] for r in rows}
    assert "Promoting SMART Recovery mutual aid" in titles
    assert any(t.startswith("Active referral promotes NA/AA attendance") for t in titles)
    assert {r["heading"] for r in rows} == {"Issues to consider and discuss"}
    highlighted = _rows(store, "bite-section-discusses", section="highlighted-study")
    assert [r["title"] for r in highlighted] == ["Peer-based recovery support services"]


def test_documents_by_year_and_jurisdiction(store: OxigraphStore) -> None:
    """Counts per year and jurisdiction: SAMHSA's 1998 US guidance, NICE's two 2011 UK documents."""
    found = _rows(store, "documents-by-year-and-jurisdiction")
    rows = {(r["year"], r["jurisdiction"]): r["documents"] for r in found}
    assert rows[("1998", "United States")] == 1
    assert rows[("2011", "United Kingdom")] == 2
    assert rows[("1981", "unstated")] == 1


def test_corresponding_studies(store: OxigraphStore) -> None:
    """The 2007 US study and the 2012 British study correspond, listed once."""
    rows = _rows(store, "corresponding-studies")
    assert len(rows) == 1
    assert {rows[0]["year"], rows[0]["otherYear"]} == {"2007", "2012"}


def test_entry_mentions(store: OxigraphStore) -> None:
    """Text chat therapy mentions the 2011 simulation study; NICE's commissioning guidance its guidelines."""
    rows = _rows(store, "entry-mentions")
    pairs = {(r["entryTitle"], r["documentTitle"]) for r in rows}
    assert ("Text chat therapy", "Simulation study") in pairs
    assert any(d == "Associated clinical guidelines" for _, d in pairs)
    assert len(rows) == 4


def test_cells_with_most_entries(store: OxigraphStore) -> None:
    """Only E4 has entries in the bundled data: 16."""
    rows = _rows(store, "cells-with-most-entries", matrix="alcohol")
    assert [(r["cell"], r["entries"]) for r in rows] == [("E4", 16)]
    assert _rows(store, "cells-with-most-entries", matrix="drug") == []


def test_entries_discussed_elsewhere(store: OxigraphStore) -> None:
    """E4's aftercare review is discussed in D2's bite; the case-manager tactic it mentions, in E3's."""
    rows = _rows(store, "entries-discussed-elsewhere")
    assert {(r["otherCell"], r["via"]) for r in rows} == {("D2", "the entry"), ("E3", "a work it mentions")}


def test_guidance_by_jurisdiction(store: OxigraphStore) -> None:
    """Three UK guidance documents (NICE, DH/NTA), one US (SAMHSA)."""
    rows = {r["code"]: r for r in _rows(store, "guidance-by-jurisdiction")}
    assert rows["GB"]["guidance"] == 3
    assert rows["US"]["guidance"] == 1
    assert "Substance Abuse and Mental Health Services Administration" in rows["US"]["bodies"]


def test_cell_timeline(store: OxigraphStore) -> None:
    """E4's 16 entries run from the 1981 seminal study to the 2014 review, in year order."""
    rows = _rows(store, "cell-timeline")
    years = [r["year"] for r in rows]
    assert len(rows) == 16
    assert years == sorted(years)
    assert (rows[0]["year"], rows[0]["categories"]) == ("1981", "S")
    assert (rows[-1]["year"], rows[-1]["categories"]) == ("2014", "R")


def test_bite_outline(store: OxigraphStore) -> None:
    """Four top-level sections, the Issues section with four sub-sections, in reading order."""
    rows = _rows(store, "bite-outline")
    assert [r["number"] for r in rows] == ["1", "2", "3", "4", "4.1", "4.2", "4.3", "4.4"]
    assert rows[1]["heading"] == "Where should I start?"
    assert rows[3]["entries"] > 5


def test_documents_in_several_cells(store: OxigraphStore) -> None:
    """No work is listed twice in the bundled single cell; with a second listing the query finds it."""
    assert _rows(store, "documents-in-several-cells") == []
    mkg = "https://w3id.org/matrixkg/ns#"
    skos = "http://www.w3.org/2004/02/skos/core#"
    small = ox.Store()
    graph = ox.NamedNode("http://x/g")

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        small.add(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, graph))

    for matrix, cell in (("alcohol", "E4"), ("drug", "B3")):
        cell_iri = f"http://x/{matrix}/{cell}"
        add(cell_iri, skos + "notation", ox.Literal(cell))
        add(cell_iri, mkg + "inMatrix", ox.NamedNode(f"http://x/{matrix}"))
        add(f"http://x/{matrix}", skos + "notation", ox.Literal(matrix))
        add(f"{cell_iri}/entry", str(RDF.type), ox.NamedNode(mkg + "Entry"))
        add(f"{cell_iri}/entry", mkg + "inCell", ox.NamedNode(cell_iri))
        add(f"{cell_iri}/entry", mkg + "describes", ox.NamedNode("http://x/doc"))
    add("http://x/doc", "http://purl.org/dc/terms/title", ox.Literal("A study"))
    query = QUERIES["documents-in-several-cells"].bind()
    solutions = list(small.query(query, use_default_graph_as_union=True))
    assert [(s["cellCount"].value, s["cells"].value) for s in solutions] in (
        [("2", "alcohol E4, drug B3")], [("2", "drug B3, alcohol E4")])


def test_entry_provenance(store: OxigraphStore) -> None:
    """The UK referral trial comes from line 25 of the E4 page, quoted exactly."""
    rows = _rows(store, "entry-provenance", entry="2012-active-referral-promotes-na-aa-attendance")
    assert len(rows) == 1
    assert rows[0]["source"].endswith("/id/source/alcohol-matrix-cell-E4")
    assert rows[0]["line"] == 25
    assert rows[0]["exact"].startswith("K Active referral promotes NA/AA attendance in UK")


def test_entries_in_category(store: OxigraphStore) -> None:
    """E4's five reviews, in page order."""
    rows = _rows(store, "entries-in-category", category="R")
    assert [r["position"] for r in rows] == [8, 9, 10, 11, 12]
    assert rows[0]["title"] == "Ways to continue to (after)care for patients"
    assert [r["position"] for r in _rows(store, "entries-in-category", category="S")] == [1]


def test_every_query_has_an_answer_test() -> None:
    """Each packaged query is checked above against the bundled data (a new query needs its own test)."""
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(QUERIES) <= tested, set(QUERIES) - tested


# --- the REST endpoints -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(built: Settings) -> Iterator[TestClient]:
    """Return a client of the app over the bundled build."""
    with sparql_client(built) as opened:
        yield opened


def test_rest_json_rows(client: TestClient) -> None:
    """GET /queries/{name} with its parameters answers a plain JSON array of objects."""
    response = client.get("/queries/entries-per-category", params={"matrix": "alcohol", "cell": "E4"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()[1] == {"category": "K", "label": "Key study", "entries": 6}


def test_rest_sparql_json_csv_and_format_parameter(client: TestClient) -> None:
    """SPARQL JSON by Accept, CSV by Accept or format=."""
    sparql_json = client.get("/queries/entries-per-category",
                             headers={"Accept": "application/sparql-results+json"})
    assert sparql_json.json()["head"]["vars"] == ["category", "label", "entries"]
    for response in (client.get("/queries/entries-per-category", headers={"Accept": "text/csv"}),
                     client.get("/queries/entries-per-category", params={"format": "csv"})):
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows[0] == {"category": "S", "label": "Seminal study", "entries": "1"}


def test_rest_refuses_bad_parameter_values(client: TestClient) -> None:
    """A value outside the pattern is a 4xx (FastAPI's 422), and nothing is run."""
    for value in ('E4" } ?s ?p ?o {', "Z9", ""):
        response = client.get("/queries/entries-per-category", params={"cell": value})
        assert response.status_code == 422, value
    assert client.get("/queries/no-such-query").status_code == 404


def test_rest_html_page_runs_the_query_as_a_table(client: TestClient) -> None:
    """A browser gets the query page: description, parameter form, the answer as a table, and links."""
    response = client.get("/queries/guidance-bodies-in-cell", params={"cell": "E4"},
                          headers={"Accept": "text/html"})
    assert response.template.name == "query.html"  # type: ignore[attr-defined]
    context = response.context  # type: ignore[attr-defined]
    assert context["query"].name == "guidance-bodies-in-cell"
    assert context["values"] == {"matrix": "alcohol", "cell": "E4"}
    names = [row[1].text for row in context["rows"]]
    assert "National Institute for Health and Care Excellence" in names
    assert context["editor_link"].split("?")[0].endswith("/sparql")
    assert "<table" in response.text


def test_query_list_page_and_json(client: TestClient) -> None:
    """/queries lists every query: an HTML page for readers, JSON (with parameters and text) otherwise."""
    page = client.get("/queries", headers={"Accept": "text/html"})
    assert page.template.name == "queries.html"  # type: ignore[attr-defined]
    assert [q.name for q in page.context["queries"]] == list(QUERIES)  # type: ignore[attr-defined]
    listing = client.get("/queries").json()
    assert [q["name"] for q in listing] == list(QUERIES)
    first = next(q for q in listing if q["parameters"])
    assert first["url"].endswith("/queries/" + first["name"])
    assert first["sparql"] == QUERIES[first["name"]].text


def test_openapi_describes_each_query_with_typed_parameters(client: TestClient) -> None:
    """The OpenAPI document has one GET per query, with its parameters, defaults and patterns."""
    document = client.app.openapi()  # type: ignore[attr-defined]
    for query in QUERIES.values():
        operation = document["paths"][f"/queries/{query.name}"]["get"]
        assert operation["summary"] == query.title
        parameters = {p["name"]: p for p in operation["parameters"]}
        for parameter in query.parameters:
            schema = parameters[parameter.name]["schema"]
            assert schema["default"] == parameter.default
            assert schema["pattern"] == f"^(?:{parameter.pattern})$"
            assert parameters[parameter.name]["description"] == parameter.description
    assert "/sparql" in document["paths"]
