"""The only place IRIs are minted, and the mapping between IRIs and URL paths.

Slash IRIs under a configurable base, ``/id/`` for things and ``/doc/`` for their descriptions
("Cool URIs for the Semantic Web", section 4.2, 303 URIs forwarding to one generic document).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from rdflib import Namespace, URIRef

MKG = Namespace("https://w3id.org/matrixkg/ns#")
ONTOLOGY_IRI = URIRef("https://w3id.org/matrixkg/ns")
FABIO = Namespace("http://purl.org/spar/fabio/")
CITO = Namespace("http://purl.org/spar/cito/")
DOCO = Namespace("http://purl.org/spar/doco/")
ORG = Namespace("http://www.w3.org/ns/org#")
OA = Namespace("http://www.w3.org/ns/oa#")
SCHEMA = Namespace("https://schema.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")

PREFIXES: dict[str, str] = {
    "mkg": str(MKG),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "fabio": str(FABIO),
    "cito": str(CITO),
    "doco": str(DOCO),
    "org": str(ORG),
    "oa": str(OA),
    "schema": str(SCHEMA),
    "void": str(VOID),
    "sd": str(SD),
}

MATRICES: tuple[str, ...] = ("alcohol", "drug")
CATEGORIES: tuple[str, ...] = ("S", "K", "R", "G")
_CELL = re.compile(r"^[A-E][1-5]$")


def slugify(text: str, max_words: int | None = None) -> str:
    """Return a lower-case ASCII slug of *text*, optionally cut to its first *max_words* words.

    >>> slugify("Where should I start?")
    'where-should-i-start'
    >>> slugify("Ways to continue to (after)care for patients", max_words=5)
    'ways-to-continue-to-after'
    >>> slugify("De-individualisation – forced")
    'de-individualisation-forced'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", ascii_text)
    if max_words is not None:
        words = words[:max_words]
    return "-".join(words)


def short_hash(text: str, length: int = 12) -> str:
    """Return a short stable hex digest of *text* (content-addressed keys).

    >>> short_hash("abc")
    'ba7816bf8f01'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


@dataclass(frozen=True)
class Minter:
    """Mints every IRI of the dataset under one base.

    >>> m = Minter("http://example.org/")
    >>> m.cell("alcohol", "E4")
    rdflib.term.URIRef('http://example.org/id/matrix/alcohol/cell/E4')
    >>> m.doc_path(m.cell("alcohol", "E4"))
    '/doc/matrix/alcohol/cell/E4'
    >>> m.id_path_to_iri("/id/document/2012-x")
    rdflib.term.URIRef('http://example.org/id/document/2012-x')
    """

    base: str

    def _iri(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    # --- matrices -------------------------------------------------------------------------------------
    def matrix(self, matrix: str) -> URIRef:
        """Return the IRI of the Alcohol or Drug matrix (a skos:ConceptScheme)."""
        if matrix not in MATRICES:
            raise ValueError(f"unknown matrix {matrix!r}")
        return self._iri(f"id/matrix/{matrix}")

    def column(self, matrix: str, letter: str) -> URIRef:
        """Return the IRI of a column concept (A–E) of a matrix."""
        return self._iri(f"id/matrix/{matrix}/column/{letter}")

    def row(self, matrix: str, number: int | str) -> URIRef:
        """Return the IRI of a row concept (1–5) of a matrix."""
        return self._iri(f"id/matrix/{matrix}/row/{number}")

    def cell(self, matrix: str, code: str) -> URIRef:
        """Return the IRI of a cell, e.g. ``E4``."""
        if not _CELL.match(code):
            raise ValueError(f"not a cell code: {code!r}")
        return self._iri(f"id/matrix/{matrix}/cell/{code}")

    def entry(self, matrix: str, code: str, key: str) -> URIRef:
        """Return the IRI of an entry of a cell, keyed by a stable key (never its display position)."""
        return URIRef(f"{self.cell(matrix, code)}/entry/{key}")

    def bite(self, matrix: str, code: str) -> URIRef:
        """Return the IRI of a cell's commentary (its Matrix Bite)."""
        return URIRef(f"{self.cell(matrix, code)}/bite")

    def bite_section(self, matrix: str, code: str, slug: str) -> URIRef:
        """Return the IRI of a section of a cell's bite."""
        return URIRef(f"{self.bite(matrix, code)}/section/{slug}")

    def paragraph(self, section: URIRef, number: int) -> URIRef:
        """Return the IRI of the *number*-th paragraph (1-based) of a bite section."""
        return URIRef(f"{section}/paragraph/{number}")

    # --- shared resources ----------------------------------------------------------------------------
    def category_scheme(self) -> URIRef:
        """Return the IRI of the scheme of entry categories."""
        return self._iri("id/category")

    def category(self, letter: str) -> URIRef:
        """Return the IRI of an entry category (S, K, R, G)."""
        if letter not in CATEGORIES:
            raise ValueError(f"unknown category {letter!r}")
        return self._iri(f"id/category/{letter}")

    def document(self, key: str) -> URIRef:
        """Return the IRI of a document (one per work, whichever cells list it)."""
        return self._iri(f"id/document/{key}")

    def organization(self, slug: str) -> URIRef:
        """Return the IRI of an organization (guidance body)."""
        return self._iri(f"id/organization/{slug}")

    def jurisdiction(self, code: str) -> URIRef:
        """Return the IRI of a jurisdiction by its ISO 3166 code (``GB``, ``GB-SCT``)."""
        return self._iri(f"id/jurisdiction/{code}")

    # --- sources and provenance ----------------------------------------------------------------------
    def source(self, page: str) -> URIRef:
        """Return the IRI of a source page, named by its file stem."""
        return self._iri(f"id/source/{page}")

    def extraction(self, page: str) -> URIRef:
        """Return the IRI of the activity that extracted a source page."""
        return URIRef(f"{self.source(page)}/extraction")

    def agent(self, name: str) -> URIRef:
        """Return the IRI of a software agent that produced data, e.g. ``matrixkg-parser``."""
        return self._iri(f"id/agent/{name}")

    def passage(self, page: str, quote: str) -> URIRef:
        """Return the IRI of a passage of a source page (content-addressed by its exact quote)."""
        return URIRef(f"{self.source(page)}/passage/{short_hash(quote)}")

    def selector(self, passage: URIRef) -> URIRef:
        """Return the IRI of the text-quote selector of a passage."""
        return URIRef(f"{passage}/selector")

    def graph(self, name: str) -> URIRef:
        """Return the IRI of a named graph: ``source/{page}``, ``skeleton``, ``curated``, ``ontology``."""
        return self._iri(f"id/graph/{name}")

    # --- service endpoints ---------------------------------------------------------------------------
    def dataset(self) -> URIRef:
        """Return the IRI of the dataset as a whole (described by VoID)."""
        return self._iri("id/dataset")

    def sparql_endpoint(self) -> URIRef:
        """Return the IRI of the SPARQL endpoint."""
        return self._iri("sparql")

    # --- IRI <-> path --------------------------------------------------------------------------------
    def is_local(self, iri: str) -> bool:
        """Return whether *iri* was minted under this base's ``/id/``."""
        return iri.startswith(self.base + "id/")

    def doc_path(self, iri: str) -> str:
        """Return the ``/doc/…`` path describing a local ``/id/…`` IRI."""
        if not self.is_local(iri):
            raise ValueError(f"not a local IRI: {iri}")
        return "/doc/" + iri[len(self.base) + len("id/"):]

    def doc_url(self, iri: str) -> str:
        """Return the absolute ``/doc/…`` URL (under the public base) describing *iri*."""
        return self.base + self.doc_path(iri)[1:]

    def id_path_to_iri(self, path: str) -> URIRef:
        """Return the IRI for a request path ``/id/…`` or ``/doc/…`` (extension already stripped)."""
        for prefix in ("/id/", "/doc/"):
            if path.startswith(prefix):
                return self._iri("id/" + path[len(prefix):])
        raise ValueError(f"not an /id/ or /doc/ path: {path}")
