"""The named example queries: ``queries/*.rq`` files with a header of metadata, and safe parameter binding.

A query file starts with comment lines (the header), then the SPARQL text::

    # title: Guidance bodies in a cell
    # description: Which organisations issued the guidance listed in a cell?
    #   (indented comment lines continue the field above)
    # param: matrix = alcohol (skos:notation of the matrix)
    #   pattern: alcohol|drug
    # param: cell = E4 (skos:notation of a cell: column letter, row number)
    #   pattern: [A-E][1-5]
    SELECT ... WHERE {
      VALUES ?matrix { "alcohol" }
      VALUES ?cell { "E4" }
      ...
    }

Each ``param`` names a query variable and its default; its value must match the whole ``pattern`` (a
Python regular expression) and has a ``type`` (``string``, the default, ``integer`` or ``iri``). The body
holds, for each parameter, exactly one ``VALUES ?name { default }`` block: the file runs as it is with the
defaults, and binding a value replaces that block's term with the value written as a SPARQL term — never by
pasting raw input into the query text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal as TypingLiteral

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from matrixkg.errors import MatrixkgError, QueryError

ParamType = TypingLiteral["string", "integer", "iri"]
PARAM_TYPES: tuple[str, ...] = ("string", "integer", "iri")
QUERIES_PACKAGE_DIR = "queries"
#: Query parameters the REST endpoints use themselves, so no query may declare them.
RESERVED_NAMES = frozenset({"format"})

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_QUERY_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FIELD = re.compile(r"^#\s?(title|description|param):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM = re.compile(r"^(?P<name>\w+)\s*=\s*(?P<default>\S+)\s*(?:\((?P<about>.*)\))?\s*$")
_SUBFIELD = re.compile(r"^(pattern|type):\s*(.+)$")
_IRI = re.compile(r'^[^<>"{}|^`\\\x00-\x20]+:[^<>"{}|^`\\\x00-\x20]*$')


class QueryDefinitionError(MatrixkgError):
    """A query file whose header or body breaks the format above: names the file and the problem."""

    status = 500


class ParameterError(QueryError):
    """A parameter value that does not fit its declared type or pattern (400)."""


@dataclass(frozen=True)
class QueryParameter:
    """One parameter of a named query: a variable bound to a validated value."""

    name: str
    default: str
    description: str
    pattern: str
    type: ParamType = "string"

    def term(self, value: str) -> str:
        """Return *value* written as a SPARQL term, or raise :class:`ParameterError`.

        >>> QueryParameter("cell", "E4", "", "[A-E][1-5]").term("D2")
        '"D2"'
        >>> QueryParameter("n", "3", "", "[0-9]{1,4}", "integer").term("12")
        '"12"^^<http://www.w3.org/2001/XMLSchema#integer>'
        >>> QueryParameter("cell", "E4", "", "[A-E][1-5]").term('E4" } ?s ?p ?o {')
        Traceback (most recent call last):
        ...
        matrixkg.queries.ParameterError: parameter cell: 'E4" } ?s ?p ?o {' does not match [A-E][1-5]
        """
        if re.fullmatch(self.pattern, value) is None:
            raise ParameterError(f"parameter {self.name}: {value!r} does not match {self.pattern}")
        # The pattern is the first guard; writing the term through rdflib escapes it whatever the pattern
        # lets through.
        if self.type == "integer":
            try:
                return Literal(int(value), datatype=XSD.integer).n3()
            except ValueError as exc:
                raise ParameterError(f"parameter {self.name}: {value!r} is not an integer") from exc
        if self.type == "iri":
            if _IRI.match(value) is None:
                raise ParameterError(f"parameter {self.name}: {value!r} is not an absolute IRI")
            return URIRef(value).n3()
        return Literal(value).n3()

    def values_block(self, value: str) -> str:
        """Return the ``VALUES`` block binding this parameter to *value*."""
        return f"VALUES ?{self.name} {{ {self.term(value)} }}"


@dataclass(frozen=True)
class NamedQuery:
    """One example query: its name (file stem), what it answers, its parameters and its text."""

    name: str
    title: str
    description: str
    parameters: tuple[QueryParameter, ...]
    text: str

    def bind(self, values: Mapping[str, str | int | None] | None = None) -> str:
        """Return the query text with each parameter bound to its value in *values* (default when absent)."""
        values = values or {}
        unknown = set(values) - {p.name for p in self.parameters}
        if unknown:
            raise ParameterError(f"query {self.name} has no parameter {', '.join(sorted(unknown))}")
        if not self.parameters:
            return self.text
        blocks = {}
        for parameter in self.parameters:
            given = values.get(parameter.name)
            value = parameter.default if given is None else str(given)
            blocks[parameter.values_block(parameter.default)] = parameter.values_block(value)
        # One pass over the original text, so a bound value can never be mistaken for another block.
        pattern = "|".join(re.escape(block) for block in blocks)
        return re.sub(pattern, lambda match: blocks[match.group(0)], self.text)



def parse_named_query(name: str, text: str) -> NamedQuery:
    """Return the named query a ``.rq`` file holds, or raise :class:`QueryDefinitionError`."""
    if _QUERY_NAME.match(name) is None:
        raise QueryDefinitionError(f"{name}.rq: a query name is lower-case words joined by hyphens")
    fields: dict[str, str] = {}
    params: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last_field = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        where = f"{name}.rq:{number}"
        continuation = _CONTINUATION.match(line)
        field = _FIELD.match(line)
        if continuation and last_field == "param" and current is not None:
            sub = _SUBFIELD.match(continuation.group(1))
            if sub is None:
                raise QueryDefinitionError(f"{where}: expected 'pattern:' or 'type:' under a param")
            current[sub.group(1)] = sub.group(2).strip()
        elif continuation and last_field in ("title", "description"):
            fields[last_field] += " " + continuation.group(1).strip()
        elif field:
            last_field, value = field.group(1), field.group(2).strip()
            if last_field == "param":
                match = _PARAM.match(value)
                if match is None:
                    raise QueryDefinitionError(f"{where}: expected 'param: name = default (description)'")
                current = {"name": match["name"], "default": match["default"], "about": match["about"] or ""}
                params.append(current)
            else:
                fields[last_field] = value
        elif line.strip() != "#":
            last_field = ""
    for required in ("title", "description"):
        if not fields.get(required):
            raise QueryDefinitionError(f"{name}.rq: the header needs a '# {required}:' line")
    parameters = tuple(_parameter(name, p) for p in params)
    for parameter in parameters:
        block = parameter.values_block(parameter.default)
        if text.count(block) != 1:
            raise QueryDefinitionError(f"{name}.rq: the body must hold exactly one '{block}'")
    return NamedQuery(name, fields["title"], fields["description"], parameters, text)


def _parameter(query: str, fields: dict[str, str]) -> QueryParameter:
    name = fields["name"]
    if _NAME.match(name) is None or name in RESERVED_NAMES:
        raise QueryDefinitionError(f"{query}.rq: {name!r} cannot be a parameter name")
    kind = fields.get("type", "string")
    if kind not in PARAM_TYPES:
        raise QueryDefinitionError(f"{query}.rq: parameter {name} has unknown type {kind!r}")
    pattern = fields.get("pattern", "")
    if not pattern and kind == "string":
        raise QueryDefinitionError(f"{query}.rq: string parameter {name} needs a 'pattern:'")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise QueryDefinitionError(f"{query}.rq: parameter {name}: bad pattern: {exc}") from exc
    parameter = QueryParameter(name, fields["default"], fields["about"], pattern or ".+", kind)  # type: ignore[arg-type]
    try:
        parameter.term(parameter.default)
    except ParameterError as exc:
        raise QueryDefinitionError(f"{query}.rq: default does not fit: {exc}") from exc
    return parameter


def load_queries(folder: Path | None = None) -> dict[str, NamedQuery]:
    """Return the named queries of *folder* (default: the package's ``queries/``), by name, in name order."""
    if folder is None:
        files = resources.files("matrixkg").joinpath(QUERIES_PACKAGE_DIR)
        entries = [(Path(f.name).stem, f.read_text(encoding="utf-8")) for f in files.iterdir()
                   if f.name.endswith(".rq")]
    else:
        entries = [(p.stem, p.read_text(encoding="utf-8")) for p in folder.glob("*.rq")]
    return {name: parse_named_query(name, text) for name, text in sorted(entries)}
