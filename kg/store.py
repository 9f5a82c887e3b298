"""The ``GraphStore`` interface and the table of backends.

A backend is chosen by name. The table maps each name to the module and class
that implement it, the environment variables it needs (read by the CLI, never
by the library) and is imported lazily, so the embedded default never imports
the Neo4j driver and vice versa.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medkg.errors import StoreError
from medkg.kg.batch import GraphBatch


@dataclass(frozen=True)
class BackendSpec:
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
    """What every backend offers: schema, bulk loading, parameterised Cypher."""

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
    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one parameterised statement and return its rows as dicts."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Rows per node and relationship table."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
