"""The ``matrixkg`` command: thin commands over build, validate, store and web."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from matrixkg.config import SETTINGS, Settings, load_settings
from matrixkg.errors import MatrixkgError, ValidationFailed

log = logging.getLogger("matrixkg")

INGEST_FORMATS = {"turtle": "turtle", "nquads": "nquads", "jsonld": "json-ld"}


def _add_setting_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    table = {s.name: s for s in SETTINGS}
    for name in names:
        setting = table[name]
        parser.add_argument("--" + name.replace("_", "-"), dest=name, default=None,
                            help=f"{setting.help} (env {setting.env_var}; default {setting.default})")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    return load_settings(**overrides)


class _StderrProgress:
    """Progress lines on standard error, shown when it is a terminal or asked for."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, step: int, total: int, message: str) -> None:
        if self.enabled:
            print(f"[{step}/{total}] {message}", file=sys.stderr, flush=True)


# --- commands ---------------------------------------------------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from matrixkg.build import build

    settings = _settings(args)
    progress = _StderrProgress(args.progress or (sys.stderr.isatty() and not args.quiet))
    try:
        result = build(settings, progress)
    except ValidationFailed as exc:
        print(exc.report.to_text(), file=sys.stderr)  # type: ignore[attr-defined]
        print(f"build refused: {exc}; the previous build in {settings.build_dir} is unchanged",
              file=sys.stderr)
        return exc.exit_code
    report = result.report
    print(f"Built {result.path}: {result.quads} quads in {result.graphs} named graphs "
          f"from {result.sources} source page(s); SHACL: conforms "
          f"({sum(1 for r in report.results if r.severity != 'Violation')} warnings)")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from rdflib import Dataset

    from matrixkg.iris import Minter
    from matrixkg.parse import parse_page
    from matrixkg.sources import read_source

    settings = _settings(args)
    minter = Minter(settings.base_uri)
    now = datetime.now(UTC).replace(microsecond=0)
    dataset = Dataset()
    for name in args.pages:  # parse every page before writing anything: a bad page leaves no output
        page = read_source(Path(name))
        graph = dataset.graph(minter.graph(f"source/{page.name}"))
        for triple in parse_page(page, minter, now):
            graph.add(triple)
    rdf_format = INGEST_FORMATS[args.format]
    if rdf_format == "nquads":
        from matrixkg.build import nquads_lines

        text = "\n".join(nquads_lines(dataset)) + "\n"
    else:
        from rdflib import Graph

        from matrixkg.iris import PREFIXES

        union = Graph()
        for prefix, namespace in PREFIXES.items():
            union.bind(prefix, namespace)
        for graph in dataset.graphs():
            for triple in graph:
                union.add(triple)
        text = union.serialize(format=rdf_format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import pyoxigraph as ox
    from rdflib import Graph

    from matrixkg.build import assemble, data_union
    from matrixkg.iris import Minter
    from matrixkg.store import to_rdflib
    from matrixkg.validate import load_shapes, validate_graph

    settings = _settings(args)
    if args.files:
        data = Graph()
        for name in args.files:
            if name.endswith((".nq", ".trig")):
                # Quads are read with Oxigraph: rdflib's Dataset parser warns of deprecated internals.
                rdf_format = ox.RdfFormat.N_QUADS if name.endswith(".nq") else ox.RdfFormat.TRIG
                with open(name, "rb") as handle:
                    for quad in ox.parse(handle, format=rdf_format):
                        data.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
            else:
                data.parse(name)
    else:
        assembled = assemble(settings, datetime.now(UTC).replace(microsecond=0))
        data = data_union(assembled.dataset, Minter(settings.base_uri))
    report = validate_graph(data, load_shapes(settings.shapes_file))
    print(report.to_text())
    return 0 if report.conforms else ValidationFailed.exit_code


def cmd_query(args: argparse.Namespace) -> int:
    from matrixkg.results import format_table, serialize_result
    from matrixkg.store import OxigraphStore, QueryOptions

    settings = _settings(args)
    if args.file:
        sparql = Path(args.file).read_text(encoding="utf-8")
    elif args.sparql:
        sparql = args.sparql
    else:
        print("matrixkg query: give a query or -f FILE", file=sys.stderr)
        return 2
    _ensure_build(settings)
    store = OxigraphStore(settings.build_dir)
    try:
        result = store.query(sparql, QueryOptions(max_rows=settings.max_result_rows))
    finally:
        store.close()
    if args.format == "table":
        table = format_table(result)
        sys.stdout.write(table if table.endswith("\n") else table + "\n")
    else:
        media = {"csv": "text/csv", "json": "application/sparql-results+json", "tsv": "text/tab-separated-values",
                 "xml": "application/sparql-results+xml", "turtle": "text/turtle",
                 "nt": "application/n-triples"}[args.format]
        sys.stdout.write(serialize_result(result, media).decode("utf-8"))
    return 0


def _ensure_build(settings: Settings) -> None:
    """Build when there is no build, or when it was minted under another base IRI."""
    from matrixkg.build import MANIFEST_FILE, Manifest, build

    manifest_path = settings.build_dir / MANIFEST_FILE
    if manifest_path.exists() and Manifest.read(settings.build_dir).base_uri == settings.base_uri:
        return
    log.info("building %s for base %s", settings.build_dir, settings.base_uri)
    build(settings)


def app_factory() -> Any:
    """Return the ASGI app for the settings in the environment (used by uvicorn's worker processes)."""
    from matrixkg.store import open_store
    from matrixkg.web import create_app

    settings = load_settings()
    return create_app(settings, open_store(settings.build_dir))


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ensure_build(settings)
    if args.get:
        return _get(settings, args.get, args.accept)
    import uvicorn

    # Worker processes read their settings from the environment, so pass on the resolved ones.
    for setting in SETTINGS:
        os.environ[setting.env_var] = str(getattr(settings, setting.name))
    log.info("serving %s on http://%s:%d/ (public base %s)", settings.build_dir, args.host, args.port,
             settings.base_uri)
    uvicorn.run("matrixkg.cli:app_factory", factory=True, host=args.host, port=args.port,
                workers=args.workers, proxy_headers=False, log_level="info")
    return 0


def _get(settings: Settings, path: str, accept: str | None) -> int:
    """Run one request in-process and print the response (Datasette's ``--get``)."""
    from fastapi.testclient import TestClient

    from matrixkg.store import open_store
    from matrixkg.web import create_app

    store = open_store(settings.build_dir)
    try:
        app = create_app(settings, store)
        # The app serves paths from the root (a proxy strips any path of the public base), so only the
        # base's scheme and host go to the client; PATH is taken as given.
        parts = urlsplit(settings.base_uri)
        with TestClient(app, base_url=f"{parts.scheme}://{parts.netloc}") as client:
            headers = {"Accept": accept} if accept else {}
            response = client.get(path, headers=headers, follow_redirects=False)
    finally:
        store.close()
    print(f"HTTP {response.status_code}", file=sys.stderr)
    for name, value in response.headers.items():
        print(f"{name}: {value}", file=sys.stderr)
    sys.stdout.write(response.text)
    return 0 if response.status_code < 400 else 1


# --- parser -------------------------------------------------------------------------------------------------
def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``matrixkg`` command."""
    parser = argparse.ArgumentParser(prog="matrixkg", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build, validate and publish build/ from data/")
    _add_setting_flags(p, "base_uri", "data_dir", "build_dir", "ontology_file", "shapes_file")
    p.add_argument("--progress", action="store_true", help="show progress even when not on a terminal")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ingest", help="turn cell pages into RDF")
    p.add_argument("pages", nargs="+", help="source page files (.txt)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.add_argument("--format", choices=sorted(INGEST_FORMATS), default="turtle")
    _add_setting_flags(p, "base_uri")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("validate", help="validate RDF files (or data/) against the SHACL shapes")
    p.add_argument("files", nargs="*", help="RDF files (Turtle, N-Triples, N-Quads...); none: the data/ folder")
    _add_setting_flags(p, "base_uri", "data_dir", "ontology_file", "shapes_file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("query", help="run a SPARQL query over the build")
    p.add_argument("sparql", nargs="?", help="the query text")
    p.add_argument("-f", "--file", help="read the query from a .rq file")
    p.add_argument("--format", choices=["table", "csv", "tsv", "json", "xml", "turtle", "nt"], default="table")
    _add_setting_flags(p, "base_uri", "data_dir", "build_dir", "ontology_file", "shapes_file", "max_result_rows")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("serve", help="serve the build over HTTP (builds first when there is none)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--get", metavar="PATH", help="print the response to one GET request and exit")
    p.add_argument("--accept", help="Accept header for --get")
    _add_setting_flags(p, *(s.name for s in SETTINGS))
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except MatrixkgError as exc:
        print(f"matrixkg {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"matrixkg {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
