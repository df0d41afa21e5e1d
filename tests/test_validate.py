"""SHACL shapes and the validation report: every shape has a conforming and a failing fixture."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from pyshacl import validate as shacl_validate
from rdflib import RDF, SH, Dataset, Graph, Namespace, URIRef

from matrixkg.errors import ConfigError
from matrixkg.validate import SHAPES_NAMESPACE, ValidationReport, load_shapes, validate_graph

ROOT = Path(__file__).resolve().parents[1]
SHAPES_FILE = ROOT / "shapes" / "matrixkg.shapes.ttl"
FIXTURES = Path(__file__).resolve().parent / "shapes"
CONTEXT = FIXTURES / "context.ttl"
BASE = "http://example.org/"
MKGSH = Namespace(SHAPES_NAMESPACE)
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
# Shapes whose failures cannot be had alone: a typed blank node is also a blank node in a triple.
ALSO_FAILS: dict[str, set[str]] = {"NoBlankNodesShape": {"NoBlankTriplesShape"}}


def _targeted_shapes(shapes: Graph) -> list[str]:
    """Return the local names of the shapes that select focus nodes (the helpers have no target)."""
    names = {str(s)[len(SHAPES_NAMESPACE):] for t in TARGETS for s in shapes.subjects(t, None)}
    return sorted(names)


SHAPE_NAMES = _targeted_shapes(load_shapes(SHAPES_FILE))


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(SHAPES_FILE)


def _data(*paths: Path) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle", publicID=BASE)
    return graph


def _family(shapes: Graph, name: str) -> set[str]:
    """Return the node shape and its property shapes: the source shapes its results may name."""
    shape = MKGSH[name]
    return {str(shape)} | {str(p) for p in shapes.objects(shape, SH.property)}


def test_shapes_cover_every_class_of_the_model() -> None:
    covered = {str(o) for o in load_shapes(SHAPES_FILE).objects(None, SH.targetClass)}
    mkg = "https://w3id.org/matrixkg/ns#"
    expected = {mkg + c for c in ("Matrix", "Row", "Column", "Cell", "Category", "Bite", "BiteSection",
                                  "Entry", "Document", "GuidanceBody", "Jurisdiction", "SourcePage")}
    expected |= {"http://purl.org/spar/doco/Paragraph", "http://www.w3.org/ns/prov#Activity",
                 "http://www.w3.org/ns/prov#SoftwareAgent",
                 "http://www.w3.org/ns/oa#SpecificResource", "http://www.w3.org/ns/oa#TextQuoteSelector"}
    assert expected <= covered


def test_every_shape_has_both_fixtures_and_every_fixture_a_shape() -> None:
    fixtures = {p.name for p in FIXTURES.glob("*.ttl")} - {CONTEXT.name}
    expected = {f"{name}.{kind}.ttl" for name in SHAPE_NAMES for kind in ("conforms", "fails")}
    assert fixtures == expected


def test_context_conforms(shapes: Graph) -> None:
    report = validate_graph(_data(CONTEXT), shapes)
    assert report.results == [], report.to_text()


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_conforming_fixture_is_clean(shapes: Graph, name: str) -> None:
    report = validate_graph(_data(CONTEXT, FIXTURES / f"{name}.conforms.ttl"), shapes)
    assert report.conforms
    assert report.results == [], report.to_text()


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_failing_fixture_fails_that_shape_only(shapes: Graph, name: str) -> None:
    report = validate_graph(_data(CONTEXT, FIXTURES / f"{name}.fails.ttl"), shapes)
    assert not report.conforms
    family = _family(shapes, name)
    assert any(r.shape in family for r in report.violations), report.to_text()
    # A fixture that also trips other shapes would hide which shape it tests.
    allowed = family.union(*(_family(shapes, other) for other in ALSO_FAILS.get(name, set())))
    assert {r.shape for r in report.results} <= allowed, report.to_text()


def test_shapes_use_only_terms_shacl_defines(shapes: Graph) -> None:
    shacl = Graph().parse(str(files("pyshacl") / "assets" / "shacl.ttl"), format="turtle")
    defined = set(shacl.subjects())
    used = {term for triple in shapes for term in triple
            if isinstance(term, URIRef) and term.startswith(str(SH))}
    assert used - defined == set()


def test_shapes_graph_is_valid_shacl(shapes: Graph) -> None:
    shacl_shacl = Graph().parse(str(files("pyshacl") / "assets" / "shacl-shacl.ttl"), format="turtle")
    conforms, _graph, text = shacl_validate(shapes, shacl_graph=shacl_shacl, inference="none")
    assert conforms, text


def test_every_constraint_has_message_and_severity(shapes: Graph) -> None:
    properties = set(shapes.objects(None, SH.property))
    sparql = set(shapes.subjects(RDF.type, SH.SPARQLConstraint))
    assert properties and sparql
    for shape in properties:
        assert (shape, SH.message, None) in shapes, shape
        assert (shape, SH.severity, None) in shapes, shape
    for constraint in sparql:
        assert (constraint, SH.message, None) in shapes, constraint
        # Severity is a shape's, not a constraint's (SHACL 2.1.4): the shape hosting it states it.
        assert (constraint, SH.severity, None) not in shapes, constraint
        host = shapes.value(None, SH.sparql, constraint)
        assert (host, SH.severity, None) in shapes, constraint
    # Node shapes with constraints of their own (not only property shapes) say what they check too.
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if any((shape, p, None) in shapes for p in (SH["class"], SH.nodeKind)):
            assert (shape, SH.message, None) in shapes, shape
            assert (shape, SH.severity, None) in shapes, shape


def test_correspondence_one_way_is_a_warning(shapes: Graph) -> None:
    data = _data(CONTEXT, FIXTURES / "EntryShape.conforms.ttl")
    entry = URIRef(BASE + "id/matrix/alcohol/cell/E4/entry/2007-in-usa-active-and-persistent-attempts")
    data.remove((entry, URIRef("https://w3id.org/matrixkg/ns#correspondsTo"), None))
    report = validate_graph(data, shapes)
    assert report.conforms
    expected = [("Warning", str(MKGSH["EntryShape-symmetric"]))]
    assert [(r.severity, r.shape) for r in report.results] == expected
    assert report.results[0].message.count("is symmetric") == 1


def test_report_text_lists_each_result_and_a_summary(shapes: Graph) -> None:
    report = validate_graph(_data(CONTEXT, FIXTURES / "SourcePageShape.fails.ttl"), shapes)
    text = report.to_text()
    assert text.rstrip().endswith("Conforms: no — 2 violations, 0 warnings")
    assert text.count("\nViolation\n") + text.startswith("Violation\n") == 2
    assert "focus node: <http://example.org/id/source/drug-matrix-cell-A1>" in text
    assert "path:       mkg:sha256" in text
    assert "value:      9F86D081884C7D659A2FEAA0C55AD015" in text
    assert "shape:      mkgsh:SourcePageShape-format" in text


def test_report_turtle_is_the_shacl_report(shapes: Graph) -> None:
    report = validate_graph(_data(CONTEXT, FIXTURES / "SourcePageShape.fails.ttl"), shapes)
    graph = Graph().parse(data=report.to_turtle(), format="turtle")
    assert len(set(graph.subjects(RDF.type, SH.ValidationResult))) == 2


def test_warnings_do_not_block(shapes: Graph) -> None:
    data = _data(CONTEXT)
    data.parse(data="""
        @prefix mkg: <https://w3id.org/matrixkg/ns#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <id/organization/an-uncurated-body> a mkg:GuidanceBody ; skos:prefLabel "An uncurated body"@en .
    """, format="turtle", publicID=BASE)
    report = validate_graph(data, shapes)
    assert report.conforms
    assert [(r.severity, r.shape) for r in report.results] == [
        ("Warning", str(MKGSH["GuidanceBodyShape-curated"]))]
    assert report.summary() == "Conforms: yes — 0 violations, 1 warnings"


def test_dataset_is_validated_as_the_union_of_its_graphs(shapes: Graph) -> None:
    # The entry in one graph links to a document in another: valid only when both are seen together.
    dataset = Dataset()
    dataset.graph(URIRef(BASE + "id/graph/context")).parse(CONTEXT, format="turtle", publicID=BASE)
    dataset.graph(URIRef(BASE + "id/graph/page")).parse(
        FIXTURES / "EntryShape.conforms.ttl", format="turtle", publicID=BASE)
    report = validate_graph(dataset, shapes)
    assert report.results == [], report.to_text()
    alone = Graph().parse(FIXTURES / "EntryShape.conforms.ttl", format="turtle", publicID=BASE)
    assert not validate_graph(alone, shapes).conforms


def test_report_is_typed(shapes: Graph) -> None:
    report = validate_graph(_data(CONTEXT, FIXTURES / "TextQuoteSelectorShape.fails.ttl"), shapes)
    assert isinstance(report, ValidationReport)
    line = next(r for r in report.results if r.path == "https://w3id.org/matrixkg/ns#line")
    assert (line.severity, line.value) == ("Violation", "0")
    assert line.focus_node == BASE + "id/source/alcohol-matrix-cell-E4/passage/cccccccccccc/selector"


def test_load_shapes_names_the_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.ttl"):
        load_shapes(bad)
    with pytest.raises(ConfigError, match="missing.ttl"):
        load_shapes(tmp_path / "missing.ttl")
