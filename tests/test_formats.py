"""The formats table, the Accept-header parser and negotiation (RFC 9110 §12.5.1), and the JSON-LD context."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.plugin import Serializer, get

from matrixkg.errors import NotAcceptable
from matrixkg.formats import (
    FORMATS,
    HTML,
    JSONLD,
    NTRIPLES,
    RDF_FORMATS,
    RDFXML,
    TURTLE,
    RdfFormat,
    by_extension,
    by_media_type,
    jsonld_context,
    negotiate,
    parse_accept,
    split_extension,
)
from matrixkg.iris import PREFIXES


# --- the table ----------------------------------------------------------------------------------------------
def test_extensions_and_media_types_name_one_format_each() -> None:
    extensions = [f.extension for f in FORMATS]
    media_types = [m for f in FORMATS for m in f.media_types]
    assert len(set(extensions)) == len(extensions)
    assert len(set(media_types)) == len(media_types)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_lookup_both_ways(fmt: RdfFormat) -> None:
    assert by_extension(fmt.extension) is fmt
    assert by_extension(fmt.extension.upper()) is fmt
    for media_type in fmt.media_types:
        assert by_media_type(media_type) is fmt
        assert by_media_type(media_type.upper() + "; charset=utf-8") is fmt


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.key)
def test_every_rdf_format_has_an_rdflib_serializer(fmt: RdfFormat) -> None:
    assert fmt.serializer is not None
    assert get(fmt.serializer, Serializer) is not None
    Graph().serialize(format=fmt.serializer)


def test_html_first_in_server_preference() -> None:
    assert FORMATS[0] is HTML and not HTML.is_rdf
    assert RDF_FORMATS == (TURTLE, JSONLD, NTRIPLES, RDFXML)


def test_generic_xml_is_not_rdf_xml() -> None:
    # Browsers send application/xml;q=0.9: it must not make RDF/XML outrank anything.
    assert by_media_type("application/xml") is None


@pytest.mark.parametrize(("path", "stem", "fmt"), [
    ("matrix/alcohol.ttl", "matrix/alcohol", TURTLE),
    ("matrix/alcohol", "matrix/alcohol", None),
    ("document/2012-x.rdf", "document/2012-x", RDFXML),
    ("document/v1.2/x", "document/v1.2/x", None),
    ("document/x.pdf", "document/x.pdf", None),
    (".ttl", "", TURTLE),
])
def test_split_extension(path: str, stem: str, fmt: RdfFormat | None) -> None:
    assert split_extension(path) == (stem, fmt)


# --- parsing Accept -----------------------------------------------------------------------------------------
def test_parse_accept_reads_weights_parameters_and_skips_junk() -> None:
    ranges = parse_accept('Text/HTML;level=1;q=0.7;ext=x, application/ld+json;profile="a b", '
                          "*/*;q=0.001, junk, */html, text/turtle;q=1.5, text/plain;q=")
    assert [(r.type, r.subtype, r.params, r.q) for r in ranges] == [
        ("text", "html", (("level", "1"),), 0.7),
        ("application", "ld+json", (("profile", "a b"),), 1.0),
        ("*", "*", (), 0.001),
    ]
    assert [r.specificity for r in ranges] == [3, 3, 0]


# --- negotiating --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_each_media_type_alone_selects_its_format(fmt: RdfFormat) -> None:
    for media_type in fmt.media_types:
        assert negotiate(media_type, FORMATS, wildcard_choice=TURTLE) is fmt


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_highest_weight_wins_whatever_the_order(fmt: RdfFormat) -> None:
    others = [f"{o.media_type};q=0.4" for o in FORMATS if o is not fmt]
    assert negotiate(", ".join([*others, f"{fmt.media_type};q=0.41"]), FORMATS) is fmt
    assert negotiate(", ".join([f"{fmt.media_type};q=0.41", *others]), FORMATS) is fmt


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.key)
def test_q_zero_refuses_a_format(fmt: RdfFormat) -> None:
    refused = ", ".join(f"{m};q=0" for m in fmt.media_types)
    assert negotiate(f"{refused}, */*", FORMATS, wildcard_choice=TURTLE) is not fmt
    with pytest.raises(NotAcceptable):
        negotiate(refused, (fmt,))


def test_most_specific_range_decides() -> None:
    # RFC 9110 §12.5.1's example, transposed: text/html is given 0.7 by its own range, not 0.3 by text/*.
    accept = "text/*;q=0.3, text/html;q=0.7, text/html;level=1, */*;q=0.5"
    assert negotiate(accept, FORMATS) is HTML
    assert negotiate("text/*;q=0.3, */*;q=0.5", (TURTLE, JSONLD)) is JSONLD
    assert negotiate("text/*;q=0.6, */*;q=0.5", (TURTLE, JSONLD)) is TURTLE


def test_ties_go_to_the_named_format_then_to_server_order() -> None:
    assert negotiate("application/rdf+xml, */*", FORMATS, wildcard_choice=TURTLE) is RDFXML
    assert negotiate("application/rdf+xml, text/turtle", FORMATS) is TURTLE
    assert negotiate("application/n-triples, application/ld+json", FORMATS) is JSONLD


def test_bare_wildcards_and_missing_headers_get_the_wildcard_choice() -> None:
    for accept in (None, "", "*/*", "*/*;q=0.5", "junk"):
        assert negotiate(accept, FORMATS, wildcard_choice=TURTLE) is TURTLE, accept
    # Without a wildcard choice, server order applies.
    assert negotiate("*/*", FORMATS) is HTML
    # A type wildcard is not a bare wildcard.
    assert negotiate("text/*", FORMATS, wildcard_choice=TURTLE) is HTML


def test_not_acceptable_names_what_is_offered() -> None:
    with pytest.raises(NotAcceptable) as raised:
        negotiate("image/png, text/*;q=0", FORMATS)
    assert raised.value.offered == [f.media_type for f in FORMATS]


def test_parameters_do_not_prevent_a_match() -> None:
    accept = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
    assert negotiate(accept, FORMATS) is JSONLD
    assert negotiate("text/turtle;charset=utf-8", FORMATS) is TURTLE


# --- the JSON-LD context ------------------------------------------------------------------------------------
def test_context_binds_the_project_prefixes() -> None:
    context = jsonld_context()
    for prefix, namespace in PREFIXES.items():
        assert context[prefix] == namespace


def test_context_terms_expand_into_known_namespaces() -> None:
    context = jsonld_context()
    for term, definition in context.items():
        if term in PREFIXES:
            continue
        curie = definition["@id"] if isinstance(definition, dict) else definition
        prefix, _, local = curie.partition(":")
        assert prefix in PREFIXES and local, term
        if isinstance(definition, dict):
            assert set(definition) <= {"@id", "@type"} and definition.get("@type", "@id") == "@id", term


def test_context_is_a_fresh_copy() -> None:
    jsonld_context()["mkg"] = "changed"
    assert jsonld_context()["mkg"] == PREFIXES["mkg"]


def test_the_web_notes_document_every_format() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "web.md").read_text(encoding="utf-8")
    for fmt in FORMATS:
        for name in (fmt.extension, *fmt.media_types, fmt.label):
            assert f"`{name}`" in text or f"| {name} |" in text, name
