"""The formats table and content negotiation (RFC 9110 §12.5.1).

One table, :data:`FORMATS`, names every representation the service offers; it is looked up by extension
(``.ttl``) and by media type (``text/turtle`` or an alias such as ``application/x-turtle``), and it drives the
web routes, their ``Link: rel="alternate"`` headers and the generated negotiation tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from matrixkg.errors import NotAcceptable


@dataclass(frozen=True)
class RdfFormat:
    """One representation the service can send: its extension, media types, label and rdflib serializer."""

    key: str
    extension: str
    media_type: str
    label: str
    serializer: str | None
    aliases: tuple[str, ...] = ()

    @property
    def media_types(self) -> tuple[str, ...]:
        """Return the registered media type first, then the aliases it also answers to."""
        return (self.media_type, *self.aliases)

    @property
    def is_rdf(self) -> bool:
        """Return whether this is an RDF serialisation (rather than the HTML page)."""
        return self.serializer is not None

    @property
    def content_type(self) -> str:
        """Return the ``Content-Type`` header value (every format here is UTF-8 text)."""
        return f"{self.media_type}; charset=utf-8"


HTML = RdfFormat("html", ".html", "text/html", "HTML", None,
                 # XHTML browsers read our HTML5 pages as well; we still answer text/html.
                 aliases=("application/xhtml+xml",))
TURTLE = RdfFormat("turtle", ".ttl", "text/turtle", "Turtle", "turtle",
                   aliases=("application/x-turtle", "application/turtle"))
JSONLD = RdfFormat("jsonld", ".jsonld", "application/ld+json", "JSON-LD", "json-ld",
                   # JSON-LD 1.1 §C: a JSON-LD document is JSON, so plain JSON clients get it too.
                   aliases=("application/json",))
NTRIPLES = RdfFormat("ntriples", ".nt", "application/n-triples", "N-Triples", "nt",
                     # RDF 1.1 N-Triples §4: text/plain was its media type before registration; rdflib
                     # still asks for it with format="nt".
                     aliases=("text/plain",))
# application/xml is deliberately not an alias: browsers list it at q=0.9, and a generic XML client is not
# asking for RDF. RDF/XML stays reachable by its registered type and by ``.rdf``.
RDFXML = RdfFormat("rdfxml", ".rdf", "application/rdf+xml", "RDF/XML", "xml")

#: Every format, in the server's order of preference (used to break ties between equally acceptable ones).
FORMATS: tuple[RdfFormat, ...] = (HTML, TURTLE, JSONLD, NTRIPLES, RDFXML)
RDF_FORMATS: tuple[RdfFormat, ...] = tuple(f for f in FORMATS if f.is_rdf)

_BY_EXTENSION = {f.extension: f for f in FORMATS}
_BY_MEDIA_TYPE = {media_type: f for f in FORMATS for media_type in f.media_types}


def by_extension(extension: str) -> RdfFormat | None:
    """Return the format served under *extension* (with its dot), or ``None``.

    >>> by_extension(".ttl").label
    'Turtle'
    >>> by_extension(".pdf") is None
    True
    """
    return _BY_EXTENSION.get(extension.lower())


def by_media_type(media_type: str) -> RdfFormat | None:
    """Return the format a media type (parameters ignored) names, or ``None``.

    >>> by_media_type("Application/X-Turtle; charset=utf-8").key
    'turtle'
    """
    return _BY_MEDIA_TYPE.get(media_type.split(";", 1)[0].strip().lower())


def split_extension(path: str) -> tuple[str, RdfFormat | None]:
    """Return *path* without a known format extension, and that format (``None`` when there is none).

    >>> split_extension("matrix/alcohol.ttl")  # doctest: +ELLIPSIS
    ('matrix/alcohol', RdfFormat(key='turtle', ...))
    >>> split_extension("document/2012-a.b")
    ('document/2012-a.b', None)
    """
    stem, dot, extension = path.rpartition(".")
    if not dot or "/" in extension:
        return path, None
    found = by_extension("." + extension)
    return (stem, found) if found is not None else (path, None)


# --- Accept header ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: ``type/subtype`` (either may be ``*``), its parameters and weight."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    @property
    def specificity(self) -> int:
        """Return how specific the range is: ``*/*`` 0, ``type/*`` 1, ``type/subtype`` 2, parameters 3."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def matches(self, media_type: str) -> bool:
        """Return whether *media_type* (no parameters) falls in this range."""
        kind, _, sub = media_type.partition("/")
        return self.type == "*" or (self.type == kind and self.subtype in ("*", sub))


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def parse_accept(header: str) -> list[MediaRange]:
    """Return the media ranges of an Accept header; malformed elements are skipped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html;q=0.5, */*;q=0.1")]
    [('text', 'html', 0.5), ('*', '*', 0.1)]
    >>> parse_accept("nonsense, text/turtle;q=2")
    []
    """
    ranges: list[MediaRange] = []
    # Quoted parameter values may hold commas in principle; no client we know sends such Accept values,
    # and splitting naively only risks skipping that one element.
    for element in header.split(","):
        parts = [p.strip() for p in element.split(";")]
        kind, slash, sub = parts[0].lower().partition("/")
        if not slash or not _TOKEN.match(kind) or not _TOKEN.match(sub) or (kind == "*" and sub != "*"):
            continue
        q = 1.0
        params: list[tuple[str, str]] = []
        valid = True
        for part in parts[1:]:
            name, equals, value = part.partition("=")
            name = name.strip().lower()
            if not equals or not name:
                valid = False
                break
            if name == "q":
                if not _QVALUE.match(value.strip()):
                    valid = False
                    break
                q = float(value)
                break  # RFC 9110 §12.4.2: anything after the weight is an accept-ext, not a media parameter
            params.append((name, value.strip().strip('"')))
        if valid:
            ranges.append(MediaRange(kind, sub, tuple(params), q))
    return ranges


def _quality(ranges: Sequence[MediaRange], offered: RdfFormat) -> tuple[float, int]:
    """Return the weight the client gives *offered* and how specific the deciding range was.

    The most specific matching range decides (RFC 9110 §12.5.1), across the format's media type and its
    aliases; media-range parameters are not compared with ours (we send none but charset), only counted
    for specificity.
    """
    best: tuple[int, float] | None = None
    for media_type in offered.media_types:
        for accepted in ranges:
            if accepted.matches(media_type):
                candidate = (accepted.specificity, accepted.q)
                if best is None or candidate > best:
                    best = candidate
    if best is None:
        return 0.0, -1
    return best[1], best[0]


def negotiate(accept_header: str | None, offered: Sequence[RdfFormat],
              wildcard_choice: RdfFormat | None = None) -> RdfFormat:
    """Return the offered format the client prefers most, or raise :class:`NotAcceptable`.

    Ties go to the format named explicitly over one only reached through a wildcard, then to the order of
    *offered* (the server's preference). When the best is reached only through ``*/*`` (curl, wget, a
    missing header), *wildcard_choice* is sent if it is among the best.

    >>> negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", FORMATS).key
    'html'
    >>> negotiate("*/*", FORMATS, wildcard_choice=TURTLE).key
    'turtle'
    >>> negotiate(None, FORMATS).key
    'html'
    >>> negotiate("text/*;q=0.5, application/ld+json;q=0.6", FORMATS).key
    'jsonld'
    >>> negotiate("text/turtle;q=0, */*", (TURTLE, NTRIPLES)).key
    'ntriples'
    >>> negotiate("application/pdf", FORMATS)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matrixkg.errors.NotAcceptable: none of the available formats is acceptable: text/html, ...
    """
    if not offered:
        raise ValueError("nothing offered")
    ranges = parse_accept(accept_header) if accept_header else []
    if not ranges:
        # RFC 9110 §12.5.1: no Accept header means any media type is acceptable; an Accept header with no
        # well-formed element can be disregarded, so it is treated the same way.
        ranges = [MediaRange("*", "*", (), 1.0)]
    scored = [(_quality(ranges, fmt), index, fmt) for index, fmt in enumerate(offered)]
    acceptable = [(q, specificity, index, fmt) for (q, specificity), index, fmt in scored if q > 0]
    if not acceptable:
        raise NotAcceptable([fmt.media_type for fmt in offered])
    top_q = max(q for q, *_ in acceptable)
    best = [(specificity, index, fmt) for q, specificity, index, fmt in acceptable if q == top_q]
    top_specificity = max(specificity for specificity, *_ in best)
    if top_specificity == 0 and wildcard_choice is not None and any(f is wildcard_choice for *_, f in best):
        return wildcard_choice
    return min((index, fmt) for specificity, index, fmt in best if specificity == top_specificity)[1]


# --- JSON-LD context ----------------------------------------------------------------------------------------
CONTEXT_RESOURCE = ("static", "context.jsonld")


@cache
def _context_text() -> str:
    return resources.files("matrixkg").joinpath(*CONTEXT_RESOURCE).read_text(encoding="utf-8")


def jsonld_context() -> dict[str, Any]:
    """Return (a fresh copy of) the ``@context`` object published at ``/context.jsonld``.

    The same object is inlined in every JSON-LD response, so that a processor expands them without fetching
    anything (JSON-LD 1.1 §3.1 allows an embedded context as well as a referenced one).
    """
    context = json.loads(_context_text())["@context"]
    if not isinstance(context, dict):
        raise TypeError("static/context.jsonld must hold one @context object")
    return context
