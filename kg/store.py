"""The ``GraphStore`` interface and the table of backends.

A backend is chosen by name. The table maps each name to the module and class
that implement it, the environment variables it needs (read by the CLI, never
by the library) and is imported lazily, so the embedded default never imports
the Neo4j driver and vice versa.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medkg.errors import StoreError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.schema import NODES, RELS

ROWS_PER_STATEMENT = 2000


@dataclass(frozen=True)
class BackendSpec:
    """One row of the backend table: where its class lives and which environment variables configure it."""

    module: str
    cls: str
    env: tuple[str, ...] = ()  # environment variables the CLI passes as options (NEO4J_URI -> uri)
    required_env: tuple[str, ...] = ()


BACKENDS: dict[str, BackendSpec] = {
    "embedded": BackendSpec("medkg.kg.embedded", "EmbeddedStore"),
    "neo4j": BackendSpec("medkg.kg.neo4j_store", "Neo4jStore",
                         env=("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE"),
                         required_env=("NEO4J_URI",)),
}


class GraphStore(ABC):
    """What every backend offers: schema, bulk loading, parameterised Cypher.

    Backends are listed in :data:`BACKENDS` (name -> module, class, environment) and opened with
    :func:`open_store`; each lives in its own module and is imported only when used.
    """

    read_only: bool  # opened without write access: statements that change the graph are refused

    @abstractmethod
    def create_schema(self) -> None: ...

    @abstractmethod
    def bulk_load(self, batch: GraphBatch) -> None:
        """Load a batch of rows as fast as the backend allows (embedded: COPY into a fresh store; Neo4j: MERGE)."""

    def replace_contents(self, batch: GraphBatch) -> None:
        """Make the store hold exactly ``batch``'s graph. The default suits a fresh, empty store."""
        self.create_schema()
        self.bulk_load(batch)

    @abstractmethod
    def query(self, cypher: str, params: dict[str, Any] | None = None, *,
              max_rows: int | None = None) -> list[dict[str, Any]]:
        """Run one parameterised statement and return its rows as dicts (at most ``max_rows + 1`` when given,
        so that a caller can tell the result was cut).

        On a store opened read-only the statement must pass :func:`medkg.kg.guard.check_cypher`.
        """

    def query_each(self, cypher: str, ids: Iterable[Any], params: dict[str, Any] | None = None
                   ) -> list[dict[str, Any]]:
        """Run ``cypher`` once for each distinct value of ``ids`` (bound to ``$id``, in their order) and return
        all rows. For the lookups in :mod:`medkg.kg.cypher` that start at one node's primary key: every backend
        answers them through its index, where a list parameter makes the embedded engine scan the table."""
        out: list[dict[str, Any]] = []
        for value in dict.fromkeys(ids):
            out.extend(self.query(cypher, {**(params or {}), "id": value}))
        return out

    def set_query_timeout(self, seconds: float | None) -> None:  # noqa: B027  (optional: a default that does nothing)
        """Stop each later statement that runs longer than ``seconds`` (``None``: no limit).

        Used for users' own queries (``medkg serve``). A backend that cannot cancel a statement ignores it.
        """

    def _write(self, cypher_text: str, params: dict[str, Any]) -> None:
        """Run a write of medkg's own (a backend may bypass the read-only guard ``query`` applies to users)."""
        self.query(cypher_text, params)

    def merge(self, table: str, rows: list[tuple]) -> None:
        """MERGE staged rows (schema column order; relationships start with source and target ids).

        Empty strings are written as nulls, which is what a ``COPY``-loaded store holds for them (and what a
        server returns for a property never set), so a row reads back the same whichever way it was loaded.
        """
        if table in NODES:
            names, stmt = [n for n, _ in NODES[table].columns], cypher.merge_nodes(table)
        else:
            names, stmt = ["src", "dst", *(n for n, _ in RELS[table].columns)], cypher.merge_rels(table)
        for i in range(0, len(rows), ROWS_PER_STATEMENT):
            block = rows[i : i + ROWS_PER_STATEMENT]
            self._write(stmt, {"rows": [row_params(names, r) for r in block]})

    def add_chunk_vectors(self, ids: list[str], vectors: Any) -> int:
        """Store chunk embeddings where the backend indexes them natively; return how many were written.

        The default stores none: medkg's own search index (``index/`` in the view) serves retrieval on every
        backend. A server with a vector index gets them for its users' own queries.
        """
        return 0

    def delete_documents(self, ids: list[str]) -> None:
        """Remove documents with their chunks and entities (and every edge touching them)."""
        for stmt in (cypher.DELETE_ENTITIES_OF_DOCUMENTS, cypher.DELETE_CHUNKS_OF_DOCUMENTS, cypher.DELETE_DOCUMENTS):
            self._write(stmt, {"ids": ids})

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows per node and relationship table."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def row_params(names: list[str], row: tuple) -> dict[str, Any]:
    """A staged row as statement parameters; empty strings become nulls, as ``COPY`` loads them."""
    return {n: None if v == "" else v for n, v in zip(names, row)}


def open_store(backend: str, path: Path | None, *, read_only: bool = True, create: bool = False, **options: Any
               ) -> GraphStore:
    """Open a backend by name. ``path`` is the embedded store's file (a server backend ignores it and takes
    its connection from ``options``: ``uri``, ``username``, ``password``, ``database``)."""
    try:
        spec = BACKENDS[backend]
    except KeyError as e:
        raise StoreError(f"unknown store {backend!r}; known: {', '.join(sorted(BACKENDS))}") from e
    cls = getattr(importlib.import_module(spec.module), spec.cls)
    return cls(path, read_only=read_only, create=create, **options)
