"""The all-or-nothing build: sources, skeleton and curated Turtle → a validated, published build directory.

A build is written into a fresh sibling directory and swapped in only after SHACL validation passes, so a
failed build leaves the last good one untouched (architecture note, "A build is all-or-nothing").
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from matrixkg import __version__
from matrixkg.config import Settings
from matrixkg.errors import SourceError, ValidationFailed
from matrixkg.iris import MKG, VOID, Minter
from matrixkg.parse import parse_page
from matrixkg.skeleton import skeleton_graph
from matrixkg.sources import SourcePage, read_sources
from matrixkg.store import NQUADS_FILE, STORE_DIR
from matrixkg.validate import ValidationReport, load_shapes, validate_graph

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
REPORT_TEXT_FILE = "validation.txt"
REPORT_TURTLE_FILE = "validation.ttl"

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildResult:
    """What a finished build holds."""

    path: Path
    quads: int
    graphs: int
    sources: int
    report: ValidationReport
    created: str


@dataclass(frozen=True)
class Manifest:
    """The published build's own description, read by the server (base IRI, time, checksums)."""

    base_uri: str
    created: str
    quads: int
    sources: dict[str, str]
    version: str

    @classmethod
    def read(cls, build_dir: Path) -> Manifest:
        """Return the manifest of a published build."""
        data = json.loads((build_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        return cls(data["base_uri"], data["created"], data["quads"], data["sources"], data["version"])


def _no_progress(step: int, total: int, message: str) -> None:
    log.info("[%d/%d] %s", step, total, message)


@dataclass
class Assembled:
    """The dataset of a build before it is validated and written, and the pages it came from."""

    dataset: Dataset
    pages: list[SourcePage]


def assemble(settings: Settings, extracted_at: datetime, progress: Progress = _no_progress) -> Assembled:
    """Return the whole dataset, one named graph per source page plus skeleton, curated and ontology."""
    minter = Minter(settings.base_uri)
    data_dir = settings.data_dir
    pages: list[SourcePage] = read_sources(data_dir / "sources")
    total = len(pages) + 3
    dataset = Dataset()

    progress(1, total, f"ontology {settings.ontology_file}")
    ontology = dataset.graph(minter.graph("ontology"))
    ontology.parse(settings.ontology_file, format="turtle")

    progress(2, total, "matrix skeleton")
    skeleton = dataset.graph(minter.graph("skeleton"))
    for triple in skeleton_graph(minter, data_dir / "skeleton.toml"):
        skeleton.add(triple)

    progress(3, total, "curated facts")
    curated = dataset.graph(minter.graph("curated"))
    for path in sorted((data_dir / "curated").glob("*.ttl")):
        try:
            curated.parse(path, format="turtle", publicID=minter.base)
        except (SyntaxError, ValueError) as exc:  # rdflib's BadSyntax is a SyntaxError
            raise SourceError(str(path), int(getattr(exc, "lines", 0)) + 1, f"invalid Turtle: {exc}") from exc

    for number, page in enumerate(pages, start=4):
        progress(number, total, f"parsing {page.name}")
        page_graph = dataset.graph(minter.graph(f"source/{page.name}"))
        for triple in parse_page(page, minter, extracted_at):
            # What the skeleton or the curated facts already state is kept once, there: a triple in two
            # graphs would come out twice from the union default graph (Oxigraph keeps quads, not triples).
            if triple not in skeleton and triple not in curated:
                page_graph.add(triple)
        # A page's own title line overrides the skeleton's working label for its cell (issue #2 §3).
        for cell in page_graph.subjects(SKOS.prefLabel, None):
            if (cell, RDF.type, MKG.Cell) in skeleton:
                skeleton.remove((cell, SKOS.prefLabel, None))
    return Assembled(dataset, pages)


def describe_dataset(dataset: Dataset, minter: Minter, created: datetime) -> Graph:
    """Return the VoID description of the dataset and of each named graph (the ``meta`` graph).

    It makes every graph name dereference like any other minted IRI, and is what ``/.well-known/void``
    points to (VoID §6.2).
    """
    meta = Graph()
    root = minter.dataset()
    meta_graph = minter.graph("meta")
    named = sorted((g for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID and len(g)),
                   key=lambda g: str(g.identifier))
    total = sum(len(g) for g in named)
    meta.add((root, RDF.type, VOID.Dataset))
    meta.add((root, DCTERMS.title, Literal("matrixkg: the Drug and Alcohol Findings treatment matrices", lang="en")))
    meta.add((root, DCTERMS.description, Literal(
        "Research listed in the cells of the Findings Alcohol and Drug treatment matrices, with the cells' "
        "commentary, as linked data.", lang="en")))
    meta.add((root, DCTERMS.modified, Literal(created.isoformat(), datatype=XSD.dateTime)))
    meta.add((root, VOID.sparqlEndpoint, minter.sparql_endpoint()))
    meta.add((root, VOID.uriSpace, Literal(minter.base + "id/")))
    meta.add((root, VOID.triples, Literal(total)))
    meta.add((root, VOID.exampleResource, minter.cell("alcohol", "E4")))
    for namespace in (str(MKG), str(SKOS), str(DCTERMS), "http://purl.org/spar/fabio/", "http://www.w3.org/ns/prov#"):
        meta.add((root, VOID.vocabulary, URIRef(namespace)))
    for graph in [*named, None]:
        name = meta_graph if graph is None else URIRef(str(graph.identifier))
        meta.add((root, VOID.subset, name))
        meta.add((name, RDF.type, VOID.Dataset))
        label = str(name)[len(minter.base + "id/graph/"):]
        meta.add((name, RDFS.label, Literal(f"Named graph: {label}", lang="en")))
        if graph is not None:
            meta.add((name, VOID.triples, Literal(len(graph))))
        if label.startswith("source/"):
            meta.add((name, DCTERMS.source, minter.source(label[len("source/"):])))
    return meta


def data_union(dataset: Dataset, minter: Minter) -> Graph:
    """Return all instance data (every graph but the ontology) as one graph, for validation."""
    union = Graph()
    ontology = minter.graph("ontology")
    for graph in dataset.graphs():
        if graph.identifier not in (ontology, DATASET_DEFAULT_GRAPH_ID):
            for triple in graph:
                union.add(triple)
    return union


def nquads_lines(dataset: Dataset) -> list[str]:
    """Return the named graphs of *dataset* as sorted, distinct N-Quads lines (a stable, diffable dump)."""
    lines: set[str] = set()
    for graph in dataset.graphs():
        if graph.identifier == DATASET_DEFAULT_GRAPH_ID:
            continue
        suffix = f" <{graph.identifier}> ."
        for line in graph.serialize(format="nt").splitlines():
            if line.endswith(" ."):
                lines.add(line[:-2] + suffix)
    return sorted(lines)


def _write_nquads(dataset: Dataset, path: Path) -> int:
    lines = nquads_lines(dataset)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def build(settings: Settings, progress: Progress = _no_progress) -> BuildResult:
    """Build, validate and publish ``settings.build_dir``, or raise and leave the old build as it was."""
    created = datetime.now(UTC).replace(microsecond=0)
    minter = Minter(settings.base_uri)
    assembled = assemble(settings, created, progress)
    dataset = assembled.dataset
    report = validate_graph(data_union(dataset, minter), load_shapes(settings.shapes_file))
    if not report.conforms:
        raise ValidationFailed(report)
    meta = describe_dataset(dataset, minter, created)
    meta_graph = dataset.graph(minter.graph("meta"))
    for triple in meta:
        meta_graph.add(triple)

    sources = {p.name: p.sha256 for p in assembled.pages}
    staging = _staging_dir(settings.build_dir)
    try:
        quads = _write_nquads(dataset, staging / NQUADS_FILE)
        (staging / REPORT_TEXT_FILE).write_text(report.to_text(), encoding="utf-8")
        (staging / REPORT_TURTLE_FILE).write_text(report.to_turtle(), encoding="utf-8")
        _finish(staging, settings.base_uri, created, quads, sources)
        _publish(staging, settings.build_dir.resolve())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    graphs = sum(1 for g in dataset.graphs() if len(g) and g.identifier != DATASET_DEFAULT_GRAPH_ID)
    return BuildResult(settings.build_dir.resolve(), quads, graphs, len(sources), report, created.isoformat())


def _staging_dir(build_dir: Path) -> Path:
    target = build_dir.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))


def _finish(staging: Path, base_uri: str, created: datetime, quads: int, sources: dict[str, str]) -> None:
    """Load the staged N-Quads into an on-disk Oxigraph store and write the manifest."""
    store = ox.Store(str(staging / STORE_DIR))
    store.bulk_load(path=str(staging / NQUADS_FILE), format=ox.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    del store
    manifest = {
        "base_uri": base_uri,
        "created": created.isoformat(),
        "quads": quads,
        "sources": sources,
        "version": __version__,
    }
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def publish_nquads(nquads: Path, build_dir: Path, base_uri: str) -> Path:
    """Publish an existing N-Quads file as a build, unvalidated: for test fixtures and benchmarks."""
    created = datetime.now(UTC).replace(microsecond=0)
    staging = _staging_dir(build_dir)
    try:
        shutil.copyfile(nquads, staging / NQUADS_FILE)
        with (staging / NQUADS_FILE).open(encoding="utf-8") as handle:
            quads = sum(1 for line in handle if line.strip() and not line.startswith("#"))
        _finish(staging, base_uri, created, quads, {})
        _publish(staging, build_dir.resolve())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return build_dir


def _publish(staging: Path, target: Path) -> None:
    """Swap the staged build in place of the published one (two renames; the old one is removed after)."""
    retired = None
    if target.exists():
        retired = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, retired)
    os.replace(staging, target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
