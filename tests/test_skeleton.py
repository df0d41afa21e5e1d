"""The skeleton (matrices, rows, columns, cells, bites, categories, jurisdictions) and the curated data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef

from matrixkg.errors import ConfigError
from matrixkg.iris import MKG, Minter, slugify
from matrixkg.skeleton import skeleton_graph
from matrixkg.validate import load_shapes, validate_graph

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data" / "skeleton.toml"
CURATED = ROOT / "data" / "curated"
BASE = "http://example.org/"
SCHEMA = Namespace("https://schema.org/")
DCTERMS = Namespace("http://purl.org/dc/terms/")


@pytest.fixture(scope="module")
def minter() -> Minter:
    return Minter(BASE)


@pytest.fixture(scope="module")
def skeleton(minter: Minter) -> Graph:
    return skeleton_graph(minter, TABLE)


@pytest.fixture(scope="module")
def curated(minter: Minter) -> Graph:
    graph = Graph()
    for path in sorted(CURATED.glob("*.ttl")):
        graph.parse(path, format="turtle", publicID=minter.base)
    return graph


def _instances(graph: Graph, cls: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef)}


def test_counts(skeleton: Graph) -> None:
    assert len(_instances(skeleton, MKG.Matrix)) == 2
    assert len(_instances(skeleton, MKG.Row)) == 10
    assert len(_instances(skeleton, MKG.Column)) == 10
    assert len(_instances(skeleton, MKG.Cell)) == 50
    assert len(_instances(skeleton, MKG.Bite)) == 50
    assert len(_instances(skeleton, MKG.Category)) == 4
    assert len(_instances(skeleton, MKG.Jurisdiction)) == 14


def test_matrices(skeleton: Graph, minter: Minter) -> None:
    alcohol, drug = minter.matrix("alcohol"), minter.matrix("drug")
    assert skeleton.value(alcohol, SKOS.prefLabel) == Literal("Alcohol Matrix", lang="en")
    assert skeleton.value(drug, SKOS.prefLabel) == Literal("Drug Matrix", lang="en")
    assert skeleton.value(alcohol, SKOS.notation) == Literal("alcohol")
    assert skeleton.value(drug, DCTERMS.title) is not None
    assert (alcohol, RDF.type, SKOS.ConceptScheme) in skeleton


def test_cell_e4(skeleton: Graph, minter: Minter) -> None:
    cell = minter.cell("alcohol", "E4")
    assert skeleton.value(cell, SKOS.prefLabel) == Literal(
        "Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies", lang="en")
    assert skeleton.value(cell, SKOS.notation) == Literal("E4")
    assert skeleton.value(cell, MKG.inMatrix) == minter.matrix("alcohol")
    assert skeleton.value(cell, SKOS.inScheme) == minter.matrix("alcohol")
    assert skeleton.value(cell, MKG.row) == minter.row("alcohol", 4)
    assert skeleton.value(cell, MKG.column) == minter.column("alcohol", "E")
    bite = minter.bite("alcohol", "E4")
    assert skeleton.value(bite, MKG.inCell) == cell
    assert skeleton.value(bite, RDFS.label) == Literal("Matrix Bite: Alcohol Matrix cell E4", lang="en")


@pytest.mark.parametrize(("matrix", "kind", "notation", "label", "order"), [
    ("alcohol", "row", "1", "Screening and brief intervention", 1),
    ("drug", "row", "1", "Reducing harm", 1),
    ("drug", "row", "5", "Safeguarding the community", 5),
    ("alcohol", "column", "C", "Management/supervision", 3),
    ("drug", "column", "E", "Treatment systems", 5),
])
def test_rows_and_columns(skeleton: Graph, minter: Minter, matrix: str, kind: str, notation: str, label: str,
                          order: int) -> None:
    iri = minter.row(matrix, notation) if kind == "row" else minter.column(matrix, notation)
    assert skeleton.value(iri, SKOS.prefLabel) == Literal(label, lang="en")
    assert skeleton.value(iri, SKOS.notation) == Literal(notation)
    assert skeleton.value(iri, MKG.order) == Literal(order)
    assert skeleton.value(iri, SKOS.inScheme) == minter.matrix(matrix)
    assert (iri, RDF.type, SKOS.Concept) in skeleton


def test_cell_notations_unique_within_each_matrix(skeleton: Graph) -> None:
    per_matrix = Counter((skeleton.value(c, MKG.inMatrix), str(skeleton.value(c, SKOS.notation)))
                         for c in _instances(skeleton, MKG.Cell))
    assert len(per_matrix) == 50
    assert set(per_matrix.values()) == {1}


def test_categories(skeleton: Graph, minter: Minter) -> None:
    scheme = minter.category_scheme()
    assert skeleton.value(scheme, SKOS.prefLabel) == Literal("Entry categories", lang="en")
    labels = {str(skeleton.value(c, SKOS.notation)): str(skeleton.value(c, SKOS.prefLabel))
              for c in _instances(skeleton, MKG.Category)}
    assert labels == {"S": "Seminal study", "K": "Key study", "R": "Review", "G": "Guidance"}
    for category in _instances(skeleton, MKG.Category):
        assert skeleton.value(category, SKOS.inScheme) == scheme
        assert skeleton.value(category, SKOS.definition) is not None


def test_jurisdictions(skeleton: Graph, minter: Minter) -> None:
    scotland = minter.jurisdiction("GB-SCT")
    assert skeleton.value(scotland, RDFS.label) == Literal("Scotland", lang="en")
    assert skeleton.value(scotland, SKOS.broader) == minter.jurisdiction("GB")
    codes = [str(skeleton.value(j, SKOS.notation)) for j in _instances(skeleton, MKG.Jurisdiction)]
    assert len(codes) == len(set(codes))
    assert {"GB", "GB-ENG", "GB-WLS", "GB-NIR", "US", "NL"} <= set(codes)


def test_no_blank_nodes_and_every_iri_under_the_base(skeleton: Graph) -> None:
    assert not [t for t in skeleton if any(isinstance(x, BNode) for x in t)]
    subjects = {s for s in skeleton.subjects() if isinstance(s, URIRef)}
    assert all(s.startswith(BASE + "id/") for s in subjects)


def test_skeleton_follows_the_base() -> None:
    other = skeleton_graph(Minter("https://data.example.net/matrix/"), TABLE)
    cell = URIRef("https://data.example.net/matrix/id/matrix/drug/cell/A1")
    assert (cell, RDF.type, MKG.Cell) in other


def test_skeleton_and_curated_data_validate_clean(skeleton: Graph, curated: Graph) -> None:
    shapes = load_shapes(ROOT / "shapes" / "matrixkg.shapes.ttl")
    report = validate_graph(skeleton + curated, shapes)
    assert report.results == [], report.to_text()


def test_skeleton_validates_clean_with_the_ontology(skeleton: Graph) -> None:
    # With the ontology in the data graph SHACL follows rdfs:subClassOf for targets: still clean.
    shapes = load_shapes(ROOT / "shapes" / "matrixkg.shapes.ttl")
    data = skeleton + Graph().parse(ROOT / "ontology" / "matrixkg.ttl", format="turtle")
    report = validate_graph(data, shapes)
    assert report.results == [], report.to_text()


def test_curated_bodies(curated: Graph, skeleton: Graph, minter: Minter) -> None:
    bodies = _instances(curated, MKG.GuidanceBody)
    assert len(bodies) == 9
    for body in bodies:
        name = str(curated.value(body, SKOS.prefLabel))
        assert body == minter.organization(slugify(name)), name
        area = curated.value(body, SCHEMA.areaServed)
        assert (area, RDF.type, MKG.Jurisdiction) in skeleton, (name, area)
    nice = minter.organization("national-institute-for-health-and-care-excellence")
    assert curated.value(nice, SKOS.altLabel) == Literal("NICE")
    nta = minter.organization("national-treatment-agency-for-substance-misuse")
    assert curated.value(nta, SCHEMA.areaServed) == minter.jurisdiction("GB-ENG")
    acronyms = {str(curated.value(b, SKOS.altLabel)) for b in bodies if curated.value(b, SKOS.altLabel)}
    assert {"NICE", "SAMHSA", "DH", "NTA", "SACDM", "PHE", "NIDA", "NIAAA"} <= acronyms


def test_table_errors_name_the_file(tmp_path: Path, minter: Minter) -> None:
    missing = tmp_path / "skeleton.toml"
    missing.write_text('columns = []\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="skeleton.toml"):
        skeleton_graph(minter, missing)
    dangling = tmp_path / "dangling.toml"
    dangling.write_text(TABLE.read_text("utf-8").replace('broader = "GB" }', 'broader = "UK" }', 1),
                        encoding="utf-8")
    with pytest.raises(ConfigError, match="UK"):
        skeleton_graph(minter, dangling)
    bad_code = tmp_path / "bad.toml"
    bad_code.write_text(TABLE.read_text("utf-8").replace('notation = "E"', 'notation = "F"', 1),
                        encoding="utf-8")
    with pytest.raises(ConfigError, match="F"):
        skeleton_graph(minter, bad_code)


def test_working_label_matches_the_page_title(skeleton: Graph, minter: Minter) -> None:
    # The skeleton's label stands in for cells with no page yet, so it must read as a page's title line does.
    page = (ROOT / "data" / "sources" / "alcohol-matrix-cell-E4.txt").read_text("utf-8").splitlines()
    label = str(skeleton.value(minter.cell("alcohol", "E4"), SKOS.prefLabel))
    assert label in page
