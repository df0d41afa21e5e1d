"""The human-readable pages: contexts from :class:`matrixkg.pages.Pages`, and parsed HTML through the app.

HTML is compared as parsed links and text (lxml), never as raw markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from matrixkg.config import Settings
from matrixkg.iris import FABIO, MKG, Minter
from matrixkg.pages import Pages, build_timeline, jsonld_script, shade_level
from matrixkg.store import OxigraphStore, Store

BASE = "http://localhost:8000/"
E4 = "/doc/matrix/alcohol/cell/E4"
HTML = {"Accept": "text/html"}

TOP_SECTIONS = ["What is this cell about?", "Where should I start?", "Highlighted study",
                "Issues to consider and discuss"]
ISSUES = ["So fundamental it needs no evidence?", "How much should be left to services?",
          "Build your aftercare system on mutual aid?", "Support mutual aid says NICE"]
# Publication years of the seed page's entries, in page order (S, then K, R, G).
YEARS = ["1981", "2012", "2008", "2010", "2012", "2007", "2011", "2011", "2009", "2014", "2006", "2003",
         "2011", "2006", "2008", "1998"]


# --- fixtures -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(built: Settings, store: Store) -> Iterator[TestClient]:
    """Return a client of the app over the bundled build."""
    from matrixkg.web import create_app

    with TestClient(create_app(built, store)) as test_client:
        yield test_client


def parse(client: TestClient, path: str, status: int = 200) -> lxml.html.HtmlElement:
    """Return the parsed HTML page at *path*, checking its status."""
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(response.text)


def texts(elements: list[lxml.html.HtmlElement]) -> list[str]:
    """Return the whitespace-normalised text of each element."""
    return [" ".join(e.text_content().split()) for e in elements]


def heading(section: lxml.html.HtmlElement) -> str:
    """Return the heading text of a bite section, without its permalink."""
    h = section.xpath("./*[self::h2 or self::h3 or self::h4 or self::h5 or self::h6]")[0]
    return (h.text or "").strip()


def jsonld(tree: lxml.html.HtmlElement) -> dict[str, object]:
    """Return the page's embedded schema.org JSON-LD."""
    scripts = tree.xpath('//script[@type="application/ld+json"]')
    assert len(scripts) == 1
    data: dict[str, object] = json.loads(scripts[0].text)
    return data


def strings(value: object) -> set[str]:
    """Return every string inside a JSON value."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value)) if value else set()
    return set()


# --- pure helpers -------------------------------------------------------------------------------------------
def test_jsonld_script_cannot_close_the_script_element() -> None:
    hostile = {"name": '</script><script>alert("x")</script> & <!--'}
    text = str(jsonld_script(hostile))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == hostile


def test_shade_levels_cover_the_scale() -> None:
    assert [shade_level(n, 10) for n in range(0, 11)] == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert shade_level(3, 0) == 0


def test_timeline_has_no_marks_without_years() -> None:
    assert build_timeline([]) is None


# --- the home page ------------------------------------------------------------------------------------------
def test_home_draws_both_matrices_with_counts(client: TestClient) -> None:
    response = client.get("/", headers=HTML)
    assert response.template.name == "home.html"  # type: ignore[attr-defined]
    assert response.context["figures"]["entries"] == 16  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(response.text)
    grids = tree.xpath('//table[contains(@class, "grid")]')
    assert len(grids) == 2
    for grid in grids:
        cells = grid.xpath(".//tbody/tr/td")
        assert len(cells) == 25
        assert texts(grid.xpath(".//thead//th/abbr")) == list("ABCDE")
        assert texts(grid.xpath(".//tbody/tr/th/abbr")) == ["1", "2", "3", "4", "5"]
    counts = {a.get("href"): int(a.xpath('.//span[@class="cell-count"]')[0].text)
              for a in tree.xpath("//table//td/a")}
    assert counts[BASE + "doc/matrix/alcohol/cell/E4"] == 16
    assert sum(counts.values()) == 16
    e4 = tree.xpath(f'//table//a[@href="{BASE}doc/matrix/alcohol/cell/E4"]/..')[0]
    assert "shade-5" in e4.get("class")
    hrefs = set(tree.xpath("//a/@href"))
    assert {BASE + "sparql", BASE + "def/matrixkg"} <= hrefs
    assert jsonld(tree)["@type"] == "Dataset"


# --- the cell page ------------------------------------------------------------------------------------------
def test_cell_page_groups_sixteen_entries_by_category(client: TestClient) -> None:
    response = client.get(E4, headers=HTML)
    assert response.template.name == "cell.html"  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(response.text)
    assert len(tree.xpath('//article[contains(@class, "entry")]')) == 16
    groups = tree.xpath('//section[contains(@class, "category-group")]')
    sizes = {g.get("id"): len(g.xpath('.//article[contains(@class, "entry")]')) for g in groups}
    assert sizes == {"group-S": 1, "group-K": 6, "group-R": 5, "group-G": 4}
    assert [g.get("id") for g in groups] == ["group-S", "group-K", "group-R", "group-G"]
    assert texts(tree.xpath('//article[contains(@class, "entry")]//span[@class="year"]')) == YEARS
    assert texts(tree.xpath("//h1")) == ["E4 Treatment systems; Psychosocial therapies"]


def test_cell_page_shows_the_bite_in_order(client: TestClient) -> None:
    tree = parse(client, E4)
    top = tree.xpath('//section[@id="bite"]/section[contains(@class, "bite-section")]')
    assert [heading(s) for s in top] == TOP_SECTIONS
    issues = top[-1].xpath('./section[contains(@class, "bite-section")]')
    assert [heading(s) for s in issues] == ISSUES
    first = top[0].xpath("./p")
    assert first[0].text_content().startswith("The roles of ‘psychosocial’ therapies")
    assert all(s.get("id").startswith("section-") for s in top + issues)


def test_discussed_in_links_land_on_sections_of_the_same_page(client: TestClient) -> None:
    tree = parse(client, E4)
    ids = set(tree.xpath("//@id"))
    links = tree.xpath('//a[contains(@class, "discussed-link")]')
    local = [a.get("href") for a in links if a.get("href").startswith("#")]
    assert len(local) >= 10
    assert all(href[1:] in ids and href.startswith("#section-") for href in local)
    # The peer-support review is discussed in the Highlighted study section (and the Issues).
    peer = tree.xpath('//article[@id="entry-2009-peer-based-recovery-support-services"]')[0]
    assert "#section-highlighted-study" in peer.xpath('.//a[contains(@class, "discussed-link")]/@href')
    # Other cells' bites are links to those cells' pages.
    elsewhere = [a.get("href") for a in links if not a.get("href").startswith("#")]
    assert BASE + "doc/matrix/alcohol/cell/D2#bite" in elsewhere


def test_cell_page_cross_references_link_to_entry_anchors(client: TestClient) -> None:
    tree = parse(client, E4)
    uk = tree.xpath('//article[@id="entry-2012-active-referral-promotes-na-aa-attendance"]')[0]
    assert "#entry-2007-in-usa-active-and-persistent-attempts" in uk.xpath(".//dl//a/@href")
    nice = tree.xpath('//article[@id="entry-2011-commissioning-an-alcohol-intervention-and-treatment"]')[0]
    nice_body = BASE + "doc/organization/national-institute-for-health-and-care-excellence"
    assert nice_body in nice.xpath(".//a/@href")


def test_cell_page_advertises_formats_and_citation(client: TestClient) -> None:
    tree = parse(client, E4)
    types = set(tree.xpath('//link[@rel="alternate"]/@type'))
    assert {"text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"} <= types
    visible = texts(tree.xpath('//p[@class="formats"]/a'))
    assert {"Turtle", "JSON-LD", "N-Triples", "RDF/XML"} <= set(visible)
    assert tree.xpath('//link[@rel="canonical"]/@href') == [BASE + "doc/matrix/alcohol/cell/E4"]
    assert BASE + "id/matrix/alcohol/cell/E4" in tree.xpath('//div[@class="cite"]//a/@href')


def test_cell_page_jsonld_is_a_defined_term(client: TestClient) -> None:
    data = jsonld(parse(client, E4))
    assert data["@type"] == "DefinedTerm"
    assert data["@id"] == BASE + "id/matrix/alcohol/cell/E4"
    assert data["termCode"] == "E4"
    works = data["subjectOf"]
    assert isinstance(works, list) and len(works) == 16
    kinds = {json.dumps(w["@type"]) for w in works}
    assert kinds == {'"ScholarlyArticle"', '"Report"', '["Report", "MedicalGuideline"]'}


def test_cell_page_links_neighbours(client: TestClient) -> None:
    tree = parse(client, E4)
    hrefs = tree.xpath('//nav[@aria-label="Neighbouring cells"]//a/@href')
    assert sorted(hrefs) == sorted(BASE + f"doc/matrix/alcohol/cell/{c}" for c in ("D4", "E3", "E5"))


def test_cell_page_timeline_has_one_mark_per_entry(client: TestClient) -> None:
    tree = parse(client, E4)
    svg = tree.xpath('//*[local-name()="svg" and contains(@class, "timeline")]')[0]
    assert svg.get("role") == "img"
    assert "16 entries" in svg.get("aria-label")
    assert svg.xpath('./*[local-name()="title"]')
    assert len(svg.xpath('.//*[local-name()="circle" and contains(@class, "mark")]')) == 16


def test_cell_context_from_pages_directly(built: Settings, store: Store) -> None:
    pages = Pages(built, store)
    iri = URIRef(BASE + "id/matrix/alcohol/cell/E4")
    view = pages.resource_view(iri, store.describe(iri), store.backlinks(iri))
    assert view.template == "cell.html"
    groups = [(g.code, len(g.entries)) for g in view.context["groups"]]
    assert groups == [("S", 1), ("K", 6), ("R", 5), ("G", 4)]
    assert [c.code for c in view.context["referred_cells"]] == ["A2", "D2", "E3", "A4"]
    assert view.context["timeline"] is not None and len(view.context["timeline"].marks) == 16


# --- the other pages ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "template", "schema_type"), [
    ("/doc/matrix/alcohol", "matrix.html", "DefinedTermSet"),
    ("/doc/matrix/alcohol/cell/E4/entry/2012-difficult-but-system-change-can-be", "entry.html", "ListItem"),
    ("/doc/document/2011-commissioning-an-alcohol-intervention-and-treatment", "document.html",
     ["Report", "MedicalGuideline"]),
    ("/doc/document/2009-peer-based-recovery-support-services", "document.html", "ScholarlyArticle"),
    ("/doc/organization/national-institute-for-health-and-care-excellence", "body.html", "Organization"),
    ("/doc/matrix/alcohol/cell/E4/bite", "bite.html", "Article"),
    ("/doc/matrix/alcohol/cell/E4/bite/section/highlighted-study", "section.html", "CreativeWork"),
    ("/doc/jurisdiction/GB", "jurisdiction.html", "Country"),
    ("/doc/jurisdiction/GB-SCT", "jurisdiction.html", "AdministrativeArea"),
    ("/doc/category/K", "category.html", "DefinedTerm"),
    ("/doc/matrix/alcohol/row/4", "resource.html", "Thing"),
])
def test_each_kind_of_resource_has_its_page(client: TestClient, path: str, template: str,
                                            schema_type: object) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.template.name == template  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(response.text)
    assert jsonld(tree)["@type"] == schema_type
    assert len(tree.xpath("//h1")) == 1


def test_body_page_lists_its_guidance_with_jurisdiction(client: TestClient) -> None:
    tree = parse(client, "/doc/organization/national-institute-for-health-and-care-excellence")
    rows = tree.xpath('//table[contains(@class, "documents")]/tbody/tr')
    titles = texts([r.xpath("./th")[0] for r in rows])
    assert "Commissioning an alcohol intervention and treatment system" in titles
    assert "United Kingdom" in " ".join(texts(rows))
    assert any("/cell/E4" in href for href in tree.xpath('//table[contains(@class, "documents")]//a/@href'))


def test_section_page_lists_what_it_discusses(client: TestClient) -> None:
    tree = parse(client, "/doc/matrix/alcohol/cell/E4/bite/section/highlighted-study")
    discussed = texts(tree.xpath('//aside//a[contains(@href, "/entry/")]'))
    assert discussed == ["Peer-based recovery support services"]
    assert BASE + "doc/matrix/alcohol/cell/E4#section-highlighted-study" in tree.xpath("//a/@href")


def test_entry_page_shows_its_source_passage(client: TestClient) -> None:
    tree = parse(client, "/doc/matrix/alcohol/cell/E4/entry/2011-text-chat-therapy")
    quote = texts(tree.xpath('//figure[@class="source-quote"]/blockquote'))
    assert quote and quote[0].startswith("K Text chat therapy (2011).")
    assert BASE + "doc/document/2011-simulation-study" in tree.xpath("//a/@href")


def test_generic_page_pages_its_backlinks(built: Settings, store: Store) -> None:
    from matrixkg.web import create_app

    settings = replace(built, backlink_page_size=2)
    with TestClient(create_app(settings, store)) as small:
        first = parse(small, "/doc/matrix/alcohol/row/4")
        assert small.get("/doc/matrix/alcohol/row/4", headers=HTML).template.name == "resource.html"  # type: ignore[attr-defined]
        assert first.xpath('//table[contains(@class, "triples")]//th[@scope="row"]')
        nxt = first.xpath('//nav[@class="pager"]/a[@rel="next"]/@href')
        assert nxt == ["?backlinks=2"]
        assert not first.xpath('//nav[@class="pager"]/a[@rel="prev"]')
        second = parse(small, "/doc/matrix/alcohol/row/4" + nxt[0])
        assert second.xpath('//nav[@class="pager"]/a[@rel="prev"]/@href') == ["?backlinks=1"]


def test_ontology_page_documents_every_term(client: TestClient) -> None:
    response = client.get("/def/matrixkg", headers=HTML)
    assert response.template.name == "ontology.html"  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(response.text)
    ids = set(tree.xpath('//article[@class="term"]/@id'))
    assert {"Cell", "Entry", "Document", "BiteSection", "discussedIn", "correspondsTo", "position"} <= ids
    assert BASE + "def/matrixkg.ttl" in tree.xpath("//a/@href")
    cell = tree.xpath('//article[@id="Cell"]')[0]
    assert "skos:Concept" in texts(cell.xpath(".//dd/a"))
    assert BASE + "doc/matrix/alcohol/cell/E4" in cell.xpath(".//dd/a/@href") or cell.xpath(".//dd/a")
    assert jsonld(tree)["@type"] == "DefinedTermSet"


def test_not_found_page(client: TestClient) -> None:
    response = client.get("/doc/no/such/thing", headers=HTML)
    assert response.status_code == 404
    assert response.template.name == "404.html"  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(response.text)
    assert "/doc/no/such/thing" in tree.text_content()


@pytest.mark.parametrize("path", ["/", E4, "/doc/matrix/alcohol", "/doc/category/G", "/def/matrixkg",
                                  "/doc/matrix/alcohol/row/4", "/doc/no/such/thing"])
def test_pages_are_accessible_by_construction(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    tree = lxml.html.fromstring(response.text)
    assert tree.get("lang") == "en"
    assert len(tree.xpath("//h1")) == 1
    for landmark in ("header", "nav", "main", "footer"):
        assert tree.xpath(f"//{landmark}"), landmark
    skip = tree.xpath('//a[@class="skip-link"]/@href')
    assert skip == ["#main"] and tree.xpath('//main[@id="main"]')
    for th in tree.xpath("//table//th"):
        assert th.get("scope") in ("row", "col"), lxml.html.tostring(th)[:200]
    assert tree.xpath('//link[@rel="stylesheet"]/@href') == [BASE + "static/matrixkg.css"]


def test_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/matrixkg.css")
    assert response.status_code == 200
    assert ":target" in response.text


# --- hostile literals ---------------------------------------------------------------------------------------
HOSTILE = '<script>alert(1)</script> "quoted" & </script><!--'


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Return a client over a tiny dataset whose headline and summary are hostile markup."""
    from matrixkg.build import publish_nquads
    from matrixkg.web import create_app

    minter = Minter(BASE)
    graph = Graph(identifier=minter.graph("source/hostile"))
    matrix, cell = minter.matrix("alcohol"), minter.cell("alcohol", "A1")
    entry, document = minter.entry("alcohol", "A1", "2020-hostile"), minter.document("2020-hostile")
    for triple in [
        (matrix, RDF.type, MKG.Matrix), (matrix, SKOS.prefLabel, Literal("Alcohol Matrix", lang="en")),
        (cell, RDF.type, MKG.Cell), (cell, SKOS.notation, Literal("A1")), (cell, MKG.inMatrix, matrix),
        (cell, SKOS.prefLabel, Literal(HOSTILE, lang="en")),
        (entry, RDF.type, MKG.Entry), (entry, MKG.inCell, cell), (entry, DCTERMS.title, Literal(HOSTILE)),
        (entry, DCTERMS.abstract, Literal(HOSTILE)), (entry, MKG.position, Literal(1)),
        (entry, MKG.describes, document), (document, RDF.type, MKG.Document),
        (document, RDF.type, FABIO.JournalArticle), (document, DCTERMS.title, Literal(HOSTILE)),
        (document, FABIO.hasPublicationYear, Literal("2020", datatype=XSD.gYear)),
        (document, RDFS.comment, Literal(HOSTILE)),
    ]:
        graph.add(triple)
    tmp = tmp_path_factory.mktemp("hostile")
    nquads = tmp / "hostile.nq"
    # N-Triples lines plus the graph name: Dataset's own N-Quads writer warns (deprecated API) in rdflib 7.6.
    lines = graph.serialize(format="nt").splitlines()
    nquads.write_text("".join(f"{line[:-1]}<{graph.identifier}> .\n" for line in lines if line.strip()),
                      encoding="utf-8")
    settings = Settings(base_uri=BASE, build_dir=tmp / "build",
                        ontology_file=Path(__file__).resolve().parent.parent / "ontology" / "matrixkg.ttl")
    publish_nquads(nquads, settings.build_dir, BASE)
    store = OxigraphStore(settings.build_dir)
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client
    store.close()


@pytest.mark.parametrize("path", ["/doc/matrix/alcohol/cell/A1",
                                  "/doc/matrix/alcohol/cell/A1/entry/2020-hostile",
                                  "/doc/document/2020-hostile", "/"])
def test_hostile_literals_are_escaped(hostile_client: TestClient, path: str) -> None:
    response = hostile_client.get(path, headers=HTML)
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    tree = lxml.html.fromstring(response.text)
    assert not [s for s in tree.xpath("//script") if s.get("type") != "application/ld+json"]
    if path != "/":
        assert HOSTILE in tree.text_content()
        assert HOSTILE in strings(jsonld(tree))
