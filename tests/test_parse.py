"""Tests for parsing source pages into graphs: the seed page against its golden graph, facts by SPARQL,
variant pages written for these tests, and pages the parser must refuse."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from matrixkg.errors import SourceError
from matrixkg.iris import PREFIXES, Minter
from matrixkg.parse import JURISDICTION_CODES, parse_page, read_page, split_issue_heading
from matrixkg.sources import SourcePage, read_source

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "sources" / "alcohol-matrix-cell-E4.txt"
GOLDEN = ROOT / "tests" / "golden" / "alcohol-matrix-cell-E4.ttl"
PAGES = ROOT / "tests" / "pages"
BASE = "http://localhost:8000/"
MINTER = Minter(BASE)
EXTRACTED_AT = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
CELL = BASE + "id/matrix/alcohol/cell/E4"
BITE = CELL + "/bite"
ISSUES = BITE + "/section/issues-to-consider-and-discuss"
DOC = BASE + "id/document/"
ENTRY = CELL + "/entry/"

# Page furniture: none of it may reach the data.
FURNITURE = (
    "Send email for updates",
    "About updates",
    "Supported by",
    "Title and link for copying",
    "Seminal studiesK",
    "Links to other documents",
    "This search retrieves",
    "For subtopics go to",
    "Matrix Bite Open",
    "Close Matrix Bite",
)


@pytest.fixture(scope="module")
def seed() -> Graph:
    return parse_page(read_source(SEED), MINTER, EXTRACTED_AT)


@pytest.fixture(scope="module")
def variant() -> Graph:
    return parse_page(read_source(PAGES / "drug-matrix-cell-B3.txt"), MINTER, EXTRACTED_AT)


def ask(graph: Graph, query: str) -> list[tuple[object, ...]]:
    """Run a SELECT with the project's prefixes and return its rows as plain Python values."""
    rows = graph.query(query, initNs=PREFIXES)
    return [tuple(value.toPython() if isinstance(value, Literal) else value for value in row) for row in rows]


def column(graph: Graph, query: str) -> list[object]:
    return [row[0] for row in ask(graph, query)]


def iri_set(graph: Graph, query: str) -> set[str]:
    return {str(value) for value in column(graph, query)}


# --- the golden graph -------------------------------------------------------------------------------------


def test_seed_page_matches_golden_graph(seed: Graph) -> None:
    expected = Graph().parse(GOLDEN, format="turtle")
    if not isomorphic(seed, expected):
        _, only_parsed, only_golden = graph_diff(to_isomorphic(seed), to_isomorphic(expected))
        pytest.fail(
            "parsed graph differs from the golden graph\n--- only in parsed:\n"
            + only_parsed.serialize(format="nt")
            + "\n--- only in golden:\n"
            + only_golden.serialize(format="nt")
        )


def test_parsing_is_deterministic(seed: Graph) -> None:
    again = parse_page(read_source(SEED), MINTER, EXTRACTED_AT)
    assert set(again) == set(seed)


def test_no_blank_nodes(seed: Graph, variant: Graph) -> None:
    for graph in (seed, variant):
        assert not [t for t in graph if any(isinstance(term, BNode) for term in t)]


def test_iris_follow_the_base(seed: Graph) -> None:
    other = parse_page(read_source(SEED), Minter("https://example.org/kg/"), EXTRACTED_AT)
    iris = {str(term) for triple in other for term in triple if isinstance(term, URIRef)}
    assert not any(iri.startswith(BASE) for iri in iris)
    assert len(other) == len(seed)


# --- the cell, the source page and the extraction ---------------------------------------------------------


def test_cell_label_row_and_column(seed: Graph) -> None:
    rows = ask(
        seed,
        f"SELECT ?label ?row ?column ?matrix WHERE {{ <{CELL}> a mkg:Cell ; skos:prefLabel ?label ;"
        " mkg:row ?row ; mkg:column ?column ; mkg:inMatrix ?matrix }",
    )
    assert rows == [
        (
            "Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies",
            URIRef(BASE + "id/matrix/alcohol/row/4"),
            URIRef(BASE + "id/matrix/alcohol/column/E"),
            URIRef(BASE + "id/matrix/alcohol"),
        )
    ]
    assert (
        URIRef(CELL),
        URIRef(PREFIXES["skos"] + "prefLabel"),
        Literal("Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies", lang="en"),
    ) in seed


def test_source_page_and_extraction(seed: Graph) -> None:
    page = read_source(SEED)
    source = MINTER.source(page.name)
    rows = ask(
        seed,
        f"SELECT ?title ?sha ?format WHERE {{ <{source}> a mkg:SourcePage ; dcterms:title ?title ;"
        " mkg:sha256 ?sha ; dcterms:format ?format }",
    )
    assert rows == [
        ("Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies", page.sha256, "text/plain")
    ]
    rows = ask(
        seed,
        f"SELECT ?ended ?label WHERE {{ <{MINTER.extraction(page.name)}> a prov:Activity ;"
        f" prov:used <{source}> ; prov:endedAtTime ?ended ; rdfs:label ?label }}",
    )
    assert len(rows) == 1 and rows[0][0] == EXTRACTED_AT
    assert seed.value(
        MINTER.extraction(page.name), URIRef(PREFIXES["prov"] + "endedAtTime")
    ).datatype == URIRef(PREFIXES["xsd"] + "dateTime")


def test_extraction_is_associated_with_the_parser_agent(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?agent ?label WHERE { ?x a prov:Activity ; prov:wasAssociatedWith ?agent ."
        " ?agent a prov:SoftwareAgent ; rdfs:label ?label }",
    )
    assert rows == [(MINTER.agent("matrixkg-parser"), "matrixkg source-page parser")]


def test_jurisdiction_codes_are_all_in_the_skeleton() -> None:
    table = ROOT / "data" / "skeleton.toml"
    codes = {row["code"] for row in tomllib.loads(table.read_text(encoding="utf-8"))["jurisdictions"]}
    assert set(JURISDICTION_CODES.values()) <= codes


# --- entries and documents --------------------------------------------------------------------------------


def test_sixteen_entries_by_category(seed: Graph) -> None:
    rows = ask(
        seed,
        f"SELECT ?notation (COUNT(?e) AS ?n) WHERE {{ ?e a mkg:Entry ; mkg:inCell <{CELL}> ;"
        " mkg:category ?c . BIND(STRAFTER(STR(?c), '/category/') AS ?notation) } GROUP BY ?notation",
    )
    assert dict(rows) == {"S": 1, "K": 6, "R": 5, "G": 4}
    assert column(seed, "SELECT (COUNT(?e) AS ?n) WHERE { ?e a mkg:Entry }") == [16]


def test_categories_in_page_order(seed: Graph) -> None:
    letters = column(
        seed,
        "SELECT ?letter WHERE { ?e mkg:position ?p ; mkg:category ?c ."
        " BIND(STRAFTER(STR(?c), '/category/') AS ?letter) } ORDER BY ?p",
    )
    assert "".join(map(str, letters)) == "SKKKKKKRRRRRGGGG"


def test_publication_years_in_page_order(seed: Graph) -> None:
    years = column(
        seed,
        "SELECT (STR(?year) AS ?y) WHERE { ?e mkg:position ?p ; mkg:describes ?d ."
        " ?d fabio:hasPublicationYear ?year . FILTER(DATATYPE(?year) = xsd:gYear) } ORDER BY ?p",
    )
    assert years == [
        "1981",
        "2012",
        "2008",
        "2010",
        "2012",
        "2007",
        "2011",
        "2011",
        "2009",
        "2014",
        "2006",
        "2003",
        "2011",
        "2006",
        "2008",
        "1998",
    ]


def test_positions_are_integers_one_to_sixteen(seed: Graph) -> None:
    assert column(
        seed, "SELECT ?p WHERE { ?e mkg:position ?p . FILTER(DATATYPE(?p) = xsd:integer) } ORDER BY ?p"
    ) == list(range(1, 17))


def test_headlines_and_summaries(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?title ?abstract WHERE { ?e mkg:position ?p ; dcterms:title ?title ;"
        " dcterms:abstract ?abstract } ORDER BY ?p",
    )
    assert len(rows) == 16
    titles = [str(title) for title, _ in rows]
    assert (
        titles[0]
        == "0% mutual aid group attendance with usual procedures, 100% with systematic encouragement"
    )
    assert titles[7] == "Ways to continue to (after)care for patients"
    assert titles[12] == "Commissioning an alcohol intervention and treatment system"
    for title, abstract in rows:
        assert not str(title).endswith(")") and "(19" not in str(title) and "(20" not in str(title)
        assert str(abstract) == str(abstract).strip() and not str(abstract).startswith(".")
    assert str(rows[7][1]) == (
        "Psychosocial strategies to help ensure patients who need it receive long-term care or "
        "aftercare. Discussion in cell D2’s bite."
    )
    language = {
        lit.language
        for p in ("title", "abstract")
        for lit in seed.objects(None, URIRef(PREFIXES["dcterms"] + p))
    }
    assert language == {"en"}


def test_entry_and_document_keys(seed: Graph) -> None:
    rows = ask(seed, "SELECT ?e ?d WHERE { ?e mkg:describes ?d }")
    for entry, document in rows:
        assert str(entry).startswith(ENTRY) and str(document).startswith(DOC)
        assert str(entry)[len(ENTRY) :] == str(document)[len(DOC) :]
    assert (
        URIRef(ENTRY + "2011-ways-to-continue-to-after-care"),
        URIRef(PREFIXES["mkg"] + "describes"),
        URIRef(DOC + "2011-ways-to-continue-to-after-care"),
    ) in seed


def test_document_fabio_types(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?letter ?type WHERE { ?e mkg:category ?c ; mkg:describes ?d . ?d a mkg:Document, ?type ."
        " FILTER(STRSTARTS(STR(?type), STR(fabio:)))"
        " BIND(STRAFTER(STR(?c), '/category/') AS ?letter) }",
    )
    fabio = PREFIXES["fabio"]
    kinds: dict[str, set[str]] = {}
    for letter, kind in rows:
        kinds.setdefault(str(letter), set()).add(str(kind)[len(fabio) :])
    assert kinds == {
        "S": {"JournalArticle"},
        "K": {"JournalArticle"},
        "R": {"ReviewArticle"},
        "G": {"ClinicalGuideline", "Report"},
    }
    assert column(seed, "SELECT ?d WHERE { ?d a fabio:Report }") == [
        URIRef(DOC + "2008-integrated-care-for-drug-and-alcohol")
    ]
    # Every document has exactly one FaBiO class.
    counts = column(
        seed,
        "SELECT (COUNT(?t) AS ?n) WHERE { ?d a mkg:Document, ?t . "
        "FILTER(STRSTARTS(STR(?t), STR(fabio:))) } GROUP BY ?d",
    )
    assert set(counts) == {1}


# --- guidance bodies --------------------------------------------------------------------------------------


def test_guidance_bodies_and_jurisdictions(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?label ?area WHERE { ?b a mkg:GuidanceBody ; skos:prefLabel ?label ."
        " OPTIONAL { ?b schema:areaServed ?area } }",
    )
    areas = {
        str(label): (str(area)[len(BASE + "id/jurisdiction/") :] if area else None) for label, area in rows
    }
    assert areas == {
        "National Institute for Health and Care Excellence": "GB",
        "Department of Health": "GB",
        "National Treatment Agency for Substance Misuse": "GB",
        # Scotland comes from curated data, not from the page.
        "Scottish Advisory Committee on Drug Misuse": None,
        "Substance Abuse and Mental Health Services Administration": "US",
    }
    for body, label in ask(seed, "SELECT ?b ?l WHERE { ?b a mkg:GuidanceBody ; skos:prefLabel ?l }"):
        assert body == MINTER.organization("-".join(str(label).lower().split()))


def test_publishers_coverage_and_produced_for(seed: Graph) -> None:
    publishers = ask(
        seed,
        "SELECT ?y ?label WHERE { ?d dcterms:publisher ?b ; fabio:hasPublicationYear ?y ."
        " ?b skos:prefLabel ?label ; a mkg:GuidanceBody }",
    )
    assert sorted((str(y), str(label)) for y, label in publishers) == [
        ("1998", "Substance Abuse and Mental Health Services Administration"),
        ("2006", "Department of Health"),
        ("2006", "National Treatment Agency for Substance Misuse"),
        ("2011", "National Institute for Health and Care Excellence"),
        ("2011", "National Institute for Health and Care Excellence"),
    ]
    assert iri_set(seed, "SELECT ?b WHERE { ?d mkg:producedFor ?b }") == {
        BASE + "id/organization/scottish-advisory-committee-on-drug-misuse"
    }
    assert not column(seed, "SELECT ?d WHERE { ?d mkg:producedFor ?b ; dcterms:publisher ?c }")
    coverage = ask(seed, "SELECT ?d ?j WHERE { ?d dcterms:coverage ?j }")
    assert {(str(d)[len(DOC) :], str(j)[len(BASE + "id/jurisdiction/") :]) for d, j in coverage} == {
        ("2011-commissioning-an-alcohol-intervention-and-treatment", "GB"),
        ("2011-associated-clinical-guidelines", "GB"),
        ("2006-setting-up-a-local-treatment-system", "GB"),
        ("1998-organising-holistic-and-continuing-care", "US"),
    }


# --- discussions in the bite ------------------------------------------------------------------------------


def discussed(graph: Graph) -> dict[str, set[str]]:
    rows = ask(graph, "SELECT ?e ?s WHERE { ?e a mkg:Entry ; mkg:discussedIn ?s }")
    found: dict[str, set[str]] = {}
    for entry, section in rows:
        found.setdefault(str(entry)[len(ENTRY) :], set()).add(
            str(section)[len(BASE + "id/matrix/alcohol/") :]
        )
    return found


def test_entries_discussed_in_bite_sections(seed: Graph) -> None:
    issues = "cell/E4/bite/section/issues-to-consider-and-discuss"
    # "Issues sections (1 2)" numbers the page's links, not the issues (the bite's own "entries in this
    # cell (1 2)" shows the same notation), so those entries point at the Issues section as a whole.
    assert discussed(seed) == {
        "1981-0-mutual-aid-group-attendance-with": {issues},
        "2010-promoting-smart-recovery-mutual-aid": {issues},
        "2012-active-referral-promotes-na-aa-attendance": {issues},
        "2007-in-usa-active-and-persistent-attempts": {issues},
        "2014-attending-aa-meetings-after-treatment-helps": {issues},
        "2006-varieties-and-impacts-of-case-management": {issues},
        "1998-organising-holistic-and-continuing-care": {issues},
        "2009-peer-based-recovery-support-services": {issues, "cell/E4/bite/section/highlighted-study"},
        "2011-commissioning-an-alcohol-intervention-and-treatment": {
            issues,
            "cell/E4/bite/section/where-should-i-start",
        },
        "2011-ways-to-continue-to-after-care": {"cell/D2/bite"},
    }


def test_documents_discussed_where_their_entries_are(seed: Graph) -> None:
    missing = column(
        seed,
        "SELECT ?e WHERE { ?e mkg:describes ?d ; mkg:discussedIn ?s ."
        " FILTER NOT EXISTS { ?d mkg:discussedIn ?s } }",
    )
    assert missing == []


def test_mentioned_case_manager_study_discussed_in_cell_e3(seed: Graph) -> None:
    rows = ask(
        seed,
        f"SELECT ?d ?where WHERE {{ <{ENTRY}2012-difficult-but-system-change-can-be> mkg:mentions ?d ."
        " ?d mkg:discussedIn ?where }",
    )
    assert rows == [
        (
            URIRef(DOC + "2006-siting-case-managers-at-detoxification-services"),
            URIRef(BASE + "id/matrix/alcohol/cell/E3/bite"),
        )
    ]


# --- cross-references -------------------------------------------------------------------------------------


def test_corresponding_studies_both_ways(seed: Graph) -> None:
    pairs = {
        (str(a)[len(ENTRY) :], str(b)[len(ENTRY) :])
        for a, b in ask(seed, "SELECT ?a ?b WHERE { ?a mkg:correspondsTo ?b }")
    }
    uk, us = "2012-active-referral-promotes-na-aa-attendance", "2007-in-usa-active-and-persistent-attempts"
    assert pairs == {(uk, us), (us, uk)}


def test_related_review_and_guidance_both_ways(seed: Graph) -> None:
    pairs = {
        (str(a)[len(ENTRY) :], str(b)[len(ENTRY) :])
        for a, b in ask(seed, "SELECT ?a ?b WHERE { ?a mkg:relatedTo ?b }")
    }
    review, guidance = (
        "2006-varieties-and-impacts-of-case-management",
        "1998-organising-holistic-and-continuing-care",
    )
    assert pairs == {(review, guidance), (guidance, review)}


# --- inline mentions --------------------------------------------------------------------------------------


def test_mentioned_documents(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?entry ?title (STR(?year) AS ?y) ?type WHERE { ?e mkg:mentions ?d ;"
        " dcterms:title ?entry . ?d a mkg:Document, ?type ; dcterms:title ?title ;"
        " fabio:hasPublicationYear ?year ; prov:wasDerivedFrom ?passage ."
        " FILTER(STRSTARTS(STR(?type), STR(fabio:))) }",
    )
    fabio = PREFIXES["fabio"]
    assert {(str(e)[:25], str(t), y, str(k)[len(fabio) :]) for e, t, y, k in rows} == {
        (
            "Difficult, but system cha",
            "Siting case managers at detoxification services",
            "2006",
            "Expression",
        ),
        ("Text chat therapy", "Simulation study", "2011", "JournalArticle"),
        (
            "Severe cases differential",
            "Review limited to randomised trials of therapeutic communities",
            "2006",
            "ReviewArticle",
        ),
        ("Commissioning an alcohol ", "Associated clinical guidelines", "2011", "ClinicalGuideline"),
    }
    nice = MINTER.organization("national-institute-for-health-and-care-excellence")
    assert (
        URIRef(DOC + "2011-associated-clinical-guidelines"),
        URIRef(PREFIXES["dcterms"] + "publisher"),
        nice,
    ) in seed


# --- the bite ---------------------------------------------------------------------------------------------


def test_top_level_sections_in_order(seed: Graph) -> None:
    rows = ask(
        seed,
        f"SELECT ?title ?order WHERE {{ ?s a mkg:BiteSection ; dcterms:isPartOf <{BITE}> ;"
        " dcterms:title ?title ; mkg:order ?order } ORDER BY ?order",
    )
    assert rows == [
        ("What is this cell about?", 1),
        ("Where should I start?", 2),
        ("Highlighted study", 3),
        ("Issues to consider and discuss", 4),
    ]


def test_issue_subsections_in_order(seed: Graph) -> None:
    rows = ask(
        seed,
        f"SELECT ?title ?order WHERE {{ ?s a mkg:BiteSection ; dcterms:isPartOf <{ISSUES}> ;"
        " dcterms:title ?title ; mkg:order ?order } ORDER BY ?order",
    )
    assert rows == [
        ("So fundamental it needs no evidence?", 1),
        ("How much should be left to services?", 2),
        ("Build your aftercare system on mutual aid?", 3),
        ("Support mutual aid says NICE", 4),
    ]


def test_paragraphs_in_order_and_joined_into_section_text(seed: Graph) -> None:
    rows = ask(
        seed,
        "SELECT ?s ?n ?text WHERE { ?p a doco:Paragraph ; dcterms:isPartOf ?s ; mkg:order ?n ;"
        " schema:text ?text } ORDER BY ?s ?n",
    )
    by_section: dict[str, list[tuple[int, str]]] = {}
    for section, number, text in rows:
        by_section.setdefault(str(section).rsplit("/", 1)[1], []).append((int(number), str(text)))
    counts = {slug: len(paragraphs) for slug, paragraphs in by_section.items()}
    assert counts == {
        "what-is-this-cell-about": 2,
        "where-should-i-start": 2,
        "highlighted-study": 3,
        "so-fundamental-it-needs-no-evidence": 3,
        "how-much-should-be-left-to-services": 4,
        "build-your-aftercare-system-on-mutual-aid": 7,
        "support-mutual-aid-says-nice": 5,
    }
    for slug, paragraphs in by_section.items():
        assert [n for n, _ in paragraphs] == list(range(1, len(paragraphs) + 1))
        section = URIRef(BITE + "/section/" + slug)
        joined = seed.value(section, URIRef(PREFIXES["schema"] + "text"))
        assert str(joined) == "\n\n".join(text for _, text in paragraphs)
    first = dict(by_section["what-is-this-cell-about"])[1]
    assert first.startswith("The roles of ‘psychosocial’ therapies")
    caption = dict(by_section["build-your-aftercare-system-on-mutual-aid"])[3]
    assert caption == "% interviewed patients attended groups or abstinent"
    support = dict(by_section["support-mutual-aid-says-nice"])[1]
    assert support.startswith("The section above addressed")


def test_button_labels_are_not_bite_text(seed: Graph) -> None:
    texts = column(seed, "SELECT ?t WHERE { ?s schema:text ?t }")
    assert not [t for t in texts if "Unfold" in str(t)]


def test_bite_references_other_cells_bites(seed: Graph) -> None:
    cells = iri_set(seed, f"SELECT ?b WHERE {{ <{BITE}> dcterms:references ?b }}")
    assert cells == {BASE + f"id/matrix/alcohol/cell/{code}/bite" for code in ("A2", "A4", "D2", "E3")}
    rows = ask(seed, "SELECT ?s ?b WHERE { ?s a mkg:BiteSection ; dcterms:references ?b }")
    assert {(str(s).rsplit("/", 1)[1], str(b).split("/cell/")[1]) for s, b in rows} == {
        ("where-should-i-start", "A4/bite"),
        ("how-much-should-be-left-to-services", "A2/bite"),
    }


# --- provenance -------------------------------------------------------------------------------------------


def test_every_entry_document_section_has_a_located_passage(seed: Graph) -> None:
    lines = read_source(SEED).text.split("\n")
    source = MINTER.source("alcohol-matrix-cell-E4")
    things = column(
        seed,
        "SELECT ?x WHERE { VALUES ?c { mkg:Entry mkg:Document mkg:BiteSection doco:Paragraph } ?x a ?c }",
    )
    assert len(things) > 16 * 2
    for thing in things:
        rows = ask(
            seed,
            f"SELECT ?exact ?line ?source WHERE {{ <{thing}> prov:wasDerivedFrom ?p ."
            " ?p a oa:SpecificResource ; oa:hasSource ?source ; oa:hasSelector ?s ."
            " ?s a oa:TextQuoteSelector ; oa:exact ?exact ; mkg:line ?line }",
        )
        assert len(rows) == 1, thing
        exact, line, found_source = rows[0]
        assert found_source == source
        assert str(exact) in lines[int(line) - 1], thing
        passage = seed.value(URIRef(thing), URIRef(PREFIXES["prov"] + "wasDerivedFrom"))
        assert passage == MINTER.passage("alcohol-matrix-cell-E4", str(exact))


def test_selector_context_is_adjacent_text(seed: Graph) -> None:
    lines = read_source(SEED).text.split("\n")
    rows = ask(
        seed,
        "SELECT ?exact ?line ?prefix ?suffix WHERE { ?s oa:exact ?exact ; mkg:line ?line ."
        " OPTIONAL { ?s oa:prefix ?prefix } OPTIONAL { ?s oa:suffix ?suffix } }",
    )
    assert any(prefix for _, _, prefix, _ in rows)
    for exact, line, prefix, suffix in rows:
        assert f"{prefix or ''}{exact}{suffix or ''}" in lines[int(line) - 1]
        assert len(prefix or "") <= 32 and len(suffix or "") <= 32


def test_no_page_furniture_in_any_literal(seed: Graph) -> None:
    literals = [str(o) for _, _, o in seed if isinstance(o, Literal)]
    for phrase in FURNITURE:
        assert not [text for text in literals if phrase in text], phrase
    assert "Matrix cell" not in literals


# --- a variant page: Drug Matrix, two categories, several bodies, notes, other forms ----------------------

DRUG = BASE + "id/matrix/drug/"
B3 = DRUG + "cell/B3"


def test_variant_drug_matrix_title(variant: Graph) -> None:
    rows = ask(
        variant,
        f"SELECT ?label ?row ?column WHERE {{ <{B3}> skos:prefLabel ?label ; mkg:row ?row ;"
        " mkg:column ?column }",
    )
    assert rows == [
        (
            "Drug Matrix cell B3: Practitioners; Medical treatment",
            URIRef(DRUG + "row/3"),
            URIRef(DRUG + "column/B"),
        )
    ]


def test_variant_two_categories_on_one_entry(variant: Graph) -> None:
    rows = ask(variant, "SELECT ?c WHERE { ?e mkg:position 1 ; mkg:category ?c }")
    assert {str(c)[-1] for (c,) in rows} == {"S", "G"}
    assert column(
        variant,
        "SELECT ?t WHERE { ?e mkg:position 1 ; mkg:describes/a ?t . "
        "FILTER(STRSTARTS(STR(?t), STR(fabio:))) }",
    ) == [URIRef(PREFIXES["fabio"] + "ClinicalGuideline")]


def test_variant_headlines_with_question_dash_and_parentheses(variant: Graph) -> None:
    titles = column(variant, "SELECT ?t WHERE { ?e mkg:position ?p ; dcterms:title ?t } ORDER BY ?p")
    assert [str(t) for t in titles] == [
        "Ten rules for prescribing clinicians",
        "Can doctors be taught to taper doses?",
        "Waiting lists – what happens to (untreated) patients",
        "Prescriber training programmes compared",
        "Standards for opioid prescribers",
        "Clinician guidance on methadone",
    ]
    years = column(
        variant,
        "SELECT (STR(?y) AS ?s) WHERE { ?e mkg:position ?p ; mkg:describes ?d ."
        " ?d fabio:hasPublicationYear ?y } ORDER BY ?p",
    )
    assert years == ["1995", "2004", "2013", "2016", "2012", "2010"]


def test_variant_year_note_kept_and_numbered_note_in_abstract(variant: Graph) -> None:
    rows = ask(
        variant,
        "SELECT ?note ?abstract WHERE { ?e mkg:position 2 ; skos:note ?note ; dcterms:abstract ?abstract }",
    )
    assert len(rows) == 1
    assert rows[0][0] == "for free source see the authors' site"
    assert "Study is numbered 2 in the downloaded document." in str(rows[0][1])


def test_variant_several_bodies_in_one_parenthesis(variant: Graph) -> None:
    labels = column(
        variant,
        "SELECT ?l WHERE { ?e mkg:position 5 ; mkg:describes ?d . ?d dcterms:publisher ?b ."
        " ?b skos:prefLabel ?l ; schema:areaServed ?j . FILTER(STRENDS(STR(?j), '/GB')) }",
    )
    assert sorted(map(str, labels)) == [
        "Borders Care Board",
        "Council for Prescribing Practice",
        "Ministry of Wellbeing",
    ]


def test_variant_netherlands_jurisdiction(variant: Graph) -> None:
    assert iri_set(
        variant, "SELECT ?j WHERE { ?e mkg:position 6 ; mkg:describes ?d . ?d dcterms:coverage ?j }"
    ) == {BASE + "id/jurisdiction/NL"}


def test_variant_discussions(variant: Graph) -> None:
    rows = ask(variant, "SELECT ?p ?s WHERE { ?e mkg:position ?p ; mkg:discussedIn ?s }")
    found = {(p, str(s)[len(DRUG) :]) for p, s in rows}
    issues = "cell/B3/bite/section/issues-to-consider-and-discuss"
    assert found == {
        (2, "cell/B3/bite/section/highlighted-study"),
        (2, issues),
        (3, "cell/A3/bite"),
        (4, issues),
        (6, "cell/B3/bite/section/where-should-i-start"),
    }


def test_variant_related_study_below(variant: Graph) -> None:
    rows = ask(
        variant, "SELECT ?a ?b WHERE { ?x mkg:relatedTo ?y . ?x mkg:position ?a . ?y mkg:position ?b }"
    )
    assert set(rows) == {(1, 2), (2, 1)}


def test_variant_mentions(variant: Graph) -> None:
    rows = ask(
        variant,
        "SELECT ?p ?title ?y ?publisher WHERE { ?e mkg:position ?p ; mkg:mentions ?d ."
        " ?d dcterms:title ?title ; fabio:hasPublicationYear ?year . BIND(STR(?year) AS ?y)"
        " OPTIONAL { ?d dcterms:publisher/skos:prefLabel ?publisher } }",
    )
    assert {(p, str(t), y, str(b) if b else None) for p, t, y, b in rows} == {
        (4, "Pooled analysis restricted to general practitioners", "2015", None),
        (5, "Similar report for Scotland", "2011", "NHS Health Scotland"),
    }
    assert column(variant, "SELECT ?d WHERE { ?d a fabio:Report }") == [
        URIRef(DOC + "2011-similar-report-for-scotland")
    ]


def test_variant_issue_headings_with_and_without_question_marks(variant: Graph) -> None:
    issues = DRUG + "cell/B3/bite/section/issues-to-consider-and-discuss"
    rows = ask(
        variant,
        f"SELECT ?t WHERE {{ ?s dcterms:isPartOf <{issues}> ; dcterms:title ?t ; mkg:order ?o }} ORDER BY ?o",
    )
    assert [str(t) for (t,) in rows] == [
        "Training pays off for prescribers",
        "Does the waiting list kill?",
        "Keep the doctor in charge",
    ]
    # "Alcohol Matrix cell B3’s bite" names the other matrix; a bare "cell C3’s bite" means this one.
    assert iri_set(variant, f"SELECT ?b WHERE {{ <{DRUG}cell/B3/bite> dcterms:references ?b }}") == {
        DRUG + "cell/A3/bite",
        DRUG + "cell/C3/bite",
        BASE + "id/matrix/alcohol/cell/B3/bite",
    }


def test_variant_provenance_and_no_furniture(variant: Graph) -> None:
    missing = column(
        variant,
        "SELECT ?x WHERE { VALUES ?c { mkg:Entry mkg:Document mkg:BiteSection } ?x a ?c ."
        " FILTER NOT EXISTS { ?x prov:wasDerivedFrom/oa:hasSelector/oa:exact ?e } }",
    )
    assert missing == []
    literals = [str(o) for _, _, o in variant if isinstance(o, Literal)]
    for phrase in FURNITURE:
        assert not [text for text in literals if phrase in text], phrase


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("Who pays for the group? The answer varies by area.", "Who pays for the group?"),
        ("Mutual aid for Scotland The evidence here is thin.", "Mutual aid for Scotland"),
        ("Trust the clinician What research cannot settle, judgement must.", "Trust the clinician"),
        ("Listen to patients Without their views nothing changes.", "Listen to patients"),
        ("Doctors and NHS budgets In practice money decides.", "Doctors and NHS budgets"),
    ],
)
def test_issue_heading_heuristic(text: str, heading: str) -> None:
    split = split_issue_heading(text)
    assert split is not None and split[0] == heading
    assert split[1] == text[len(heading) :].strip()


# --- pages the parser must refuse -------------------------------------------------------------------------


def variant_text() -> str:
    return (PAGES / "drug-matrix-cell-B3.txt").read_text(encoding="utf-8")


def page_from(tmp_path: Path, text: str, name: str = "bad-page") -> SourcePage:
    path = tmp_path / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    return read_source(path)


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def refusal(page: SourcePage) -> SourceError:
    with pytest.raises(SourceError) as caught:
        parse_page(page, MINTER, EXTRACTED_AT)
    assert caught.value.file == str(page.path)
    return caught.value


def test_refuses_page_without_title(tmp_path: Path) -> None:
    text = variant_text().replace("Drug Matrix cell B3: Practitioners; Medical treatment", "Practitioners")
    error = refusal(page_from(tmp_path, text))
    assert error.line == 1 and "title" in error.problem


def test_refuses_entry_without_year(tmp_path: Path) -> None:
    text = variant_text().replace(
        "Prescriber training programmes compared (2016).", "Prescriber training programmes compared."
    )
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "R Prescriber training")
    assert "no year" in error.problem


def test_refuses_unknown_category_letter(tmp_path: Path) -> None:
    text = variant_text().replace("R Prescriber training", "X Prescriber training")
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "X Prescriber training")
    assert "unknown category 'X'" in error.problem


def test_refuses_line_in_entries_that_is_no_entry(tmp_path: Path) -> None:
    text = variant_text().replace("R Prescriber training", "Prescriber training")
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "Prescriber training")
    assert "category letter" in error.problem


@pytest.mark.parametrize(
    "cut_at", ["Several had died before a place", "Where should I start? Begin", "Keep the doctor"]
)
def test_refuses_truncated_page(tmp_path: Path, cut_at: str) -> None:
    full = variant_text()
    text = full[: full.index(cut_at) + len(cut_at)]
    error = refusal(page_from(tmp_path, text))
    assert error.line == text.count("\n") + 1
    assert "truncated" in error.problem


def test_refuses_entry_that_ends_mid_sentence(tmp_path: Path) -> None:
    text = variant_text().replace(
        "Official standards on training, supervision and audit for doctors who prescribe "
        "substitutes. See also similar report for Scotland (NHS Health Scotland, 2011).",
        "Official standards on training, supervision and",
    )
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "G Standards for opioid")
    assert "mid-sentence" in error.problem


def test_refuses_unknown_jurisdiction(tmp_path: Path) -> None:
    text = variant_text().replace("[Netherlands]", "[Atlantis]")
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "[Atlantis]") and "Atlantis" in error.problem


def test_refuses_discussion_in_a_missing_section(tmp_path: Path) -> None:
    text = variant_text().replace(
        "Discussion in bite’s Where should I start? section", "Discussion in bite’s Further reading section"
    )
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "G Clinician guidance") and "Further reading" in error.problem


def test_refuses_unresolvable_cross_reference(tmp_path: Path) -> None:
    text = variant_text().replace("Related study below.", "Related review above.")
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "S G Ten rules") and "review" in error.problem


def test_refuses_bite_text_before_any_heading(tmp_path: Path) -> None:
    text = variant_text().replace("What is this cell about? The doctor", "Preamble. The doctor")
    error = refusal(page_from(tmp_path, text))
    assert error.line == line_of(text, "Preamble.") and "heading" in error.problem


def test_read_page_exposes_records() -> None:
    parsed = read_page(read_source(SEED))
    assert (parsed.title.matrix, parsed.title.cell) == ("alcohol", "E4")
    assert (parsed.title.column_label, parsed.title.row_label) == (
        "Treatment systems",
        "Psychosocial therapies",
    )
    assert [entry.position for entry in parsed.entries] == list(range(1, 17))
    assert parsed.entries[13].citation.publishers == (
        "Department of Health",
        "National Treatment Agency for Substance Misuse",
    )


def test_straight_apostrophes_parse_like_curly_ones(tmp_path: Path, seed: Graph) -> None:
    page = page_from(tmp_path, SEED.read_text(encoding="utf-8").replace("’", "'"), "alcohol-matrix-cell-E4")
    straight = parse_page(page, MINTER, EXTRACTED_AT)
    assert discussed(straight) == discussed(seed)
    query = f"SELECT ?b WHERE {{ <{BITE}> dcterms:references ?b }}"
    assert iri_set(straight, query) == iri_set(seed, query)
    assert len(straight) == len(seed)
