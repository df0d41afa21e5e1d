"""Graph → page context for the HTML templates: one small resolver per kind of resource.

The web tier (``web.py``) decides *whether* to render HTML; this module decides *what* a page shows. Every
view returns a :class:`PageView` (template name and context), so tests can assert on the context without
scraping markup. Data comes from a handful of SPARQL queries per page, never one query per item.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node
from starlette.templating import Jinja2Templates

from matrixkg.config import Settings
from matrixkg.errors import NotFound
from matrixkg.iris import FABIO, MKG, ONTOLOGY_IRI, PREFIXES, SCHEMA, Minter
from matrixkg.store import Backlinks, QueryOptions, SelectResult, Store

log = logging.getLogger(__name__)

_SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
# Characters that may not appear inside a SPARQL IRIREF (SPARQL 1.1 §19.8, production [139]).
_NOT_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\]')

# Plural headings as the Findings legend words them ("S Seminal studies K Key studies R Reviews G Guidance").
CATEGORY_HEADINGS: dict[str, str] = {
    "S": "Seminal studies", "K": "Key studies", "R": "Reviews", "G": "Guidance"}

# FaBiO class → (reader's word, schema.org types). Guidance is a Report that is also a MedicalGuideline, so
# consumers who only know CreativeWork still get a name, publisher and date.
DOCUMENT_KINDS: dict[URIRef, tuple[str, list[str]]] = {
    FABIO.ClinicalGuideline: ("guideline", ["Report", "MedicalGuideline"]),
    FABIO.ReviewArticle: ("review", ["ScholarlyArticle"]),
    FABIO.JournalArticle: ("study", ["ScholarlyArticle"]),
    FABIO.Report: ("report", ["Report"]),
    FABIO.Expression: ("publication", ["CreativeWork"]),
}

SHADE_LEVELS = 5
_LABEL_PREDICATES: tuple[URIRef, ...] = (SKOS.prefLabel, RDFS.label, DCTERMS.title, SKOS.notation)


# --- what templates receive -------------------------------------------------------------------------------
@dataclass
class PageView:
    """A template name and the context to render it with."""

    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Link:
    """A link to a resource: where to go, what to call it, and a short code (notation, acronym, year)."""

    iri: str
    url: str
    label: str
    code: str = ""
    context: str = ""
    same_page: bool = False


@dataclass
class EntryItem:
    """One listing of a cell, with everything it links to resolved to links."""

    iri: str
    url: str
    anchor: str
    position: int
    title: str
    summary: str
    year: str
    cell: Link | None = None
    document: Link | None = None
    kind: str = ""
    categories: list[Link] = field(default_factory=list)
    publishers: list[Link] = field(default_factory=list)
    produced_for: list[Link] = field(default_factory=list)
    coverage: list[Link] = field(default_factory=list)
    discussed_in: list[Link] = field(default_factory=list)
    corresponds_to: list[Link] = field(default_factory=list)
    related_to: list[Link] = field(default_factory=list)
    mentions: list[Link] = field(default_factory=list)
    mention_discussion: dict[str, list[Link]] = field(default_factory=dict)

    @property
    def category(self) -> str:
        """Return the notation of the entry's first category in S, K, R, G order (its group on the page)."""
        codes = [c.code for c in self.categories]
        return min(codes, key=_category_rank) if codes else ""


@dataclass
class CategoryGroup:
    """The entries of one category, in page order."""

    code: str
    heading: str
    category: Link | None
    entries: list[EntryItem]


@dataclass
class SectionNode:
    """A bite section with its paragraphs and subsections, ready to render in order."""

    iri: str
    url: str
    anchor: str
    title: str
    level: int
    paragraphs: list[str]
    children: list[SectionNode] = field(default_factory=list)
    discusses: list[Link] = field(default_factory=list)
    references: list[Link] = field(default_factory=list)

    def walk(self) -> Iterable[SectionNode]:
        """Yield this section and its descendants in reading order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class GridCell:
    """One cell of a matrix grid: its code, entry count and shade."""

    iri: str
    code: str
    url: str
    label: str
    count: int
    level: int
    current: bool = False


@dataclass(frozen=True)
class GridRow:
    """A row of a matrix grid."""

    code: str
    label: str
    url: str
    cells: list[GridCell]


@dataclass(frozen=True)
class ScaleStep:
    """One step of the shading legend: a level and the counts it covers."""

    level: int
    label: str


@dataclass(frozen=True)
class Grid:
    """A matrix drawn as columns × rows with counts."""

    matrix: Link
    columns: list[Link]
    rows: list[GridRow]
    total: int
    scale: list[ScaleStep]

    @property
    def cells(self) -> list[GridCell]:
        """Return every cell, row by row."""
        return [cell for row in self.rows for cell in row.cells]

    def busiest(self, n: int = 3) -> list[GridCell]:
        """Return up to *n* cells with the most entries (none that are empty), most first."""
        listed = [cell for cell in self.cells if cell.count]
        return sorted(listed, key=lambda cell: -cell.count)[:n]

    def find(self, code: str) -> tuple[int, int] | None:
        """Return the (row, column) index of the cell *code*, if the grid holds it."""
        for r, row in enumerate(self.rows):
            for c, cell in enumerate(row.cells):
                if cell.code == code:
                    return r, c
        return None


@dataclass(frozen=True)
class Neighbour:
    """The cell next to the current one in one direction, with the row or column label that changes."""

    direction: str
    arrow: str
    cell: GridCell
    note: str


@dataclass(frozen=True)
class TimelineMark:
    """One entry drawn on the timeline."""

    x: float
    y: float
    year: str
    category: str
    title: str


@dataclass(frozen=True)
class Timeline:
    """Geometry of the small SVG timeline of a cell's entries by year."""

    width: int
    height: int
    axis_y: float
    marks: list[TimelineMark]
    ticks: list[tuple[float, str]]
    label: str


@dataclass(frozen=True)
class Statement:
    """One row of a triples table: property → value."""

    property: Link
    value: Link | None
    text: str
    note: str = ""


@dataclass(frozen=True)
class BacklinkPage:
    """One page of incoming links, numbered from 1 as ``?backlinks=N`` numbers them, and its neighbours."""

    rows: list[Statement]
    total: int
    offset: int
    limit: int
    page: int
    pages: int
    previous: int | None
    next: int | None


@dataclass(frozen=True)
class Provenance:
    """Where a statement came from: a passage of a source page."""

    source: Link
    line: int | None
    quote: str


@dataclass(frozen=True)
class DocumentRow:
    """A document in a table: what it is, when, for where, and the cells that list it."""

    document: Link
    year: str
    kind: str
    roles: list[str]
    coverage: list[Link]
    listings: list[Link]


@dataclass(frozen=True)
class TermDoc:
    """The documentation of one ontology term."""

    name: str
    iri: str
    label: str
    comment: str
    kinds: list[str]
    domain: list[Link]
    range: list[Link]
    alignments: list[tuple[str, Link]]
    example: str
    uses: int
    samples: list[Link]


# --- small pure helpers -------------------------------------------------------------------------------------
def _category_rank(code: str) -> tuple[int, str]:
    order = "SKRG"
    return (order.index(code) if code in order else len(order), code)


def _kind_rank(word: str) -> int:
    words = [w for w, _ in DOCUMENT_KINDS.values()]
    return words.index(word) if word in words else len(words)


def _text(node: Node | None) -> str:
    return "" if node is None else str(node)


def _int(node: Node | None, default: int = 0) -> int:
    try:
        return int(str(node)) if node is not None else default
    except ValueError:
        return default


def _last_segment(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def entry_anchor(iri: str) -> str:
    """Return the in-page anchor of an entry.

    >>> entry_anchor("http://x/id/matrix/alcohol/cell/E4/entry/2012-difficult")
    'entry-2012-difficult'
    """
    return "entry-" + _last_segment(iri)


def section_anchor(iri: str) -> str:
    """Return the in-page anchor of a bite section.

    >>> section_anchor("http://x/id/matrix/alcohol/cell/E4/bite/section/highlighted-study")
    'section-highlighted-study'
    """
    return "section-" + _last_segment(iri)


def jsonld_script(data: Mapping[str, Any]) -> Markup:
    """Return *data* as JSON safe to place inside ``<script type="application/ld+json">``.

    ``<``, ``>`` and ``&`` become JSON ``\\u`` escapes, so no literal can close the script element or start
    a comment (HTML §4.12.1.3); json.loads gives the original text back.

    >>> str(jsonld_script({"name": "</script>&"}))
    '{"name": "\\\\u003c/script\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)  # noqa: S704 - escaped just above, so it cannot leave the script element


def shade_level(count: int, maximum: int) -> int:
    """Return the shading level (0 for empty, 1..5) of a cell with *count* entries.

    >>> [shade_level(n, 16) for n in (0, 1, 4, 16)]
    [0, 1, 2, 5]
    """
    if count <= 0 or maximum <= 0:
        return 0
    return max(1, min(SHADE_LEVELS, math.ceil(SHADE_LEVELS * count / maximum)))


def shade_scale(maximum: int) -> list[ScaleStep]:
    """Return the legend of the shading: which counts each level covers.

    >>> [s.label for s in shade_scale(16)]
    ['0', '1–3', '4–6', '7–9', '10–12', '13–16']
    """
    steps = [ScaleStep(0, "0")]
    for level in range(1, SHADE_LEVELS + 1):
        counts = [n for n in range(1, maximum + 1) if shade_level(n, maximum) == level]
        if counts:
            label = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
            steps.append(ScaleStep(level, label))
    return steps


def build_timeline(entries: list[EntryItem], width: int = 320) -> Timeline | None:
    """Return the geometry of a timeline with one mark per dated entry, stacked by year."""
    dated = sorted((e for e in entries if e.year[:4].isdigit()), key=lambda e: (e.year, e.position))
    if not dated:
        return None
    years = [int(e.year[:4]) for e in dated]
    span_step = 5 if max(years) - min(years) <= 40 else 10
    low = (min(years) - 1) // span_step * span_step
    high = -(-(max(years) + 1) // span_step) * span_step
    pad, step, top = 14.0, 13.0, 12.0
    stacks: dict[int, int] = defaultdict(int)
    for year in years:
        stacks[year] += 1
    axis_y = top + max(stacks.values()) * step + 2

    def x_of(year: int) -> float:
        return round(pad + (year - low) / (high - low) * (width - 2 * pad), 1)

    placed: dict[int, int] = defaultdict(int)
    marks = []
    for entry, year in zip(dated, years, strict=True):
        placed[year] += 1
        marks.append(TimelineMark(x_of(year), round(axis_y - 2 - placed[year] * step + step / 2, 1),
                                  str(year), entry.category, entry.title))
    ticks = [(x_of(y), str(y)) for y in range(low, high + 1, span_step)]
    busiest = max(stacks.items(), key=lambda item: (item[1], -item[0]))
    label = (f"Timeline of {len(dated)} entries by publication year, {min(years)} to {max(years)}; "
             f"most in {busiest[0]} ({busiest[1]}).")
    return Timeline(width, int(axis_y + 20), axis_y, marks, ticks, label)


def _organization(link: Link) -> dict[str, str]:
    return {"@type": "Organization", "@id": link.iri, "name": link.label}


# --- queries ------------------------------------------------------------------------------------------------
ENTRIES_QUERY = """
SELECT ?entry ?position ?title ?abstract ?cell ?code ?matrixLabel ?doc ?docTitle ?year WHERE {
  %(pattern)s
  ?entry a mkg:Entry .
  OPTIONAL { ?entry mkg:position ?position }
  OPTIONAL { ?entry dcterms:title ?title }
  OPTIONAL { ?entry dcterms:abstract ?abstract }
  OPTIONAL { ?entry mkg:inCell ?cell . ?cell skos:notation ?code .
             OPTIONAL { ?cell mkg:inMatrix ?matrix . ?matrix skos:prefLabel ?matrixLabel } }
  OPTIONAL { ?entry mkg:describes ?doc .
             OPTIONAL { ?doc dcterms:title ?docTitle } OPTIONAL { ?doc fabio:hasPublicationYear ?year } }
} ORDER BY ?matrixLabel ?code ?position ?entry
"""

# Everything an entry links to, its document's links, and where the documents it mentions are discussed
# (those rows carry mkg:discusses, read from the section's side, and the ?mentioned document).
ENTRY_LINKS_QUERY = """
SELECT DISTINCT ?entry ?p ?target ?mentioned WHERE {
  %(pattern)s
  ?entry a mkg:Entry .
  { VALUES ?p { mkg:category mkg:correspondsTo mkg:relatedTo mkg:mentions mkg:discussedIn }
    ?entry ?p ?target }
  UNION
  { VALUES ?p { dcterms:publisher mkg:producedFor dcterms:coverage mkg:discussedIn rdf:type }
    ?entry mkg:describes ?doc . ?doc ?p ?target }
  UNION
  { ?entry mkg:mentions ?mentioned . ?mentioned mkg:discussedIn ?target . BIND(mkg:discusses AS ?p) }
}
"""

# Labels, codes and the home cell of any set of resources: one query resolves every link of a page.
RESOLVE_QUERY = """
SELECT ?target ?pref ?label ?title ?notation ?alt ?year ?type ?home ?homeCode ?homeMatrix WHERE {
  VALUES ?target { %(targets)s }
  OPTIONAL { ?target skos:prefLabel ?pref }
  OPTIONAL { ?target rdfs:label ?label }
  OPTIONAL { ?target dcterms:title ?title }
  OPTIONAL { ?target skos:notation ?notation }
  OPTIONAL { ?target skos:altLabel ?alt }
  OPTIONAL { ?target fabio:hasPublicationYear ?year }
  OPTIONAL { ?target a ?type . FILTER(?type IN (mkg:Entry, mkg:BiteSection, mkg:Bite, mkg:Cell)) }
  OPTIONAL { ?target dcterms:isPartOf*/mkg:inCell ?home . ?home skos:notation ?homeCode .
             OPTIONAL { ?home mkg:inMatrix ?hm . ?hm skos:prefLabel ?homeMatrix } }
}
"""

GRID_QUERY = """
SELECT ?matrix ?matrixLabel ?cell ?code ?row ?rowCode ?rowLabel ?column ?columnCode ?columnLabel
       (COUNT(DISTINCT ?entry) AS ?entries) WHERE {
  %(pattern)s
  ?matrix a mkg:Matrix .
  OPTIONAL { ?matrix skos:prefLabel ?matrixLabel }
  ?cell a mkg:Cell ; mkg:inMatrix ?matrix ; skos:notation ?code .
  OPTIONAL { ?cell mkg:row ?row . ?row skos:notation ?rowCode . OPTIONAL { ?row skos:prefLabel ?rowLabel } }
  OPTIONAL { ?cell mkg:column ?column . ?column skos:notation ?columnCode .
             OPTIONAL { ?column skos:prefLabel ?columnLabel } }
  OPTIONAL { ?entry a mkg:Entry ; mkg:inCell ?cell }
} GROUP BY ?matrix ?matrixLabel ?cell ?code ?row ?rowCode ?rowLabel ?column ?columnCode ?columnLabel
"""

CATEGORIES_QUERY = """
SELECT ?category ?code ?label ?definition WHERE {
  ?category a mkg:Category ; skos:notation ?code .
  OPTIONAL { ?category skos:prefLabel ?label }
  OPTIONAL { ?category skos:definition ?definition }
}
"""

SECTIONS_QUERY = """
SELECT ?section ?parent ?order ?title ?text WHERE {
  ?section a mkg:BiteSection ; dcterms:isPartOf* %(root)s ; dcterms:isPartOf ?parent .
  OPTIONAL { ?section mkg:order ?order }
  OPTIONAL { ?section dcterms:title ?title }
  OPTIONAL { ?section schema:text ?text }
}
"""

PARAGRAPHS_QUERY = """
SELECT ?section ?order ?text WHERE {
  ?section a mkg:BiteSection ; dcterms:isPartOf* %(root)s .
  ?paragraph a doco:Paragraph ; dcterms:isPartOf ?section ; schema:text ?text .
  OPTIONAL { ?paragraph mkg:order ?order }
}
"""

TRAIL_QUERY = """
SELECT ?child ?parent ?cell WHERE {
  %(iri)s dcterms:isPartOf* ?child . ?child dcterms:isPartOf ?parent .
  OPTIONAL { ?parent mkg:inCell ?cell }
}
"""

# What each section refers to, and what discusses it, with the entries that list a discussing document (the
# reader wants the entry on the page, not the document behind it; see Pages.section_tree).
SECTION_LINKS_QUERY = """
SELECT DISTINCT ?section ?p ?target ?entry ?entryCell WHERE {
  ?section dcterms:isPartOf* %(root)s .
  { ?section dcterms:references ?target . BIND(dcterms:references AS ?p) }
  UNION
  { ?target mkg:discussedIn ?section . BIND(mkg:discussedIn AS ?p)
    OPTIONAL { ?target a mkg:Document . ?entry mkg:describes ?target ; mkg:inCell ?entryCell } }
}
"""

FIGURES_QUERY = """
SELECT ?entries ?documents ?bodies ?sources ?cells WHERE {
  { SELECT (COUNT(DISTINCT ?e) AS ?entries) WHERE { ?e a mkg:Entry } }
  { SELECT (COUNT(DISTINCT ?d) AS ?documents) WHERE { ?d a mkg:Document } }
  { SELECT (COUNT(DISTINCT ?b) AS ?bodies) WHERE { ?b a mkg:GuidanceBody } }
  { SELECT (COUNT(DISTINCT ?s) AS ?sources) WHERE { ?s a mkg:SourcePage } }
  { SELECT (COUNT(DISTINCT ?c) AS ?cells) WHERE { ?x a mkg:Entry ; mkg:inCell ?c } }
}
"""

DOCUMENTS_QUERY = """
SELECT ?doc ?role ?coverage ?entry WHERE {
  %(pattern)s
  ?doc a mkg:Document .
  OPTIONAL { ?doc ?role %(agent)s . VALUES ?role { dcterms:publisher mkg:producedFor } }
  OPTIONAL { ?doc dcterms:coverage ?coverage }
  OPTIONAL { ?entry mkg:describes ?doc }
}
"""

PROVENANCE_QUERY = """
SELECT ?source ?line ?exact WHERE {
  %(iri)s prov:wasDerivedFrom ?passage .
  ?passage oa:hasSource ?source .
  OPTIONAL { ?passage oa:hasSelector ?selector .
             OPTIONAL { ?selector oa:exact ?exact } OPTIONAL { ?selector mkg:line ?line } }
}
"""

TERM_USE_QUERY = """
SELECT ?term (COUNT(DISTINCT ?s) AS ?uses) (MIN(STR(?s)) AS ?first) (MAX(STR(?s)) AS ?last) WHERE {
  VALUES ?term { %(terms)s }
  { ?s a ?term } UNION { ?s ?term ?o }
} GROUP BY ?term
"""

ENTRY_LINK_FIELDS: dict[URIRef, str] = {
    MKG.category: "categories",
    MKG.correspondsTo: "corresponds_to",
    MKG.relatedTo: "related_to",
    MKG.mentions: "mentions",
    MKG.discussedIn: "discussed_in",
    DCTERMS.publisher: "publishers",
    MKG.producedFor: "produced_for",
    DCTERMS.coverage: "coverage",
}


def sparql_iri(iri: str) -> str:
    """Return *iri* as a SPARQL IRI reference, or raise NotFound if it cannot be one.

    >>> sparql_iri("http://x/id/a")
    '<http://x/id/a>'
    """
    if _NOT_IN_IRIREF.search(iri):
        raise NotFound(f"not a usable IRI: {iri!r}")
    return f"<{iri}>"


# --- the pages ----------------------------------------------------------------------------------------------
Resolver = Callable[["Pages", URIRef, Graph], dict[str, Any]]


class Pages:
    """Builds the context of every HTML page from the store; templates live in the package."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.minter = Minter(settings.base_uri)
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("matrixkg", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Defaults for pages the web tier renders without a full context (errors, the SPARQL form);
        # per-request context values override globals.
        env.globals.update(base_uri=settings.base_uri, static_url=settings.base_uri + "static/",
                           site=self._site_links())
        self.templates = Jinja2Templates(env=env)
        self.ontology = self._load_ontology()

    # --- plumbing -----------------------------------------------------------------------------------------
    def _select(self, sparql: str) -> list[dict[str, Node]]:
        result = self.store.query(_SPARQL_PREFIXES + sparql, QueryOptions())
        if not isinstance(result, SelectResult):
            raise TypeError(f"expected SELECT results, got {type(result).__name__}")
        return result.rows

    def _site_links(self) -> dict[str, str]:
        base = self.settings.base_uri
        return {
            "home": base,
            "alcohol": self.minter.doc_url(self.minter.matrix("alcohol")),
            "drug": self.minter.doc_url(self.minter.matrix("drug")),
            "ontology": base + "def/matrixkg",
            "ontology_ttl": base + "def/matrixkg.ttl",
            "sparql": base + "sparql",
            "void": base + ".well-known/void",
        }

    def _load_ontology(self) -> Graph:
        """Parse the ontology file once; fall back to the store's ontology graph when it is not on disk."""
        graph = Graph()
        path = self.settings.ontology_file
        if path.is_file():
            graph.parse(path, format="turtle")
            return graph
        log.warning("ontology file %s not found; documenting the store's ontology graph instead", path)
        rows = self._select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {sparql_iri(self.minter.graph('ontology'))} "
                            "{ ?s ?p ?o } }")
        for row in rows:
            graph.add((row["s"], row["p"], row["o"]))
        return graph

    def url(self, iri: str) -> str:
        """Return where a link to *iri* goes: its /doc/ page, its ontology anchor, or the IRI itself."""
        if self.minter.is_local(iri):
            return self.minter.doc_url(iri)
        if iri.startswith(str(MKG)):
            return self._site_links()["ontology"] + "#" + iri[len(str(MKG)):]
        return iri

    def compact(self, iri: str) -> str:
        """Return a prefixed name for *iri* when a known prefix fits, else the IRI."""
        best = max((ns for ns in PREFIXES.values() if iri.startswith(ns)), key=len, default=None)
        if best is None:
            return iri
        prefix = next(p for p, ns in PREFIXES.items() if ns == best)
        return f"{prefix}:{iri[len(best):]}"

    def _graph_label(self, graph: Graph, node: Node) -> str:
        for predicate in _LABEL_PREDICATES:
            value = graph.value(node, predicate)
            if value is not None:
                return str(value)
        if isinstance(node, URIRef) and self.minter.is_local(str(node)):
            return self.minter.doc_path(str(node))[len("/doc/"):]
        return self.compact(str(node))

    def _property_link(self, predicate: URIRef) -> Link:
        label = self.ontology.value(predicate, RDFS.label)
        return Link(str(predicate), self.url(str(predicate)), self.compact(str(predicate)),
                    context=_text(label))

    # --- links --------------------------------------------------------------------------------------------
    def resolve(self, targets: Iterable[Node], here: URIRef | None = None) -> dict[Node, Link]:
        """Return a link per resource; entries and sections of the cell *here* link to in-page anchors."""
        wanted = sorted({t for t in targets if isinstance(t, URIRef)}, key=str)
        if not wanted:
            return {}
        rows = self._select(RESOLVE_QUERY % {"targets": " ".join(sparql_iri(str(t)) for t in wanted)})
        facts: dict[Node, dict[str, str]] = defaultdict(dict)
        for row in rows:
            seen = facts[row["target"]]
            for key, value in row.items():
                if key != "target":
                    seen.setdefault(key, str(value))
        return {target: self._link(target, facts.get(target, {}), here) for target in wanted}

    def _link(self, target: Node, fact: dict[str, str], here: URIRef | None) -> Link:
        iri = str(target)
        label = fact.get("pref") or fact.get("title") or fact.get("label") or fact.get("notation") \
            or self.compact(iri)
        code = fact.get("alt") or fact.get("notation") or fact.get("year", "")[:4]
        kind, home = fact.get("type", ""), fact.get("home")
        if kind in (str(MKG.Entry), str(MKG.BiteSection), str(MKG.Bite)) and home:
            home_code = fact.get("homeCode", "")
            anchors = {str(MKG.Entry): entry_anchor(iri), str(MKG.BiteSection): section_anchor(iri)}
            anchor = anchors.get(kind, "bite")
            if kind == str(MKG.Bite):
                label = f"cell {home_code}’s Matrix Bite"
            if home == str(here):
                return Link(iri, "#" + anchor, label, home_code, same_page=True)
            where = f"{fact.get('homeMatrix', '')} cell {home_code}".strip()
            return Link(iri, self.url(home) + "#" + anchor, label, home_code, context=where)
        return Link(iri, self.url(iri), label, code)

    # --- entries ------------------------------------------------------------------------------------------
    def entries(self, pattern: str, here: URIRef | None = None) -> list[EntryItem]:
        """Return the entries matched by a SPARQL *pattern* binding ``?entry``, with their links resolved."""
        items: dict[Node, EntryItem] = {}
        cells: dict[Node, Link] = {}
        for row in self._select(ENTRIES_QUERY % {"pattern": pattern}):
            entry = row["entry"]
            if entry in items:
                continue
            cell = row.get("cell")
            if cell is not None and cell not in cells:
                cells[cell] = Link(str(cell), self.url(str(cell)), _text(row.get("code")),
                                   code=_text(row.get("code")), context=_text(row.get("matrixLabel")))
            doc = row.get("doc")
            items[entry] = EntryItem(
                iri=str(entry), url=self.url(str(entry)), anchor=entry_anchor(str(entry)),
                position=_int(row.get("position")), title=_text(row.get("title")),
                summary=_text(row.get("abstract")), year=_text(row.get("year"))[:4],
                cell=cells.get(cell) if cell is not None else None,
                document=Link(str(doc), self.url(str(doc)), _text(row.get("docTitle")))
                if doc is not None else None)
        if not items:
            return []
        link_rows = self._select(ENTRY_LINKS_QUERY % {"pattern": pattern})
        links = self.resolve((row["target"] for row in link_rows if row["p"] != RDF.type), here)
        for row in link_rows:
            item = items.get(row["entry"])
            if item is None:
                continue
            if row["p"] == RDF.type:
                kind = DOCUMENT_KINDS.get(row["target"])  # type: ignore[call-overload]
                # The most specific FaBiO class wins, whatever order the rows come in.
                if kind is not None and _kind_rank(kind[0]) < _kind_rank(item.kind):
                    item.kind = kind[0]
                continue
            link = links[row["target"]]
            if row["p"] == MKG.discusses:
                bucket = item.mention_discussion.setdefault(str(row["mentioned"]), [])
            else:
                bucket = getattr(item, ENTRY_LINK_FIELDS[row["p"]])  # type: ignore[index]
            if link not in bucket:
                bucket.append(link)
        for item in items.values():
            item.categories.sort(key=lambda c: _category_rank(c.code))
            for name in ("publishers", "produced_for", "coverage", "corresponds_to", "related_to",
                         "mentions"):
                getattr(item, name).sort(key=lambda link: link.label)
        return list(items.values())

    def categories(self) -> list[Link]:
        """Return the entry categories in S, K, R, G order, with their definitions as context."""
        rows = self._select(CATEGORIES_QUERY)
        seen: dict[str, Link] = {}
        for row in rows:
            code = str(row["code"])
            seen.setdefault(code, Link(str(row["category"]), self.url(str(row["category"])),
                                       _text(row.get("label")) or code, code, _text(row.get("definition"))))
        return sorted(seen.values(), key=lambda c: _category_rank(c.code))

    def group_entries(self, entries: list[EntryItem], categories: list[Link]) -> list[CategoryGroup]:
        """Return entries grouped by their first category, groups in S, K, R, G order, entries by position."""
        by_code = {c.code: c for c in categories}
        groups: dict[str, list[EntryItem]] = defaultdict(list)
        for entry in sorted(entries, key=lambda e: e.position):
            groups[entry.category].append(entry)
        return [CategoryGroup(code, CATEGORY_HEADINGS.get(code, by_code[code].label if code in by_code
                                                          else code), by_code.get(code), groups[code])
                for code in sorted(groups, key=_category_rank)]

    # --- grids --------------------------------------------------------------------------------------------
    def grids(self, matrix: URIRef | None = None, current: str = "") -> list[Grid]:
        """Return the grid of one matrix (or of all), cells shaded on one scale across the grids returned."""
        pattern = f"VALUES ?matrix {{ {sparql_iri(str(matrix))} }}" if matrix is not None else ""
        rows = self._select(GRID_QUERY % {"pattern": pattern})
        maximum = max((_int(r.get("entries")) for r in rows), default=0)
        by_matrix: dict[Node, list[dict[str, Node]]] = defaultdict(list)
        for row in rows:
            by_matrix[row["matrix"]].append(row)
        grids = [self._grid(m, cells, maximum, current) for m, cells in by_matrix.items()]
        return sorted(grids, key=lambda g: g.matrix.code)

    def _grid(self, matrix: Node, rows: list[dict[str, Node]], maximum: int, current: str) -> Grid:
        columns: dict[str, Link] = {}
        row_links: dict[str, Link] = {}
        cells: dict[tuple[str, str], GridCell] = {}
        for row in rows:
            code = str(row["code"])
            column_code = _text(row.get("columnCode")) or code[:1]
            row_code = _text(row.get("rowCode")) or code[1:]
            column_label, row_label = _text(row.get("columnLabel")), _text(row.get("rowLabel"))
            columns.setdefault(column_code, Link(_text(row.get("column")), self.url(_text(row.get("column"))),
                                                 column_label or column_code, column_code))
            row_links.setdefault(row_code, Link(_text(row.get("row")), self.url(_text(row.get("row"))),
                                                row_label or row_code, row_code))
            count = _int(row.get("entries"))
            label = f"{code}: {column_label}; {row_label}" if column_label and row_label else code
            iri = str(row["cell"])
            cells[(row_code, column_code)] = GridCell(iri, code, self.url(iri), label, count,
                                                      shade_level(count, maximum), code == current)
        column_list = [columns[c] for c in sorted(columns)]
        grid_rows = [GridRow(r, row_links[r].label, row_links[r].url,
                             [cells[(r, c.code)] for c in column_list if (r, c.code) in cells])
                     for r in sorted(row_links, key=lambda code: (_int(Literal(code)), code))]
        label = _text(rows[0].get("matrixLabel")) or self.compact(str(matrix))
        matrix_link = Link(str(matrix), self.url(str(matrix)), label, _last_segment(str(matrix)))
        total = sum(cell.count for cell in cells.values())
        return Grid(matrix_link, column_list, grid_rows, total, shade_scale(maximum))

    @staticmethod
    def neighbours(grid: Grid, code: str) -> list[Neighbour]:
        """Return the cells left, right, above and below *code* that exist in the grid."""
        found = grid.find(code)
        if found is None:
            return []
        r, c = found
        result = []
        for direction, arrow, dr, dc in (("up", "↑", -1, 0), ("left", "←", 0, -1), ("right", "→", 0, 1),
                                         ("down", "↓", 1, 0)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < len(grid.rows) and 0 <= cc < len(grid.rows[rr].cells):
                note = grid.rows[rr].label if dc == 0 else grid.columns[cc].label
                result.append(Neighbour(direction, arrow, grid.rows[rr].cells[cc], note))
        return result

    # --- bite sections ------------------------------------------------------------------------------------
    def section_tree(self, root: URIRef, here: URIRef | None, level: int, home: Node | None = None
                     ) -> tuple[SectionNode | None, list[SectionNode]]:
        """Return *root* as a node (when it is a section) and its subsections, nested, paragraphs in order.

        Sections directly under *root* get heading *level*, theirs *level* + 1 and so on. *here* is the cell
        whose page this is (its entries link to in-page anchors); *home* the cell the bite belongs to.
        """
        home = here if home is None else home
        root_ref = sparql_iri(str(root))
        rows = self._select(SECTIONS_QUERY % {"root": root_ref})
        paragraphs: dict[Node, list[tuple[int, str]]] = defaultdict(list)
        for row in self._select(PARAGRAPHS_QUERY % {"root": root_ref}):
            paragraphs[row["section"]].append((_int(row.get("order")), str(row["text"])))
        link_rows = self._select(SECTION_LINKS_QUERY % {"root": root_ref})
        # A discussing document is shown as its entry in this cell when it has one: entry and document both
        # state mkg:discussedIn, and one link per listing reads better than two.
        for row in link_rows:
            if row.get("entry") is not None and row.get("entryCell") == home:
                row["target"] = row["entry"]
        links = self.resolve((row["target"] for row in link_rows), here)
        nodes: dict[Node, SectionNode] = {}
        children: dict[Node, list[tuple[int, SectionNode]]] = defaultdict(list)
        for row in rows:
            section = row["section"]
            if section in nodes:
                continue
            texts = [t for _, t in sorted(paragraphs.get(section, []))]
            if not texts and row.get("text") is not None:
                texts = [p.strip() for p in str(row["text"]).split("\n\n") if p.strip()]
            nodes[section] = SectionNode(str(section), self.url(str(section)), section_anchor(str(section)),
                                         _text(row.get("title")), level, texts)
            children[row["parent"]].append((_int(row.get("order")), nodes[section]))
        for row in link_rows:
            node = nodes.get(row["section"])
            if node is not None:
                bucket = node.references if row["p"] == DCTERMS.references else node.discusses
                if links[row["target"]] not in bucket:
                    bucket.append(links[row["target"]])

        def attach(parent: Node, depth: int) -> list[SectionNode]:
            ordered = [node for _, node in sorted(children.get(parent, []), key=lambda item: item[0])]
            for node in ordered:
                node.level = depth
                node.children = attach(URIRef(node.iri), depth + 1)
            return ordered

        top = attach(root, level)
        own = nodes.get(root)
        if own is not None:
            own.level = level - 1
            own.children = top
        return own, top

    def trail(self, iri: URIRef) -> list[Link]:
        """Return the cell, the bite and the parent sections above a bite section, outermost first."""
        parent_of: dict[Node, Node] = {}
        cell = None
        for row in self._select(TRAIL_QUERY % {"iri": sparql_iri(str(iri))}):
            parent_of[row["child"]] = row["parent"]
            cell = row.get("cell", cell)
        chain: list[Node] = []
        node: Node = iri
        while node in parent_of and parent_of[node] not in chain:
            node = parent_of[node]
            chain.append(node)
        if cell is not None:
            chain.append(cell)
        links = self.resolve(chain)
        return [links[n] for n in reversed(chain) if n in links]

    # --- documents and provenance --------------------------------------------------------------------------
    def documents(self, pattern: str, agent: URIRef | None = None) -> list[DocumentRow]:
        """Return a table of the documents a *pattern* binding ``?doc`` matches, newest first."""
        agent_ref = sparql_iri(str(agent)) if agent is not None else "?agent"
        rows = self._select(DOCUMENTS_QUERY % {"pattern": pattern, "agent": agent_ref})
        docs = sorted({row["doc"] for row in rows}, key=str)
        if not docs:
            return []
        entries = {row["entry"] for row in rows if "entry" in row}
        coverage = {row["coverage"] for row in rows if "coverage" in row}
        links = self.resolve([*docs, *entries, *coverage])
        facts = self._doc_facts(docs)
        table = []
        for doc in docs:
            mine = [row for row in rows if row["doc"] == doc]
            roles = sorted({"publisher" if row["role"] == DCTERMS.publisher else "produced for"
                            for row in mine if "role" in row})
            listings = sorted({links[row["entry"]] for row in mine if "entry" in row},
                              key=lambda link: (link.context, link.label))
            covered = sorted({links[row["coverage"]] for row in mine if "coverage" in row},
                             key=lambda link: link.label)
            year, kind = facts.get(doc, ("", ""))
            table.append(DocumentRow(links[doc], year, kind, roles, covered, listings))
        return sorted(table, key=lambda row: (row.year, row.document.label), reverse=True)

    def _doc_facts(self, docs: list[Node]) -> dict[Node, tuple[str, str]]:
        values = " ".join(sparql_iri(str(d)) for d in docs)
        rows = self._select(f"SELECT ?doc ?year ?type WHERE {{ VALUES ?doc {{ {values} }} "
                            "OPTIONAL { ?doc fabio:hasPublicationYear ?year } OPTIONAL { ?doc a ?type } }")
        facts: dict[Node, tuple[str, str]] = {}
        for row in rows:
            year, kind = facts.get(row["doc"], ("", ""))
            found = DOCUMENT_KINDS.get(row["type"]) if isinstance(row.get("type"), URIRef) else None  # type: ignore[call-overload]
            facts[row["doc"]] = (year or _text(row.get("year"))[:4], kind or (found[0] if found else ""))
        return facts

    def provenance(self, iri: URIRef) -> list[Provenance]:
        """Return the source passages a resource was derived from."""
        rows = self._select(PROVENANCE_QUERY % {"iri": sparql_iri(str(iri))})
        sources = self.resolve(row["source"] for row in rows)
        return [Provenance(sources[row["source"]], _int(row.get("line"), 0) or None, _text(row.get("exact")))
                for row in rows]

    # --- statements ---------------------------------------------------------------------------------------
    def statements(self, iri: URIRef, description: Graph) -> list[Statement]:
        """Return the outgoing triples of *iri* as table rows, sorted by property then value."""
        rows = []
        for predicate, value in description.predicate_objects(iri):
            prop = self._property_link(URIRef(str(predicate)))
            if isinstance(value, URIRef):
                link = Link(str(value), self.url(str(value)), self._graph_label(description, value))
                rows.append(Statement(prop, link, link.label))
            else:
                note = ""
                if isinstance(value, Literal):
                    note = f"@{value.language}" if value.language else (
                        self.compact(str(value.datatype)) if value.datatype else "")
                rows.append(Statement(prop, None, str(value), note))
        return sorted(rows, key=lambda s: (s.property.label != "rdf:type", s.property.label, s.text))

    def backlink_page(self, iri: URIRef, backlinks: Backlinks) -> BacklinkPage:
        """Return one page of incoming links as table rows, with the numbers of the pages around it."""
        graph = backlinks.graph
        rows = []
        # The graph also carries labels and types of the linking subjects; only triples ending here are links.
        for subject, predicate in graph.subject_predicates(iri):
            if not isinstance(subject, URIRef):
                continue
            link = Link(str(subject), self.url(str(subject)), self._graph_label(graph, subject))
            rows.append(Statement(self._property_link(URIRef(str(predicate))), link, link.label))
        rows.sort(key=lambda s: (s.property.label, s.text))
        limit = max(backlinks.limit, 1)
        page = backlinks.offset // limit + 1
        pages = max(1, -(-backlinks.total // limit))
        return BacklinkPage(rows, backlinks.total, backlinks.offset, limit, page, pages,
                            page - 1 if page > 1 else None, page + 1 if page < pages else None)

    # --- views --------------------------------------------------------------------------------------------
    def resource_view(self, iri: URIRef, description: Graph, backlinks: Backlinks) -> PageView:
        """Return the page for *iri*, its template picked by its rdf:type (a generic page otherwise)."""
        types = set(description.objects(iri, RDF.type))
        template, resolver = next(((t, r) for kind, (t, r) in RESOURCE_PAGES.items() if kind in types),
                                  ("resource.html", Pages._generic))
        context: dict[str, Any] = {
            "iri": str(iri),
            "title": self._graph_label(description, iri),
            "types": sorted((Link(str(t), self.url(str(t)), self.compact(str(t))) for t in types),
                            key=lambda link: link.label),
            "statements": self.statements(iri, description),
            "backlinks": self.backlink_page(iri, backlinks),
        }
        context.update(resolver(self, iri, description))
        context["jsonld"] = jsonld_script(context.pop("schema"))
        return PageView(template, context)

    def _thing(self, iri: URIRef, graph: Graph, kind: str | list[str], **extra: Any) -> dict[str, Any]:
        """Return the schema.org JSON-LD of a page's resource; empty values are left out."""
        data: dict[str, Any] = {"@context": "https://schema.org", "@type": kind, "@id": str(iri),
                                "name": self._graph_label(graph, iri), "url": self.url(str(iri))}
        data.update({k: v for k, v in extra.items() if v not in (None, "", [])})
        return data

    def _generic(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        return {"schema": self._thing(iri, description, "Thing")}

    def _cell(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        code = _text(description.value(iri, SKOS.notation))
        matrix = description.value(iri, MKG.inMatrix)
        entries = self.entries(f"?entry mkg:inCell {sparql_iri(str(iri))} .", here=iri)
        categories = self.categories()
        grid = next(iter(self.grids(matrix, current=code)), None) if isinstance(matrix, URIRef) else None
        bite = self._bite_of(iri)
        sections = self.section_tree(bite, iri, level=3)[1] if bite is not None else []
        # Cross-links follow reading order: sections as the bite runs, entries as the cell lists them.
        nodes = [node for top in sections for node in top.walk()]
        order = {node.iri: n for n, node in enumerate(nodes)}
        for entry in entries:
            entry.discussed_in.sort(key=lambda link: (not link.same_page, order.get(link.iri, len(order))))
        position = {entry.iri: entry.position for entry in entries}
        for node in nodes:
            node.discusses.sort(key=lambda link: position.get(link.iri, len(position) + 1))
        referred = self._referred_cells(grid, [*self._bite_references(bite, iri),
                                               *(link for entry in entries for link in entry.discussed_in)])
        row = description.value(iri, MKG.row)
        column = description.value(iri, MKG.column)
        return {
            "code": code,
            "matrix": self._described_link(description, matrix),
            "row": self._described_link(description, row),
            "column": self._described_link(description, column),
            "entries": entries,
            "groups": self.group_entries(entries, categories),
            "legend": categories,
            "bite": self._described_link(description, bite) if bite is not None else None,
            "sections": sections,
            "referred_cells": referred,
            "grid": grid,
            "neighbours": self.neighbours(grid, code) if grid is not None else [],
            "timeline": build_timeline(entries),
            "schema": self._thing(
                iri, description, "DefinedTerm", termCode=code,
                inDefinedTermSet=self._ref("DefinedTermSet", matrix, description),
                subjectOf=[self._document_schema(e) for e in entries]),
        }

    def _referred_cells(self, grid: Grid | None, links: list[Link]) -> list[Link]:
        """Return the other cells that links point into, labelled as the grid labels them, in grid order."""
        elsewhere = {link.url.split("#", 1)[0]: link for link in links if link.code and not link.same_page}
        cells = {cell.url: cell for row in grid.rows for cell in row.cells} if grid else {}
        found = [Link(cell.iri, url + "#bite", cell.label, cell.code)
                 for url, cell in cells.items() if url in elsewhere]
        found += [Link(link.iri, link.url, link.context or link.label, link.code)
                  for url, link in elsewhere.items() if url not in cells]
        return sorted(found, key=lambda link: (link.code[1:], link.code))

    def _bite_references(self, bite: URIRef | None, here: URIRef) -> list[Link]:
        """Return links to what a bite and its sections refer to (other cells' bites)."""
        if bite is None:
            return []
        root = sparql_iri(str(bite))
        rows = self._select(f"SELECT DISTINCT ?target WHERE {{ ?part dcterms:isPartOf* {root} ; "
                            "dcterms:references ?target }")
        return list(self.resolve((row["target"] for row in rows), here).values())

    def _bite_of(self, cell: URIRef) -> URIRef | None:
        rows = self._select(f"SELECT ?bite WHERE {{ ?bite a mkg:Bite ; mkg:inCell {sparql_iri(str(cell))} }}")
        return rows[0]["bite"] if rows else None  # type: ignore[return-value]

    def _described_link(self, description: Graph, node: Node | None) -> Link | None:
        if not isinstance(node, URIRef):
            return None
        return Link(str(node), self.url(str(node)), self._graph_label(description, node),
                    _text(description.value(node, SKOS.notation)))

    def _ref(self, kind: str, node: Node | None, description: Graph) -> dict[str, Any] | None:
        if not isinstance(node, URIRef):
            return None
        return {"@type": kind, "@id": str(node), "name": self._graph_label(description, node)}

    def _document_schema(self, entry: EntryItem) -> dict[str, Any]:
        kind = next((types for word, types in DOCUMENT_KINDS.values() if word == entry.kind),
                    ["CreativeWork"])
        data: dict[str, Any] = {"@type": kind if len(kind) > 1 else kind[0],
                                "@id": entry.document.iri if entry.document else entry.iri,
                                "name": entry.title, "abstract": entry.summary}
        if entry.year:
            data["datePublished"] = entry.year
        if entry.publishers:
            data["publisher"] = [_organization(p) for p in entry.publishers]
        if entry.coverage:
            data["spatialCoverage"] = [{"@type": "Place", "@id": c.iri, "name": c.label}
                                       for c in entry.coverage]
        return data

    def _entry(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        entries = self.entries(f"VALUES ?entry {{ {sparql_iri(str(iri))} }}")
        entry = entries[0] if entries else None
        about = [self._document_schema(entry)] if entry else []
        return {
            "entry": entry,
            "provenance": self.provenance(iri),
            "schema": self._thing(iri, description, "ListItem", position=entry.position if entry else None,
                                  description=entry.summary if entry else None, about=about),
        }

    def _document(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        ref = sparql_iri(str(iri))
        listings = self.entries(f"?entry mkg:describes {ref} .")
        mentioned_by = self.entries(f"?entry mkg:mentions {ref} .")
        links = self.resolve([*description.objects(iri, DCTERMS.publisher),
                              *description.objects(iri, MKG.producedFor),
                              *description.objects(iri, DCTERMS.coverage),
                              *description.objects(iri, MKG.discussedIn)])
        kinds = [DOCUMENT_KINDS[t] for t in DOCUMENT_KINDS if (iri, RDF.type, t) in description]
        word, schema_types = kinds[0] if kinds else ("publication", ["CreativeWork"])
        year = _text(description.value(iri, FABIO.hasPublicationYear))[:4]

        def linked(predicate: URIRef) -> list[Link]:
            return sorted((links[o] for o in description.objects(iri, predicate) if o in links),
                          key=lambda link: link.label)

        publishers = linked(DCTERMS.publisher)
        fabio_type = next((str(t) for t in DOCUMENT_KINDS if (iri, RDF.type, t) in description), None)
        return {
            "kind": word,
            "year": year,
            "publishers": publishers,
            "produced_for": linked(MKG.producedFor),
            "coverage": linked(DCTERMS.coverage),
            "discussed_in": linked(MKG.discussedIn),
            "listings": listings,
            "mentioned_by": mentioned_by,
            "provenance": self.provenance(iri),
            "schema": self._thing(
                iri, description, schema_types if len(schema_types) > 1 else schema_types[0],
                additionalType=fabio_type, datePublished=year or None,
                publisher=[_organization(p) for p in publishers],
                abstract=listings[0].summary if listings else None),
        }

    def _body(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        ref = sparql_iri(str(iri))
        served = self.resolve(description.objects(iri, SCHEMA.areaServed))
        documents = self.documents(f"?doc dcterms:publisher|mkg:producedFor {ref} .", agent=iri)
        acronyms = sorted(str(a) for a in description.objects(iri, SKOS.altLabel))
        return {
            "acronyms": acronyms,
            "area_served": sorted(served.values(), key=lambda link: link.label),
            "documents": documents,
            "schema": self._thing(iri, description, "Organization", alternateName=acronyms,
                                  areaServed=[{"@type": "AdministrativeArea", "@id": a.iri, "name": a.label}
                                              for a in served.values()]),
        }

    def _section(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        ref = sparql_iri(str(iri))
        trail = self.trail(iri)
        cell = trail[0] if trail else None
        own, _ = self.section_tree(iri, None, level=2, home=URIRef(cell.iri) if cell else None)
        discussed = self.entries(f"{{ ?entry mkg:discussedIn {ref} }} UNION "
                                 f"{{ ?entry mkg:describes/mkg:discussedIn {ref} }}")
        text = " ".join(own.paragraphs) if own else ""
        return {
            "section": own,
            "trail": trail,
            "in_context": cell.url + "#" + section_anchor(str(iri)) if cell else None,
            "discussed": discussed,
            "provenance": self.provenance(iri),
            "schema": self._thing(iri, description, "CreativeWork", text=text or None,
                                  isPartOf=self._ref("CreativeWork", description.value(iri, DCTERMS.isPartOf),
                                                     description)),
        }

    def _bite(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        cell = description.value(iri, MKG.inCell)
        return {
            "cell": self._described_link(description, cell),
            "sections": self.section_tree(iri, None, level=2, home=cell)[1],
            "schema": self._thing(iri, description, "Article",
                                  about=self._ref("DefinedTerm", cell, description)),
        }

    def _jurisdiction(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        ref = sparql_iri(str(iri))
        rows = self._select(f"SELECT ?narrower ?body WHERE {{ {{ ?narrower skos:broader {ref} }} UNION "
                            f"{{ ?body schema:areaServed {ref} }} }}")
        broader = self.resolve(description.objects(iri, SKOS.broader))
        narrower = self.resolve(row["narrower"] for row in rows if "narrower" in row)
        bodies = self.resolve(row["body"] for row in rows if "body" in row)
        code = _text(description.value(iri, SKOS.notation))
        return {
            "code": code,
            "broader": sorted(broader.values(), key=lambda link: link.label),
            "narrower": sorted(narrower.values(), key=lambda link: link.label),
            "bodies": sorted(bodies.values(), key=lambda link: link.label),
            "documents": self.documents(f"?doc dcterms:coverage {ref} ."),
            "schema": self._thing(iri, description, "AdministrativeArea" if broader else "Country",
                                  identifier=code or None,
                                  containedInPlace=[{"@type": "Country", "@id": b.iri, "name": b.label}
                                                    for b in broader.values()]),
        }

    def _category(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        entries = self.entries(f"?entry mkg:category {sparql_iri(str(iri))} .")
        by_cell: dict[str, list[EntryItem]] = defaultdict(list)
        for entry in entries:
            key = f"{entry.cell.context} {entry.cell.code}" if entry.cell else ""
            by_cell[key].append(entry)
        code = _text(description.value(iri, SKOS.notation))
        scheme = description.value(iri, SKOS.inScheme)
        return {
            "code": code,
            "heading": CATEGORY_HEADINGS.get(code, self._graph_label(description, iri)),
            "definition": _text(description.value(iri, SKOS.definition)),
            "entries_by_cell": sorted(by_cell.items()),
            "count": len(entries),
            "schema": self._thing(iri, description, "DefinedTerm", termCode=code or None,
                                  description=_text(description.value(iri, SKOS.definition)) or None,
                                  inDefinedTermSet=self._ref("DefinedTermSet", scheme, description)),
        }

    def _matrix(self, iri: URIRef, description: Graph) -> dict[str, Any]:
        grid = next(iter(self.grids(iri)), None)
        cells = grid.cells if grid else []
        terms = [{"@type": "DefinedTerm", "@id": c.iri, "termCode": c.code, "name": c.label} for c in cells]
        return {"grid": grid, "schema": self._thing(iri, description, "DefinedTermSet", hasDefinedTerm=terms)}

    # --- pages that are not resources ---------------------------------------------------------------------
    def home_view(self) -> PageView:
        """Return the home page: both matrices as shaded grids, dataset figures and where to go next."""
        rows = self._select(FIGURES_QUERY)
        figures = {key: _int(value) for key, value in (rows[0] if rows else {}).items()}
        figures["triples"] = self.store.triple_count()
        grids = self.grids()
        schema = {
            "@context": "https://schema.org", "@type": "Dataset", "@id": str(self.minter.dataset()),
            "name": "matrixkg: the Drug and Alcohol Findings treatment matrices as linked data",
            "description": "The studies, reviews and guidance the Findings Alcohol and Drug treatment "
                           "matrices list cell by cell, with the editors' commentary, as RDF.",
            "url": self.settings.base_uri,
            "hasPart": [{"@type": "DefinedTermSet", "@id": g.matrix.iri, "name": g.matrix.label}
                        for g in grids],
            "variableMeasured": ["entries", "documents", "guidance bodies"],
        }
        return PageView("home.html", {"title": "Treatment matrices", "grids": grids, "figures": figures,
                                      "jsonld": jsonld_script(schema)})

    def ontology_view(self) -> PageView:
        """Return the documentation of every class and property the ontology defines."""
        classes, properties = self._terms()
        uses = self._term_uses([*classes, *properties])
        docs = {name: [self._term_doc(term, uses.get(term, (0, []))) for term in terms]
                for name, terms in (("classes", classes), ("properties", properties))}
        meta = {key: _text(self.ontology.value(ONTOLOGY_IRI, predicate)) for key, predicate in (
            ("title", DCTERMS.title), ("description", DCTERMS.description), ("version", OWL.versionInfo),
            ("modified", DCTERMS.modified))}
        schema = {
            "@context": "https://schema.org", "@type": "DefinedTermSet", "@id": str(ONTOLOGY_IRI),
            "name": meta["title"] or "matrixkg vocabulary", "description": meta["description"],
            "hasDefinedTerm": [{"@type": "DefinedTerm", "@id": t.iri, "name": t.label, "termCode": t.name,
                                "description": t.comment} for group in docs.values() for t in group],
        }
        return PageView("ontology.html", {"title": meta["title"] or "matrixkg vocabulary", "meta": meta,
                                          "namespace": str(MKG), "jsonld": jsonld_script(schema), **docs})

    def _terms(self) -> tuple[list[URIRef], list[URIRef]]:
        def own(kinds: tuple[URIRef, ...]) -> list[URIRef]:
            found = {s for k in kinds for s in self.ontology.subjects(RDF.type, k)
                     if isinstance(s, URIRef) and str(s).startswith(str(MKG))}
            return sorted(found, key=lambda t: str(t).lower())

        return (own((OWL.Class, RDFS.Class)),
                own((OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)))

    def _term_uses(self, terms: list[URIRef]) -> dict[Node, tuple[int, list[str]]]:
        if not terms:
            return {}
        rows = self._select(TERM_USE_QUERY % {"terms": " ".join(sparql_iri(str(t)) for t in terms)})
        return {row["term"]: (_int(row.get("uses")),
                              sorted({_text(row.get("first")), _text(row.get("last"))} - {""}))
                for row in rows}

    def _term_doc(self, term: URIRef, use: tuple[int, list[str]]) -> TermDoc:
        graph = self.ontology

        def links(*predicates: URIRef) -> list[Link]:
            found = {o for p in predicates for o in graph.objects(term, p) if isinstance(o, URIRef)}
            return sorted((Link(str(o), self.url(str(o)), self.compact(str(o))) for o in found),
                          key=lambda link: link.label)

        alignments = [(label, link) for label, predicates in (
            ("subclass of", (RDFS.subClassOf,)), ("subproperty of", (RDFS.subPropertyOf,)),
            ("equivalent to", (OWL.equivalentClass, OWL.equivalentProperty)),
            ("inverse of", (OWL.inverseOf,)))
            for link in links(*predicates)]
        kinds = sorted(self.compact(str(k)) for k in graph.objects(term, RDF.type))
        samples = self.resolve(URIRef(s) for s in use[1])
        return TermDoc(
            name=str(term)[len(str(MKG)):], iri=str(term), label=_text(graph.value(term, RDFS.label)),
            comment=_text(graph.value(term, RDFS.comment)), kinds=kinds,
            domain=links(RDFS.domain, SCHEMA.domainIncludes), range=links(RDFS.range, SCHEMA.rangeIncludes),
            alignments=alignments, example=_text(graph.value(term, SKOS.example)), uses=use[0],
            samples=sorted(samples.values(), key=lambda link: link.label))

    def not_found_view(self, path: str) -> PageView:
        """Return the page for a path that names nothing here."""
        schema = {"@context": "https://schema.org", "@type": "WebPage", "name": "Not found"}
        return PageView("404.html", {"title": "Not found", "path": path, "jsonld": jsonld_script(schema)})


# rdf:type → (template, resolver), most specific first: the first type a resource has picks its page.
RESOURCE_PAGES: dict[URIRef, tuple[str, Resolver]] = {
    MKG.Cell: ("cell.html", Pages._cell),
    MKG.Entry: ("entry.html", Pages._entry),
    MKG.Document: ("document.html", Pages._document),
    MKG.GuidanceBody: ("body.html", Pages._body),
    MKG.BiteSection: ("section.html", Pages._section),
    MKG.Bite: ("bite.html", Pages._bite),
    MKG.Jurisdiction: ("jurisdiction.html", Pages._jurisdiction),
    MKG.Category: ("category.html", Pages._category),
    MKG.Matrix: ("matrix.html", Pages._matrix),
}
