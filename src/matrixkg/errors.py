"""Typed errors, each carrying the HTTP status it maps to at the edge (web handler or CLI exit code)."""

from __future__ import annotations

from dataclasses import dataclass


class MatrixkgError(Exception):
    """Base of every error matrixkg raises on purpose."""

    status: int = 500
    exit_code: int = 1


@dataclass
class SourceError(MatrixkgError):
    """A source page that cannot be made sense of: names the file, the line and the problem."""

    file: str
    line: int
    problem: str
    status = 422
    exit_code = 2

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"


class ValidationFailed(MatrixkgError):
    """The dataset does not conform to the SHACL shapes; the build was refused."""

    status = 422
    exit_code = 3

    def __init__(self, report: object, message: str = "dataset does not conform to the shapes") -> None:
        super().__init__(message)
        self.report = report


class BuildMissing(MatrixkgError):
    """No published build exists where one was expected."""

    status = 503
    exit_code = 4


class ConfigError(MatrixkgError):
    """A setting has a value it cannot take."""

    status = 500
    exit_code = 2


class NotFound(MatrixkgError):
    """No resource at that path."""

    status = 404


class NotAcceptable(MatrixkgError):
    """None of the offered representations is acceptable to the client."""

    status = 406

    def __init__(self, offered: list[str]) -> None:
        super().__init__("none of the available formats is acceptable: " + ", ".join(offered))
        self.offered = offered


class QueryError(MatrixkgError):
    """A SPARQL query that is malformed or not allowed."""

    status = 400


class QueryRefused(QueryError):
    """A query or request that the read-only public endpoint will not run (update, LOAD, SERVICE...)."""

    status = 403


class QueryTooLarge(QueryError):
    """The query text is over the size limit."""

    status = 413


class QueryTimeout(MatrixkgError):
    """Evaluation ran past the time limit and was stopped."""

    status = 503
