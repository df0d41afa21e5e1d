"""Tests for reading source pages into records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from matrixkg.errors import SourceError
from matrixkg.sources import SourcePage, read_source, read_sources

SEED = Path(__file__).resolve().parents[1] / "data" / "sources" / "alcohol-matrix-cell-E4.txt"


def test_read_source_returns_name_text_and_checksum() -> None:
    page = read_source(SEED)
    assert isinstance(page, SourcePage)
    assert page.name == "alcohol-matrix-cell-E4"
    assert page.path == SEED
    assert "Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies" in page.text
    assert page.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()


def test_read_sources_reads_only_txt_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("second page\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first page\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a page\n", encoding="utf-8")
    pages = read_sources(tmp_path)
    assert [page.name for page in pages] == ["a", "b"]


def test_read_sources_of_an_empty_folder_is_empty(tmp_path: Path) -> None:
    assert read_sources(tmp_path) == []


def test_non_utf8_byte_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("line one\nline two\ncaf\u00e9 on line three\n".encode("latin-1"))
    with pytest.raises(SourceError) as caught:
        read_source(path)
    assert caught.value.file == str(path)
    assert caught.value.line == 3
    assert "UTF-8" in caught.value.problem and "0xe9" in caught.value.problem


def test_file_cut_inside_a_character_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes("first\nsecond bite\u2019".encode()[:-1])
    with pytest.raises(SourceError) as caught:
        read_source(path)
    assert caught.value.line == 2
    assert "truncated" in caught.value.problem


@pytest.mark.parametrize("content", [b"", b"  \n\n \t\n"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError) as caught:
        read_source(path)
    assert (caught.value.file, caught.value.line) == (str(path), 1)
    assert "empty" in caught.value.problem


def test_windows_line_ends_and_bom_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    data = "\ufeffone\r\ntwo\r\n".encode()
    path.write_bytes(data)
    page = read_source(path)
    assert page.text == "one\ntwo\n"
    # The checksum is of the bytes on disk, so it identifies the file actually read.
    assert page.sha256 == hashlib.sha256(data).hexdigest()
