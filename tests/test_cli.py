"""The command line, through its runner (`matrixkg.cli.main`) and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from matrixkg.cli import main
from matrixkg.config import Settings

from .conftest import ROOT

SEED = ROOT / "data" / "sources" / "alcohol-matrix-cell-E4.txt"


def _paths(tmp_path: Path) -> list[str]:
    return ["--data-dir", str(ROOT / "data"), "--ontology-file", str(ROOT / "ontology" / "matrixkg.ttl"),
            "--shapes-file", str(ROOT / "shapes" / "matrixkg.shapes.ttl")]


def test_ingest_writes_turtle_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "e4.ttl"
    assert main(["ingest", str(SEED), "-o", str(out)]) == 0
    graph = Graph().parse(out, format="turtle")
    entries = graph.query("PREFIX mkg: <https://w3id.org/matrixkg/ns#> SELECT ?e WHERE { ?e a mkg:Entry }")
    assert len(entries) == 16


@pytest.mark.parametrize("fmt", ["nquads", "jsonld"])
def test_ingest_other_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(SEED), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "nquads":
        assert "/id/graph/source/alcohol-matrix-cell-E4>" in out
    else:
        assert isinstance(json.loads(out), list | dict)


def test_ingest_bad_page_fails_with_place_and_writes_nothing(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    seed = SEED.read_text(encoding="utf-8")
    bad.write_text(seed.replace("K Text chat therapy", "Q Text chat therapy"), encoding="utf-8")
    line = 1 + seed.splitlines().index(next(x for x in seed.splitlines() if x.startswith("K Text chat")))
    out = tmp_path / "out.ttl"
    code = main(["ingest", str(SEED), str(bad), "-o", str(out)])
    assert code != 0
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"bad.txt:{line}:" in err and "category" in err.lower()


def test_build_then_query_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_dir = ["--build-dir", str(tmp_path / "build")]
    assert main(["build", "-q", *build_dir, *_paths(tmp_path)]) == 0
    assert "conforms" in capsys.readouterr().out
    query = ("PREFIX mkg: <https://w3id.org/matrixkg/ns#> SELECT (COUNT(?e) AS ?entries) "
             "WHERE { ?e a mkg:Entry }")
    assert main(["query", query, *build_dir, *_paths(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "entries" in table and "16" in table
    assert main(["query", query, "--format", "csv", *build_dir, *_paths(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["entries", "16"]
    rq = tmp_path / "q.rq"
    rq.write_text(query, encoding="utf-8")
    assert main(["query", "-f", str(rq), "--format", "json", *build_dir, *_paths(tmp_path)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["results"]["bindings"][0]["entries"]["value"] == "16"


def test_query_syntax_error_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_dir = ["--build-dir", str(tmp_path / "build")]
    assert main(["query", "SELECT * WHERE { ?s ?p }", *build_dir, *_paths(tmp_path)]) != 0
    assert "1:" in capsys.readouterr().err


def test_validate_reports_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix mkg: <https://w3id.org/matrixkg/ns#> .\n"
                   "<http://localhost:8000/id/matrix/alcohol/cell/E4/entry/x> a mkg:Entry .\n", encoding="utf-8")
    assert main(["validate", str(bad), *_paths(tmp_path)]) != 0
    out = capsys.readouterr().out
    assert "Violation" in out and "entry/x" in out
    assert main(["validate", *_paths(tmp_path)]) == 0
    assert "Conforms: yes" in capsys.readouterr().out


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "matrixkg", "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "serve" in done.stdout


def test_validate_reads_the_published_nquads(built: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(built.build_dir / "matrixkg.nq"), *_paths(built.build_dir)]) == 0
    assert "Conforms: yes" in capsys.readouterr().out
