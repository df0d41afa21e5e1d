"""Benchmark: the project's example queries on the embedded Oxigraph store vs rdflib's in-memory engine.

rdflib's engine is what rdflib-endpoint serves from, so the ratio says what choosing Oxigraph buys. Both
engines answer the same queries over the same N-Quads, side by side in one run, at several dataset sizes
(the bundled build, replicated under distinct IRIs). Reports medians and the rdflib/Oxigraph ratio.

    python bench/bench_queries.py --copies 1 20 100 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rdflib import Dataset

from matrixkg.build import build, publish_nquads
from matrixkg.config import Settings
from matrixkg.queries import load_queries
from matrixkg.store import NQUADS_FILE, OxigraphStore, QueryOptions

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8000/"


def replicate(source: Path, target: Path, copies: int) -> int:
    """Write *copies* copies of the build's quads, copy k's IRIs moved under ``id/rK/``; return the count."""
    lines = source.read_text(encoding="utf-8").splitlines()
    count = 0
    with target.open("w", encoding="utf-8") as out:
        for k in range(copies):
            prefix = f"<{BASE}id/" if k == 0 else f"<{BASE}id/r{k}/"
            for line in lines:
                out.write(line.replace(f"<{BASE}id/", prefix) + "\n")
                count += 1
    return count


def median_seconds(run: object, repeat: int) -> float:
    """Return the median wall time of *repeat* calls of *run*."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 20, 100])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rdflib-max-quads", type=int, default=50_000,
                        help="above this size only Oxigraph runs (rdflib takes minutes per query)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="matrixkg-bench-"))
    settings = Settings(base_uri=BASE, data_dir=ROOT / "data", build_dir=work / "seed",
                        ontology_file=ROOT / "ontology" / "matrixkg.ttl",
                        shapes_file=ROOT / "shapes" / "matrixkg.shapes.ttl")
    build(settings)
    queries = list(load_queries().values())
    print("| quads | query | Oxigraph median ms | rdflib median ms | rdflib / Oxigraph |")
    print("|---:|---|---:|---:|---:|")
    for copies in args.copies:
        nq = work / f"x{copies}.nq"
        quads = replicate(settings.build_dir / NQUADS_FILE, nq, copies)
        store = OxigraphStore(publish_nquads(nq, work / f"build-x{copies}", BASE))
        dataset = None
        if quads <= args.rdflib_max_quads:
            dataset = Dataset(default_union=True)
            dataset.parse(str(nq), format="nquads")
        ratios = []
        for query in queries:
            text = query.text
            oxi = median_seconds(lambda: store.query(text, QueryOptions()), args.repeat)  # noqa: B023
            if dataset is None:
                print(f"| {quads} | {query.name} | {oxi * 1000:.2f} | not run | |", flush=True)
                continue
            rdf = median_seconds(lambda: list(dataset.query(text)), max(1, args.repeat // 2))  # noqa: B023
            ratios.append(rdf / oxi)
            print(f"| {quads} | {query.name} | {oxi * 1000:.2f} | {rdf * 1000:.2f} | {rdf / oxi:.1f} |", flush=True)
        if ratios:
            print(f"| {quads} | **median ratio over {len(queries)} queries** | | | "
                  f"**{statistics.median(ratios):.1f}** |", flush=True)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
