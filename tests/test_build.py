"""The all-or-nothing build: outputs, validation gate, and a failed build leaving the last good one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from matrixkg.build import MANIFEST_FILE, REPORT_TEXT_FILE, build
from matrixkg.config import Settings
from matrixkg.errors import SourceError, ValidationFailed
from matrixkg.store import NQUADS_FILE, OxigraphStore, SelectResult

from .conftest import BASE, project_settings


def test_build_writes_quads_store_report_and_manifest(built: Settings) -> None:
    folder = built.build_dir
    with (folder / NQUADS_FILE).open("rb") as handle:
        graphs = {q.graph_name.value for q in ox.parse(handle, format=ox.RdfFormat.N_QUADS)}
    assert {BASE + "id/graph/ontology", BASE + "id/graph/skeleton",
            BASE + "id/graph/source/alcohol-matrix-cell-E4"} <= graphs
    assert "Conforms: yes" in (folder / REPORT_TEXT_FILE).read_text(encoding="utf-8")
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["base_uri"] == BASE
    assert len(manifest["sources"]["alcohol-matrix-cell-E4"]) == 64


def test_no_blank_nodes_in_published_data(built: Settings) -> None:
    text = (built.build_dir / NQUADS_FILE).read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line.startswith("_:") or " _:" in line.split('"')[0]]


def test_page_title_overrides_the_working_cell_label(built: Settings) -> None:
    store = OxigraphStore(built.build_dir)
    result = store.query(f"""SELECT ?label WHERE {{
        <{BASE}id/matrix/alcohol/cell/E4> <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }}""")
    assert isinstance(result, SelectResult)
    assert [str(r["label"]) for r in result.rows] == [
        "Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies"]


def _build_once(tmp_path: Path, data: Path) -> Settings:
    settings = project_settings(tmp_path, data_dir=data)
    build(settings)
    return settings


def test_bad_page_is_refused_and_the_last_build_stays(tmp_path: Path,
                                                      copy_data: Callable[[], Path]) -> None:
    data = copy_data()
    settings = _build_once(tmp_path, data)
    before = (settings.build_dir / NQUADS_FILE).read_bytes()
    seed = (data / "sources" / "alcohol-matrix-cell-E4.txt").read_text(encoding="utf-8")
    broken = seed.replace("Alcohol Matrix cell E4", "Alcohol Matrix cell E3").replace(
        "Text chat therapy (2011).", "Text chat therapy.")
    (data / "sources" / "alcohol-matrix-cell-E3.txt").write_text(broken, encoding="utf-8")
    line = 1 + broken.splitlines().index(next(x for x in broken.splitlines() if x.startswith("K Text chat")))
    with pytest.raises(SourceError) as caught:
        build(settings)
    assert "alcohol-matrix-cell-E3.txt" in str(caught.value) and caught.value.line == line
    assert "year" in caught.value.problem
    assert (settings.build_dir / NQUADS_FILE).read_bytes() == before
    assert not list(tmp_path.glob(".build.new-*")), "staging directory left behind"


def test_shacl_violation_is_refused_and_the_last_build_stays(tmp_path: Path,
                                                             copy_data: Callable[[], Path]) -> None:
    data = copy_data()
    settings = _build_once(tmp_path, data)
    before = (settings.build_dir / NQUADS_FILE).read_bytes()
    # A curated fact that breaks a shape: a cell notation outside A1..E5.
    (data / "curated" / "broken.ttl").write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<id/matrix/alcohol/cell/E4> skos:notation \"Z9\" .\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        build(settings)
    assert "Z9" in caught.value.report.to_text()  # type: ignore[attr-defined]
    assert (settings.build_dir / NQUADS_FILE).read_bytes() == before


def test_curated_turtle_syntax_error_names_the_file(tmp_path: Path, copy_data: Callable[[], Path]) -> None:
    data = copy_data()
    (data / "curated" / "typo.ttl").write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(SourceError, match="typo.ttl"):
        build(project_settings(tmp_path, data_dir=data))


def test_iris_follow_the_base(tmp_path: Path) -> None:
    settings = project_settings(tmp_path, base_uri="https://data.example.org/kg/")
    build(settings)
    store = OxigraphStore(settings.build_dir)
    assert store.exists(URIRef("https://data.example.org/kg/id/matrix/alcohol/cell/E4"))
    assert not store.exists(URIRef(BASE + "id/matrix/alcohol/cell/E4"))


def test_every_named_graph_is_described_by_void(built: Settings) -> None:
    store = OxigraphStore(built.build_dir)
    described = store.query(f"""PREFIX void: <http://rdfs.org/ns/void#>
        SELECT ?g ?n WHERE {{ <{BASE}id/dataset> void:subset ?g . OPTIONAL {{ ?g void:triples ?n }} }}""")
    assert isinstance(described, SelectResult)
    subsets = {str(r["g"]): int(r["n"]) if "n" in r else None for r in described.rows}
    assert set(subsets) == {str(g) for g in store.graphs()}
    counted = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}id/graph/skeleton> {{ ?s ?p ?o }} }}")
    assert isinstance(counted, SelectResult)
    assert subsets[BASE + "id/graph/skeleton"] == int(counted.rows[0]["n"])


def test_union_default_graph_has_no_duplicate_rows(built: Settings) -> None:
    # Regression: the page graph repeated the skeleton's cell triples, so plain SELECTs listed E4 twice.
    store = OxigraphStore(built.build_dir)
    result = store.query("SELECT ?c WHERE { ?c a <https://w3id.org/matrixkg/ns#Cell> }")
    assert isinstance(result, SelectResult)
    assert len(result.rows) == len({row["c"] for row in result.rows}) == 50
