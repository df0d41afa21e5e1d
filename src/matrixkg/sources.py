"""Read source pages (Findings treatment-matrix cell pages saved as text) into records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from matrixkg.errors import SourceError


@dataclass(frozen=True)
class SourcePage:
    """One source page: its file stem, where it was read from, its text and the checksum of its bytes."""

    name: str
    path: Path
    text: str
    sha256: str


def read_source(path: Path) -> SourcePage:
    """Return the source page at *path*, or raise SourceError naming the file and the line at fault."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        if error.end >= len(data) and error.reason == "unexpected end of data":
            # A multi-byte character cut short at the very end means the file itself was cut short.
            problem = "file is truncated: it ends inside a multi-byte UTF-8 character"
        else:
            problem = f"not UTF-8: byte 0x{data[error.start]:02x} cannot be decoded ({error.reason})"
        raise SourceError(str(path), line, problem) from error
    # Windows line ends would otherwise leak "\r" into quotes; line numbers are unaffected.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise SourceError(str(path), 1, "file is empty")
    return SourcePage(
        name=path.stem,
        path=path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def read_sources(folder: Path) -> list[SourcePage]:
    """Return every ``*.txt`` source page in *folder*, sorted by file name."""
    return [read_source(path) for path in sorted(Path(folder).glob("*.txt"))]
