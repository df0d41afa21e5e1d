"""The store interface (load a build, query, describe) and its embedded Oxigraph implementation.

The web tier talks only to :class:`Store`; a remote SPARQL 1.1 server can stand behind the same interface.
User queries run in worker processes so that a timeout really stops evaluation: the worker is killed
and replaced, and the server is free again (SPARQL Protocol leaves timeouts to the service; we answer 503).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from matrixkg.errors import BuildMissing, QueryError, QueryTimeout

log = logging.getLogger(__name__)

NQUADS_FILE = "matrixkg.nq"
STORE_DIR = "store"

LABEL_PREDICATES: tuple[str, ...] = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
    "http://www.w3.org/2004/02/skos/core#notation",
)


# --- results ---------------------------------------------------------------------------------------------
@dataclass
class SelectResult:
    """Solutions of a SELECT query, cut at a row limit (``truncated`` says whether rows were dropped)."""

    variables: list[str]
    rows: list[dict[str, Node]]
    truncated: bool = False


@dataclass
class AskResult:
    """The answer of an ASK query."""

    value: bool


@dataclass
class GraphResult:
    """Triples of a CONSTRUCT or DESCRIBE query, cut at a triple limit."""

    graph: Graph
    truncated: bool = False


QueryResult = SelectResult | AskResult | GraphResult


@dataclass
class Backlinks:
    """One page of the triples pointing at a resource, and how many there are in all."""

    graph: Graph
    total: int
    offset: int
    limit: int


@dataclass
class QueryOptions:
    """Dataset and limits of one query (SPARQL Protocol §2.1.4 ``default-graph-uri``/``named-graph-uri``)."""

    default_graphs: Sequence[str] = ()
    named_graphs: Sequence[str] = ()
    timeout: float | None = None
    max_rows: int | None = None
    # The base IRI relative IRIs in the query resolve against when it declares no BASE; the SPARQL Protocol
    # leaves it to the service ("which MAY be the service endpoint").
    base_iri: str | None = None
    # False when the query's own FROM / FROM NAMED clauses should make the dataset (SPARQL 1.1 Query §13.2)
    # instead of the union of the named graphs.
    union_default_graph: bool = True


# --- term conversion ---------------------------------------------------------------------------------------
def to_rdflib(term: Any) -> Node:
    """Return the rdflib term for a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise QueryError(f"unsupported term in result: {term!r}")


def _named(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise QueryError(f"not a valid IRI: {iri!r}") from exc


# --- the interface -----------------------------------------------------------------------------------------
class Store(ABC):
    """What the web tier and the CLI need from a SPARQL store."""

    @abstractmethod
    def query(self, sparql: str, options: QueryOptions | None = None) -> QueryResult:
        """Return the result of a read-only query over the union of the named graphs by default."""

    @abstractmethod
    def describe(self, iri: URIRef) -> Graph:
        """Return the outgoing triples of *iri* plus labels of every resource they link to."""

    @abstractmethod
    def backlinks(self, iri: URIRef, offset: int = 0, limit: int = 50) -> Backlinks:
        """Return one page of the triples whose object is *iri*, with labels of their subjects."""

    @abstractmethod
    def triple_count(self) -> int:
        """Return the number of distinct quads in the store."""

    @abstractmethod
    def graphs(self) -> list[URIRef]:
        """Return the named graphs of the store."""

    @abstractmethod
    def exists(self, iri: URIRef) -> bool:
        """Return whether *iri* is the subject or object of any triple."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release worker processes and handles."""


# --- embedded Oxigraph -------------------------------------------------------------------------------------
def _run_query(store: ox.Store, sparql: str, options: QueryOptions) -> QueryResult:
    kwargs: dict[str, Any] = {}
    if options.default_graphs:
        kwargs["default_graph"] = [_named(g) for g in options.default_graphs]
    elif options.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    if options.named_graphs:
        kwargs["named_graphs"] = [_named(g) for g in options.named_graphs]
    if options.base_iri:
        kwargs["base_iri"] = options.base_iri
    try:
        result = store.query(sparql, **kwargs)
    except SyntaxError as exc:
        raise QueryError(f"malformed query: {exc}") from exc
    limit = options.max_rows
    try:
        if isinstance(result, ox.QueryBoolean):
            return AskResult(bool(result))
        if isinstance(result, ox.QuerySolutions):
            variables = [v.value for v in result.variables]
            rows: list[dict[str, Node]] = []
            truncated = False
            for solution in result:
                if limit is not None and len(rows) >= limit:
                    truncated = True
                    break
                row = {}
                for var in variables:
                    value = solution[var]
                    if value is not None:
                        row[var] = to_rdflib(value)
                rows.append(row)
            return SelectResult(variables, rows, truncated)
        graph = Graph()
        truncated = False
        for count, triple in enumerate(result):
            if limit is not None and count >= limit:
                truncated = True
                break
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return GraphResult(graph, truncated)
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from exc


def _worker_main(store_path: str, conn: multiprocessing.connection.Connection) -> None:
    """Serve queries from one read-only store handle until the pipe closes."""
    store = ox.Store.read_only(store_path)
    while True:
        try:
            sparql, options = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", _run_query(store, sparql, options)))
        except QueryError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported back to the parent as a typed QueryError
            conn.send(("error", f"query evaluation failed: {type(exc).__name__}: {exc}"))


class _Worker:
    """One query process; killed and replaced when a query overruns."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(str(store_path), child), daemon=True)
        self.process.start()
        child.close()

    def run(self, sparql: str, options: QueryOptions, timeout: float) -> QueryResult:
        self.conn.send((sparql, options))
        if not self.conn.poll(timeout):
            raise QueryTimeout(f"query ran longer than {timeout:g} s and was stopped")
        status, payload = self.conn.recv()
        if status == "error":
            raise QueryError(payload)
        return payload  # type: ignore[no-any-return]

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class OxigraphStore(Store):
    """The embedded store: a build's on-disk Oxigraph database, opened read-only.

    Describe and backlink lookups run in-process (they are bounded by construction); user queries run in
    a small pool of worker processes when a timeout is asked for.
    """

    def __init__(self, build_dir: Path, workers: int = 2) -> None:
        path = build_dir / STORE_DIR
        if not path.is_dir():
            raise BuildMissing(f"no store in {build_dir}: run `matrixkg build` first")
        self.path = path
        self._store = ox.Store.read_only(str(path))
        self._workers_wanted = workers
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._available = threading.Semaphore(workers)

    # worker pool -----------------------------------------------------------------------------------------
    def _take_worker(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self.path)

    def _return_worker(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def query(self, sparql: str, options: QueryOptions | None = None) -> QueryResult:
        """Return the result of *sparql*, in a worker process when a timeout is set."""
        options = options or QueryOptions()
        if options.timeout is None:
            return _run_query(self._store, sparql, options)
        self._available.acquire()
        try:
            worker = self._take_worker()
            try:
                result = worker.run(sparql, options, options.timeout)
            except QueryTimeout:
                log.warning("query stopped after %.1f s; worker %s killed", options.timeout, worker.process.pid)
                worker.kill()
                raise
            except QueryError:
                self._return_worker(worker)
                raise
            except (EOFError, OSError, BrokenPipeError) as exc:
                worker.kill()
                raise QueryError(f"query worker failed: {exc}") from exc
            self._return_worker(worker)
            return result
        finally:
            self._available.release()

    def warm_up(self) -> None:
        """Start the worker processes ahead of the first query."""
        workers = [self._take_worker() for _ in range(self._workers_wanted)]
        for worker in workers:
            self._return_worker(worker)

    def close(self) -> None:
        """Stop every worker process."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    # descriptions ------------------------------------------------------------------------------------------
    def _triples(self, s: Any, p: Any, o: Any) -> Iterator[tuple[Node, Node, Node]]:
        seen: set[tuple[Any, Any, Any]] = set()
        for quad in self._store.quads_for_pattern(s, p, o, None):
            key = (quad.subject, quad.predicate, quad.object)
            if key not in seen:
                seen.add(key)
                yield to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)

    def _add_labels(self, graph: Graph, nodes: set[Node]) -> None:
        for node in nodes:
            if not isinstance(node, URIRef):
                continue
            for predicate in LABEL_PREDICATES:
                for triple in self._triples(ox.NamedNode(str(node)), ox.NamedNode(predicate), None):
                    graph.add(triple)
            for triple in self._triples(ox.NamedNode(str(node)),
                                        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), None):
                graph.add(triple)

    def describe(self, iri: URIRef) -> Graph:
        """Return the outgoing triples of *iri* plus labels and types of what they link to."""
        graph = Graph()
        linked: set[Node] = set()
        for triple in self._triples(ox.NamedNode(str(iri)), None, None):
            graph.add(triple)
            linked.add(triple[2])
        self._add_labels(graph, linked)
        return graph

    def backlinks(self, iri: URIRef, offset: int = 0, limit: int = 50) -> Backlinks:
        """Return one page of incoming triples, in a stable order, with labels of their subjects."""
        incoming = sorted(self._triples(None, None, ox.NamedNode(str(iri))), key=lambda t: (str(t[1]), str(t[0])))
        page = incoming[offset:offset + limit]
        graph = Graph()
        for triple in page:
            graph.add(triple)
        self._add_labels(graph, {t[0] for t in page})
        return Backlinks(graph, len(incoming), offset, limit)

    def triple_count(self) -> int:
        """Return the number of quads in the store."""
        return len(self._store)

    def graphs(self) -> list[URIRef]:
        """Return the named graphs, sorted."""
        return sorted(URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def exists(self, iri: URIRef) -> bool:
        """Return whether *iri* is the subject or object of any triple."""
        node = ox.NamedNode(str(iri))
        return any(True for _ in self._store.quads_for_pattern(node, None, None, None)) or any(
            True for _ in self._store.quads_for_pattern(None, None, node, None))


def open_store(build_dir: Path, workers: int = 2) -> Store:
    """Return the store over a published build (the embedded Oxigraph store; a remote one comes later)."""
    return OxigraphStore(build_dir, workers=workers)
