"""The ontology: it parses, carries its metadata, and declares and documents every mkg: term in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, Namespace, URIRef

from matrixkg.iris import MKG, ONTOLOGY_IRI, Minter
from matrixkg.skeleton import skeleton_graph

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = ROOT / "ontology" / "matrixkg.ttl"
SHAPES_FILE = ROOT / "shapes" / "matrixkg.shapes.ttl"
MODEL_DOC = ROOT / "docs" / "model.md"
ONTOLOGY_DOC = ROOT / "docs" / "ontology.md"
DCTERMS = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
SCHEMA = Namespace("https://schema.org/")
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


def _declared(ontology: Graph) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in ontology.subjects(RDF.type, t)
            if isinstance(s, URIRef) and s.startswith(str(MKG))}


def _mkg_terms_in(graph: Graph) -> set[URIRef]:
    return {t for triple in graph for t in triple if isinstance(t, URIRef) and t.startswith(str(MKG))}


def test_ontology_metadata(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/matrixkg/ns/0.1.0")
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.creator, DCTERMS.created, DCTERMS.modified):
        assert ontology.value(ONTOLOGY_IRI, predicate) is not None, predicate
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == "mkg"
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(MKG)


def test_ontology_has_no_blank_nodes(ontology: Graph) -> None:
    # It is published as a named graph of the dataset, and the dataset has none.
    assert not [t for t in ontology if any(isinstance(x, BNode) for x in t)]


def test_every_declared_term_is_documented(ontology: Graph) -> None:
    terms = _declared(ontology)
    assert len(terms) >= 28
    for term in terms:
        for predicate in (RDFS.label, RDFS.comment):
            values = list(ontology.objects(term, predicate))
            assert any(isinstance(v, Literal) and v.language == "en" for v in values), (term, predicate)
        assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY_IRI, term


def test_every_property_has_domain_and_range(ontology: Graph) -> None:
    properties = {t for t in _declared(ontology) if (t, RDF.type, OWL.Class) not in ontology}
    for prop in properties:
        assert (prop, RDFS.domain, None) in ontology or (prop, SCHEMA.domainIncludes, None) in ontology, prop
        assert (prop, RDFS.range, None) in ontology or (prop, SCHEMA.rangeIncludes, None) in ontology, prop


def test_every_class_aligns_to_a_standard_class(ontology: Graph) -> None:
    classes = {t for t in _declared(ontology) if (t, RDF.type, OWL.Class) in ontology}
    for cls in classes:
        parents = set(ontology.objects(cls, RDFS.subClassOf))
        assert any(not p.startswith(str(MKG)) for p in parents), cls


def test_key_axioms(ontology: Graph) -> None:
    assert (MKG.correspondsTo, RDF.type, OWL.SymmetricProperty) in ontology
    assert (MKG.discussedIn, OWL.inverseOf, MKG.discusses) in ontology
    assert (MKG.inMatrix, RDFS.subPropertyOf, SKOS.inScheme) in ontology
    assert (MKG.GuidanceBody, RDFS.subClassOf, URIRef("http://www.w3.org/ns/org#Organization")) in ontology
    assert (MKG.BiteSection, RDFS.subClassOf, URIRef("http://purl.org/spar/doco/Section")) in ontology
    assert (MKG.Jurisdiction, RDFS.subClassOf, DCTERMS.Jurisdiction) in ontology


def test_declares_every_term_the_model_uses(ontology: Graph) -> None:
    used = {MKG[name] for name in re.findall(r"\bmkg:([A-Za-z][A-Za-z0-9]*)", MODEL_DOC.read_text("utf-8"))}
    assert used, "docs/model.md names no mkg: terms?"
    assert used - _declared(ontology) == set()


def test_declares_every_term_the_shapes_use(ontology: Graph) -> None:
    used = _mkg_terms_in(Graph().parse(SHAPES_FILE, format="turtle"))
    # SPARQL constraints name terms inside strings, out of reach of the triple scan.
    text = SHAPES_FILE.read_text("utf-8")
    used |= {MKG[name] for name in re.findall(r"\bmkg:([A-Za-z][A-Za-z0-9]*)", text)}
    assert used - _declared(ontology) == set()


def test_declares_every_term_the_fixed_data_uses(ontology: Graph) -> None:
    minter = Minter("http://example.org/")
    graph = skeleton_graph(minter, ROOT / "data" / "skeleton.toml")
    for path in sorted((ROOT / "data" / "curated").glob("*.ttl")):
        graph.parse(path, format="turtle", publicID=minter.base)
    used = _mkg_terms_in(graph)
    assert used - _declared(ontology) == set()


def test_docs_name_every_term(ontology: Graph) -> None:
    text = ONTOLOGY_DOC.read_text("utf-8")
    missing = {t for t in _declared(ontology) if f"mkg:{t[len(str(MKG)):]}" not in text}
    assert missing == set()


def _fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_docs_example_turtle_parses_and_uses_declared_terms(ontology: Graph) -> None:
    (example,) = _fenced(ONTOLOGY_DOC.read_text("utf-8"), "turtle")
    graph = Graph().parse(data=example, format="turtle")
    assert len(graph) > 5
    assert _mkg_terms_in(graph) - _declared(ontology) == set()


def test_docs_query_answers_over_model_shaped_data() -> None:
    (query,) = _fenced(ONTOLOGY_DOC.read_text("utf-8"), "sparql")
    data = Graph().parse(ROOT / "tests" / "shapes" / "context.ttl", format="turtle", publicID="http://example.org/")
    rows = [tuple(str(v) for v in row) for row in data.query(query)]  # type: ignore[union-attr]
    assert rows == [("E4", "Commissioning an alcohol intervention and treatment system", "2011", "NICE")]
