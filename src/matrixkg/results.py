"""Query results on the wire (SPARQL JSON, XML, CSV, TSV; Turtle, N-Triples, JSON-LD, RDF/XML) and as a table.

The SPARQL results formats extend :class:`matrixkg.formats.RdfFormat`, so one negotiator
(:func:`matrixkg.formats.negotiate`) serves pages, graphs and query results alike; :data:`RESULT_FORMATS`
lists every format a query answer can take, by the key the ``format`` parameter uses.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from typing import Literal as TypingLiteral
from xml.etree import ElementTree

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from matrixkg.errors import NotAcceptable
from matrixkg.formats import RDF_FORMATS, TURTLE, RdfFormat, negotiate
from matrixkg.iris import PREFIXES
from matrixkg.store import AskResult, GraphResult, QueryResult, SelectResult

ResultKind = TypingLiteral["solutions", "boolean", "graph"]

SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class ResultsFormat(RdfFormat):
    """A SPARQL query results format (for SELECT, and for ASK when ``boolean``); not an RDF serialisation."""

    boolean: bool = True


SPARQL_JSON = ResultsFormat("json", ".srj", "application/sparql-results+json", "SPARQL JSON", None,
                            aliases=("application/json",))
# Not application/xml: browsers send it at q=0.9 (see matrixkg.formats.RDFXML), and they should get the UI.
SPARQL_XML = ResultsFormat("xml", ".srx", "application/sparql-results+xml", "SPARQL XML", None)
# The CSV/TSV results note defines no form for an ASK answer, so these two carry solutions only.
SPARQL_CSV = ResultsFormat("csv", ".csv", "text/csv", "CSV", None, boolean=False)
SPARQL_TSV = ResultsFormat("tsv", ".tsv", "text/tab-separated-values", "TSV", None, boolean=False)

#: SPARQL 1.1 Protocol §2.1.5/§2.1.6: SELECT and ASK results in the W3C results formats, CONSTRUCT and
#: DESCRIBE graphs in the RDF formats of :mod:`matrixkg.formats`; the first of each kind is the default.
RESULTS_FORMATS: tuple[ResultsFormat, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
RESULT_FORMATS: tuple[RdfFormat, ...] = (*RESULTS_FORMATS, *RDF_FORMATS)

#: The W3C format IRIs (``http://www.w3.org/ns/formats/``) the service description lists.
FORMAT_IRIS: dict[str, str] = {key: "http://www.w3.org/ns/formats/" + name for key, name in (
    ("json", "SPARQL_Results_JSON"), ("xml", "SPARQL_Results_XML"), ("csv", "SPARQL_Results_CSV"),
    ("tsv", "SPARQL_Results_TSV"), ("turtle", "Turtle"), ("ntriples", "N-Triples"), ("jsonld", "JSON-LD"),
    ("rdfxml", "RDF_XML"))}

_BY_KEY = {f.key: f for f in RESULT_FORMATS}
_BY_MEDIA_TYPE = {media_type: f for f in RESULT_FORMATS for media_type in f.media_types}
assert set(FORMAT_IRIS) == set(_BY_KEY), "every result format needs its W3C format IRI"


def result_kind(result: QueryResult) -> ResultKind:
    """Return which family of formats can carry *result*."""
    if isinstance(result, SelectResult):
        return "solutions"
    if isinstance(result, AskResult):
        return "boolean"
    return "graph"


def formats_for(kind: ResultKind) -> tuple[RdfFormat, ...]:
    """Return the formats that can carry results of *kind*, the default first.

    >>> [f.key for f in formats_for("boolean")]
    ['json', 'xml']
    """
    if kind == "graph":
        return RDF_FORMATS
    return tuple(f for f in RESULTS_FORMATS if kind == "solutions" or f.boolean)


def format_named(name: str) -> RdfFormat | None:
    """Return the result format a ``format`` parameter (key or media type) names, or ``None``.

    >>> format_named("csv").media_type
    'text/csv'
    >>> format_named("application/sparql-results+json").key
    'json'
    >>> format_named("yaml") is None
    True
    """
    key = name.split(";", 1)[0].strip().lower()
    return _BY_KEY.get(key) or _BY_MEDIA_TYPE.get(key)


def choose_format(result: QueryResult, accept: str | None, requested: str | None = None) -> RdfFormat:
    """Return the format to send *result* in: the one *requested* names, else the Accept header's choice."""
    candidates = formats_for(result_kind(result))
    if requested:
        chosen = format_named(requested)
        if chosen is None or chosen not in candidates:
            raise NotAcceptable([f.key for f in candidates])
        return chosen
    return negotiate(accept, candidates)


# --- serialisers --------------------------------------------------------------------------------------------
def serialize_result(result: QueryResult, media_type: str, links: Sequence[str] = ()) -> bytes:
    """Return *result* serialised as *media_type*; *links* go into the results' ``head`` (JSON and XML)."""
    chosen = format_named(media_type)
    candidates = formats_for(result_kind(result))
    if chosen is None or chosen not in candidates:
        raise NotAcceptable([f.media_type for f in candidates])
    if isinstance(result, GraphResult):
        return _serialize_graph(result.graph, chosen)
    if chosen.key == "json":
        return _json_results(result, links)
    if chosen.key == "xml":
        return _xml_results(result, links)
    assert isinstance(result, SelectResult)
    if chosen.key == "csv":
        return _csv_results(result)
    return _tsv_results(result)


def _json_term(term: Node) -> dict[str, str]:
    # SPARQL 1.1 Query Results JSON Format §3.2.2: uri, literal (xml:lang or datatype), bnode.
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    value = {"type": "literal", "value": str(term)}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype is not None and term.datatype != XSD.string:
        value["datatype"] = str(term.datatype)
    return value


def _json_results(result: SelectResult | AskResult, links: Sequence[str]) -> bytes:
    head: dict[str, Any] = {}
    document: dict[str, Any] = {"head": head}
    if isinstance(result, AskResult):
        document["boolean"] = result.value
    else:
        head["vars"] = list(result.variables)
        document["results"] = {"bindings": [{name: _json_term(value) for name, value in row.items()}
                                            for row in result.rows]}
    if links:
        # §3.1: "head" may hold a "link" array of IRIs pointing to further metadata about the results.
        head["link"] = list(links)
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _xml_results(result: SelectResult | AskResult, links: Sequence[str]) -> bytes:
    ns = "{" + SPARQL_RESULTS_NS + "}"
    ElementTree.register_namespace("", SPARQL_RESULTS_NS)
    root = ElementTree.Element(ns + "sparql")
    head = ElementTree.SubElement(root, ns + "head")
    if isinstance(result, SelectResult):
        for name in result.variables:
            ElementTree.SubElement(head, ns + "variable", name=name)
    for link in links:  # SPARQL Query Results XML Format §2.2: <link href> in the head, after the variables
        ElementTree.SubElement(head, ns + "link", href=link)
    if isinstance(result, AskResult):
        ElementTree.SubElement(root, ns + "boolean").text = "true" if result.value else "false"
    else:
        results = ElementTree.SubElement(root, ns + "results")
        for row in result.rows:
            element = ElementTree.SubElement(results, ns + "result")
            for name, term in row.items():
                binding = ElementTree.SubElement(element, ns + "binding", name=name)
                _xml_term(binding, term, ns)
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def _xml_term(parent: ElementTree.Element, term: Node, ns: str) -> None:
    if isinstance(term, URIRef):
        ElementTree.SubElement(parent, ns + "uri").text = str(term)
    elif isinstance(term, BNode):
        ElementTree.SubElement(parent, ns + "bnode").text = str(term)
    else:
        assert isinstance(term, Literal)
        literal = ElementTree.SubElement(parent, ns + "literal")
        literal.text = str(term)
        if term.language:
            literal.set(XML_LANG, term.language)
        elif term.datatype is not None and term.datatype != XSD.string:
            literal.set("datatype", str(term.datatype))


def _csv_results(result: SelectResult) -> bytes:
    # SPARQL 1.1 Query Results CSV and TSV §2: a header of names, plain values, CRLF line ends, RFC 4180
    # quoting.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_csv_value(row.get(name)) for name in result.variables])
    return buffer.getvalue().encode("utf-8")


def _csv_value(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


def _tsv_results(result: SelectResult) -> bytes:
    # CSV and TSV §3: "?"-prefixed header, terms in Turtle/SPARQL syntax, tab separated, LF line ends.
    lines = ["\t".join("?" + name for name in result.variables)]
    for row in result.rows:
        lines.append("\t".join(_tsv_term(row.get(name)) for name in result.variables))
    return ("\n".join(lines) + "\n").encode("utf-8")


_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_term(term: Node | None) -> str:
    """Return a term in SPARQL syntax for TSV, never containing a tab or a line break.

    >>> _tsv_term(Literal("a\\tb", lang="en"))
    '"a\\\\tb"@en'
    >>> _tsv_term(URIRef("http://example.org/x"))
    '<http://example.org/x>'
    """
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    assert isinstance(term, Literal)
    quoted = '"' + str(term).translate(_STRING_ESCAPES) + '"'
    if term.language:
        return f"{quoted}@{term.language}"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"{quoted}^^<{term.datatype}>"
    return quoted


def _serialize_graph(graph: Graph, chosen: RdfFormat) -> bytes:
    output = Graph()
    for prefix, namespace in PREFIXES.items():
        output.bind(prefix, namespace)
    for triple in graph:
        output.add(triple)
    return output.serialize(format=chosen.serializer or "turtle", encoding="utf-8")


def json_rows(result: SelectResult) -> list[dict[str, Any]]:
    """Return solutions as plain JSON objects: IRIs and strings as text, numbers and booleans as such.

    >>> json_rows(SelectResult(["n", "x"], [{"n": Literal(3)}]))
    [{'n': 3, 'x': None}]
    """
    return [{name: _plain(row.get(name)) for name in result.variables} for row in result.rows]


def _plain(term: Node | None) -> Any:
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool | int | float):
            return value
    return str(term)


# --- the terminal table -------------------------------------------------------------------------------------
def compact(term: Node | None, width: int = 0) -> str:
    """Return a short human form of *term*: a prefixed name where a known prefix fits, literals as text.

    >>> compact(URIRef("https://w3id.org/matrixkg/ns#Entry"))
    'mkg:Entry'
    >>> compact(Literal("Guidance", lang="en"))
    'Guidance'
    >>> compact(Literal("a long piece of text"), width=10)
    'a long pi…'
    """
    if term is None:
        text = ""
    elif isinstance(term, URIRef):
        text = f"<{term}>"
        for prefix, namespace in PREFIXES.items():
            if term.startswith(namespace) and "/" not in term[len(namespace):]:
                text = f"{prefix}:{term[len(namespace):]}"
                break
    elif isinstance(term, BNode):
        text = f"_:{term}"
    else:
        text = " ".join(str(term).split())
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def format_table(result: QueryResult, max_width: int = 60) -> str:
    """Return *result* as a plain-text table for a terminal (graphs as Turtle), noting when it was cut."""
    if isinstance(result, AskResult):
        return ("true" if result.value else "false") + "\n"
    if isinstance(result, GraphResult):
        text = _serialize_graph(result.graph, TURTLE).decode("utf-8")
        return text + (_cut_note(len(result.graph), "triples") if result.truncated else "")
    rows = [[compact(row.get(name), max_width) for name in result.variables] for row in result.rows]
    widths = [max([len(name)] + [len(cells[i]) for cells in rows]) for i, name in enumerate(result.variables)]
    lines = [_table_line(result.variables, widths), _table_line(["-" * w for w in widths], widths)]
    lines += [_table_line(cells, widths) for cells in rows]
    count = len(result.rows)
    footer = f"({count} row{'s' if count != 1 else ''})"
    lines.append(_cut_note(count, "rows").rstrip("\n") if result.truncated else footer)
    return "\n".join(lines) + "\n"


def _table_line(cells: Iterable[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _cut_note(count: int, unit: str) -> str:
    return f"# truncated: only the first {count} {unit} are shown (max_result_rows)\n"
