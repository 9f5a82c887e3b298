"""Users' own queries (Cypher, SPARQL) with a row limit and a time limit; statistics; health.

Queries run on the explorer graph (read-only unless the server was started with ``--write``), one at a time,
each in a thread of its own, and the request waits for it at most the time limit. Where the store can stop a
statement (the embedded store, Neo4j; a SPARQL query runs in a process of its own, killed at the limit) it
does so at the limit; where it cannot (ArcadeDB's Bolt plugin) the request answers 400 at the limit while the
query finishes in the background, and further queries answer 503 until it has: one runaway query at a time,
never a pile of them. Building the RDF view on the first SPARQL query does not count against the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

from medkg.app.errors import UserQueryError
from medkg.app.handles import BusyError
from medkg.app.schemas import CypherBody, QueryResult, SparqlBody
from medkg.app.state import AppState, State
from medkg.errors import QueryError, StoreError
from medkg.queries.api import KnowledgeGraph
from medkg.version import __version__

router = APIRouter(prefix="/api")
PREPARE_LIMIT_S = 600.0  # building the RDF view of a large graph on the first SPARQL query
STORE_GRACE_S = 1.0  # a store that stops statements itself gets this long to say so (its message is clearer)
QUERY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the query failed, ran past the time limit, or tried to write on a read-only server"},
    503: {"description": "another query is still running (see Retry-After)"}}
T = TypeVar("T")


@router.post("/cypher", response_model=QueryResult, responses=QUERY_ERRORS, tags=["query"])
def cypher(st: State, body: CypherBody) -> QueryResult:
    """Run a Cypher statement (read-only unless the server runs with ``--write``)."""
    cfg = st.config
    limit = min(body.limit or cfg.max_rows, cfg.max_rows)

    def run(graph: KnowledgeGraph) -> list[dict[str, Any]]:
        if not cfg.write:
            return graph.cypher(body.query, body.params, timeout_s=cfg.query_timeout_s, max_rows=limit)
        with st.writing():
            try:
                return graph.cypher(body.query, body.params, timeout_s=cfg.query_timeout_s, max_rows=limit)
            finally:  # the other open graphs see the change only once they reopen the store
                st.reader.invalidate()
                st.asker.invalidate()

    rows, seconds = guarded(st, run, grace=STORE_GRACE_S)
    return QueryResult(columns=list(rows[0]) if rows else [], rows=[list(r.values()) for r in rows[:limit]],
                       truncated=len(rows) > limit, seconds=seconds)


@router.post("/sparql", response_model=QueryResult, responses=QUERY_ERRORS, tags=["query"])
def sparql(st: State, body: SparqlBody) -> QueryResult:
    """Run a SPARQL SELECT or ASK query over the graph's RDF view (SKOS, PROV-O, Web Annotation)."""
    limit = min(body.limit or st.config.max_rows, st.config.max_rows)
    (columns, rows), seconds = guarded(
        st, lambda g: g.sparql(body.query, timeout_s=st.config.query_timeout_s, max_rows=limit),
        prepare=lambda g: g.sparql("ASK { }"), grace=STORE_GRACE_S)
    return QueryResult(columns=list(columns), rows=[list(r) for r in rows[:limit]], truncated=len(rows) > limit,
                       seconds=seconds)


def guarded(st: AppState, run: Callable[[KnowledgeGraph], T], *,
            prepare: Callable[[KnowledgeGraph], Any] | None = None, grace: float = 0.0) -> tuple[T, float]:
    """``run`` on the explorer graph in a thread that holds the graph until it ends; (result, seconds).

    The request waits at most the time limit (plus ``grace``) once ``prepare`` is done.
    """
    limit = st.config.query_timeout_s
    handle = st.explorer
    if not handle.lock.acquire(timeout=limit):
        raise BusyError("another query is still running; try again when it has finished", retry_after=limit)
    ready, done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            handle.graph.refresh()
            if prepare is not None:
                prepare(handle.graph)
            ready.set()
            t0 = time.perf_counter()
            outcome["result"] = run(handle.graph)
            outcome["seconds"] = round(time.perf_counter() - t0, 3)
        except BaseException as e:  # noqa: BLE001  (handed to the request below)
            outcome["error"] = e
        finally:
            ready.set()
            done.set()
            handle.lock.release()

    threading.Thread(target=work, name="medkg-query", daemon=True).start()
    ready.wait(PREPARE_LIMIT_S)
    if not done.wait(limit + grace):
        raise QueryError(f"the query ran past its time limit of {limit:g} s; it is being finished in the "
                         "background, and further queries wait until it has")
    if "error" in outcome:
        error = outcome["error"]
        raise UserQueryError(str(error)) if isinstance(error, StoreError) else error
    return outcome["result"], outcome["seconds"]


@router.get("/stats", tags=["graph"])
def stats(st: State) -> dict[str, Any]:
    """Counts per node and edge type, per tier and summary level, sizes on disk, vocabularies, embedder."""
    return st.read(lambda g: g.stats())


@router.get("/health", tags=["graph"])
def health(st: State) -> dict[str, Any]:
    """Whether the server can read its graph, and the state of the LLM queue and the jobs."""
    manifest = st.read(lambda g: g.manifest)
    return {"status": "ok", "version": __version__, "graph": str(st.config.graph), "view": manifest.get("view"),
            "store": manifest.get("store", "embedded"), "documents": manifest.get("documents"),
            "write": st.config.write, "llm": st.asks.status(), "jobs": {"pending": st.jobs.pending()},
            "limits": {"max_upload_bytes": st.config.max_upload_bytes, "query_timeout_s": st.config.query_timeout_s,
                       "max_rows": st.config.max_rows, "queue_size": st.config.queue_size}}
