"""SHACL validation of a dataset, turned into a typed report.

pyshacl runs with ``inference='none'``: the shapes name every type the data must state itself, so the result
does not depend on which ontology a validator happens to load. Only violations make a dataset non-conforming;
warnings are reported and published with the build but do not block it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import RDF, SH, BNode, Dataset, Graph, Node

from matrixkg.errors import ConfigError
from matrixkg.iris import PREFIXES

log = logging.getLogger(__name__)

SHAPES_NAMESPACE = "https://w3id.org/matrixkg/shapes#"
_PREFIXES: dict[str, str] = {**PREFIXES, "sh": str(SH), "mkgsh": SHAPES_NAMESPACE}
# Most serious first, for sorting and counting.
_SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL validation result, as plain strings (IRIs in full, literals by their lexical form)."""

    severity: str
    focus_node: str
    path: str | None
    message: str
    value: str | None
    shape: str | None


@dataclass
class ValidationReport:
    """The outcome of validating one dataset: conformance, the results, and pyshacl's report graph."""

    conforms: bool
    results: list[ValidationResult]
    graph: Graph

    def count(self, severity: str) -> int:
        """Return how many results have the given severity (``Violation``, ``Warning``, ``Info``)."""
        return sum(1 for result in self.results if result.severity == severity)

    @property
    def violations(self) -> list[ValidationResult]:
        """Return the results that make the dataset non-conforming."""
        return [result for result in self.results if result.severity == "Violation"]

    def to_text(self) -> str:
        """Return the report as readable text: one block per result, then a summary line."""
        blocks = [_block(result) for result in self.results]
        blocks.append(self.summary())
        return "\n\n".join(blocks) + "\n"

    def summary(self) -> str:
        """Return the one-line summary, e.g. ``Conforms: no — 2 violations, 1 warnings``."""
        line = (f"Conforms: {'yes' if self.conforms else 'no'} — "
                f"{self.count('Violation')} violations, {self.count('Warning')} warnings")
        infos = self.count("Info")
        return line + (f", {infos} infos" if infos else "")

    def to_turtle(self) -> str:
        """Return pyshacl's report graph (a ``sh:ValidationReport``) as Turtle."""
        return self.graph.serialize(format="turtle")


def load_shapes(path: Path | str) -> Graph:
    """Return the shapes graph read from the Turtle file at *path*."""
    graph = Graph()
    try:
        graph.parse(Path(path), format="turtle")
    except (OSError, SyntaxError, ValueError) as exc:  # rdflib's BadSyntax is a SyntaxError
        raise ConfigError(f"cannot read SHACL shapes {path}: {exc}") from exc
    return graph


def union_graph(data: Graph | Dataset) -> Graph:
    """Return one plain graph holding every triple of *data*, whichever of its graphs holds it."""
    union = Graph()
    if isinstance(data, Dataset):
        for subject, predicate, obj, _graph in data.quads((None, None, None, None)):
            union.add((subject, predicate, obj))
    else:
        for triple in data:
            union.add(triple)
    return union


def validate_graph(data: Graph | Dataset, shapes: Graph) -> ValidationReport:
    """Return the SHACL report of *data* (all of its graphs together) against *shapes*."""
    union = union_graph(data)
    # inplace: the union is our own copy, so pyshacl need not make another one.
    _conforms, report_graph, _text = shacl_validate(
        union, shacl_graph=shapes, inference="none", inplace=True, advanced=False, abort_on_first=False,
    )
    assert isinstance(report_graph, Graph)
    for prefix, namespace in _PREFIXES.items():
        report_graph.bind(prefix, namespace)
    # Only the report's own sh:result values: pyshacl also types nested sh:detail results (from sh:node) as
    # sh:ValidationResult, and those repeat, less clearly, what their parent result says.
    results = sorted((_result(report_graph, node)
                      for report in report_graph.subjects(RDF.type, SH.ValidationReport)
                      for node in report_graph.objects(report, SH.result)), key=_sort_key)
    # pyshacl's own flag is False on warnings too; only violations block a build.
    conforms = not any(result.severity == "Violation" for result in results)
    log.info("validated %d triples: %d results, conforms=%s", len(union), len(results), conforms)
    return ValidationReport(conforms, results, report_graph)


def _result(report: Graph, node: Node) -> ValidationResult:
    severity = report.value(node, SH.resultSeverity)
    messages = sorted(str(message) for message in report.objects(node, SH.resultMessage))
    return ValidationResult(
        severity=_local_name(severity) if severity is not None else "Violation",
        focus_node=_term(report.value(node, SH.focusNode)) or "",
        path=_path(report, report.value(node, SH.resultPath)),
        message="; ".join(messages),
        value=_term(report.value(node, SH.value)),
        shape=_term(report.value(node, SH.sourceShape)),
    )


def _sort_key(result: ValidationResult) -> tuple[int, str, str, str, str]:
    rank = _SEVERITIES.index(result.severity) if result.severity in _SEVERITIES else len(_SEVERITIES)
    return (rank, result.focus_node, result.path or "", result.shape or "", result.message)


def _local_name(iri: Node) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    # Blank nodes keep their _: form so they cannot be mistaken for IRIs; literals give their lexical form.
    return node.n3() if isinstance(node, BNode) else str(node)


def _path(report: Graph, node: Node | None) -> str | None:
    """Render a SHACL property path: an IRI, or ``^iri`` for an inverse path (the only complex one used)."""
    if node is None:
        return None
    inverse = report.value(node, SH.inversePath) if isinstance(node, BNode) else None
    if inverse is not None:
        return "^" + (_term(inverse) or "")
    return _term(node)


def _compact(text: str | None) -> str:
    if text is None:
        return "-"
    inverse = text.startswith("^")
    iri = text[1:] if inverse else text
    for prefix, namespace in _PREFIXES.items():
        if iri.startswith(namespace) and iri[len(namespace):].replace("-", "").replace("_", "").isalnum():
            return ("^" if inverse else "") + f"{prefix}:{iri[len(namespace):]}"
    if iri.startswith(("http://", "https://")):
        return ("^" if inverse else "") + f"<{iri}>"
    return text


def _shorten(text: str, limit: int = 160) -> str:
    # Values can be whole paragraphs; the report names the focus node, so a prefix is enough to find it.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _block(result: ValidationResult) -> str:
    lines = [
        result.severity,
        f"  focus node: {_compact(result.focus_node)}",
        f"  path:       {_compact(result.path)}",
        f"  message:    {result.message}",
        f"  value:      {_shorten(_compact(result.value))}",
        f"  shape:      {_compact(result.shape)}",
    ]
    return "\n".join(lines)
