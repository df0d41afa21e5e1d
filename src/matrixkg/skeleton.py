"""The fixed frame of the dataset, built from one table (``data/skeleton.toml``).

Matrices, their rows and columns, all fifty cells and their Matrix Bites, the entry categories and the
jurisdictions: everything a parsed page links to but does not itself define (docs/model.md).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import DCTERMS, RDF, RDFS, SKOS, Graph, Literal, URIRef

from matrixkg.errors import ConfigError
from matrixkg.iris import MKG, PREFIXES, Minter


@dataclass(frozen=True)
class Heading:
    """A row or column of a matrix: its notation ("4", "E") and its label."""

    notation: str
    label: str


@dataclass(frozen=True)
class MatrixSpec:
    """One matrix of the table, with its rows."""

    notation: str
    label: str
    title: str
    rows: tuple[Heading, ...]


@dataclass(frozen=True)
class CategorySpec:
    """One entry category (S, K, R, G)."""

    notation: str
    label: str
    definition: str


@dataclass(frozen=True)
class JurisdictionSpec:
    """One jurisdiction by ISO 3166 code, with the code of the jurisdiction it is part of, if any."""

    code: str
    label: str
    broader: str | None = None


@dataclass(frozen=True)
class SkeletonTable:
    """The whole skeleton table as read from TOML."""

    columns: tuple[Heading, ...]
    matrices: tuple[MatrixSpec, ...]
    category_scheme_label: str
    categories: tuple[CategorySpec, ...]
    jurisdictions: tuple[JurisdictionSpec, ...]


def cell_label(matrix_label: str, column: Heading, row: Heading) -> str:
    """Return the working label of a cell, the form the Findings pages use in their title line.

    >>> column, row = Heading("E", "Treatment systems"), Heading("4", "Psychosocial therapies")
    >>> cell_label("Alcohol Matrix", column, row)
    'Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies'
    """
    return f"{matrix_label} cell {column.notation}{row.notation}: {column.label}; {row.label}"


def bite_label(matrix_label: str, code: str) -> str:
    """Return the label of a cell's Matrix Bite.

    >>> bite_label("Alcohol Matrix", "E4")
    'Matrix Bite: Alcohol Matrix cell E4'
    """
    return f"Matrix Bite: {matrix_label} cell {code}"


def load_table(path: Path) -> SkeletonTable:
    """Return the skeleton table read from the TOML file at *path*."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read skeleton table {path}: {exc}") from exc
    try:
        return _table(raw)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"skeleton table {path} lacks or misshapes {exc}") from exc


def _table(raw: Mapping[str, Any]) -> SkeletonTable:
    categories = raw["categories"]
    return SkeletonTable(
        columns=tuple(Heading(c["notation"], c["label"]) for c in raw["columns"]),
        matrices=tuple(
            MatrixSpec(m["notation"], m["label"], m["title"],
                       tuple(Heading(r["notation"], r["label"]) for r in m["rows"]))
            for m in raw["matrices"]
        ),
        category_scheme_label=categories["label"],
        categories=tuple(CategorySpec(c["notation"], c["label"], c["definition"])
                         for c in categories["concepts"]),
        jurisdictions=tuple(JurisdictionSpec(j["code"], j["label"], j.get("broader"))
                            for j in raw["jurisdictions"]),
    )


def skeleton_graph(minter: Minter, table_path: Path) -> Graph:
    """Return the skeleton graph (matrices, rows, columns, cells, bites, categories, jurisdictions)."""
    table = load_table(table_path)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    try:
        for matrix in table.matrices:
            _add_matrix(graph, minter, matrix, table.columns)
        _add_categories(graph, minter, table)
    except ValueError as exc:  # the Minter refuses a notation it does not know
        raise ConfigError(f"skeleton table {table_path}: {exc}") from exc
    _add_jurisdictions(graph, minter, table.jurisdictions)
    return graph


def _en(text: str) -> Literal:
    return Literal(text, lang="en")


def _add_matrix(graph: Graph, minter: Minter, matrix: MatrixSpec, columns: tuple[Heading, ...]) -> None:
    scheme = minter.matrix(matrix.notation)
    # The SKOS superclass types are stated as well as the mkg: ones so SKOS tools need no RDFS reasoning.
    graph.add((scheme, RDF.type, MKG.Matrix))
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, _en(matrix.label)))
    graph.add((scheme, SKOS.notation, Literal(matrix.notation)))
    graph.add((scheme, DCTERMS.title, _en(matrix.title)))

    column_iris = {}
    for order, column in enumerate(columns, start=1):
        iri = minter.column(matrix.notation, column.notation)
        _add_heading(graph, iri, MKG.Column, column, scheme, order)
        column_iris[column.notation] = iri
    for order, row in enumerate(matrix.rows, start=1):
        row_iri = minter.row(matrix.notation, row.notation)
        _add_heading(graph, row_iri, MKG.Row, row, scheme, order)
        for column in columns:
            _add_cell(graph, minter, matrix, scheme, column, column_iris[column.notation], row, row_iri)


def _add_heading(graph: Graph, iri: URIRef, cls: URIRef, heading: Heading, scheme: URIRef,
                 order: int) -> None:
    graph.add((iri, RDF.type, cls))
    graph.add((iri, RDF.type, SKOS.Concept))
    graph.add((iri, SKOS.notation, Literal(heading.notation)))
    graph.add((iri, SKOS.prefLabel, _en(heading.label)))
    graph.add((iri, SKOS.inScheme, scheme))
    graph.add((iri, MKG.order, Literal(order)))


def _add_cell(graph: Graph, minter: Minter, matrix: MatrixSpec, scheme: URIRef, column: Heading,
              column_iri: URIRef, row: Heading, row_iri: URIRef) -> None:
    code = column.notation + row.notation
    cell = minter.cell(matrix.notation, code)
    graph.add((cell, RDF.type, MKG.Cell))
    graph.add((cell, RDF.type, SKOS.Concept))
    graph.add((cell, SKOS.notation, Literal(code)))
    graph.add((cell, SKOS.prefLabel, _en(cell_label(matrix.label, column, row))))
    graph.add((cell, SKOS.inScheme, scheme))
    graph.add((cell, MKG.inMatrix, scheme))
    graph.add((cell, MKG.row, row_iri))
    graph.add((cell, MKG.column, column_iri))
    # Every cell gets its bite here, so a page may refer to any other cell's bite and the link resolves.
    bite = minter.bite(matrix.notation, code)
    graph.add((bite, RDF.type, MKG.Bite))
    graph.add((bite, MKG.inCell, cell))
    graph.add((bite, RDFS.label, _en(bite_label(matrix.label, code))))


def _add_categories(graph: Graph, minter: Minter, table: SkeletonTable) -> None:
    scheme = minter.category_scheme()
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, _en(table.category_scheme_label)))
    for category in table.categories:
        iri = minter.category(category.notation)
        graph.add((iri, RDF.type, MKG.Category))
        graph.add((iri, RDF.type, SKOS.Concept))
        graph.add((iri, SKOS.notation, Literal(category.notation)))
        graph.add((iri, SKOS.prefLabel, _en(category.label)))
        graph.add((iri, SKOS.definition, _en(category.definition)))
        graph.add((iri, SKOS.inScheme, scheme))


def _add_jurisdictions(graph: Graph, minter: Minter, jurisdictions: tuple[JurisdictionSpec, ...]) -> None:
    known = {j.code for j in jurisdictions}
    for jurisdiction in jurisdictions:
        iri = minter.jurisdiction(jurisdiction.code)
        graph.add((iri, RDF.type, MKG.Jurisdiction))
        graph.add((iri, RDF.type, SKOS.Concept))
        graph.add((iri, SKOS.notation, Literal(jurisdiction.code)))
        graph.add((iri, RDFS.label, _en(jurisdiction.label)))
        if jurisdiction.broader is not None:
            # A dangling skos:broader would mint an IRI that does not dereference.
            if jurisdiction.broader not in known:
                raise ConfigError(
                    f"jurisdiction {jurisdiction.code}: unknown broader {jurisdiction.broader!r}")
            graph.add((iri, SKOS.broader, minter.jurisdiction(jurisdiction.broader)))
