"""Open graphs shared by the server's threads, one thread at a time each, always on the current view.

A :class:`~medkg.queries.api.KnowledgeGraph` is not meant for concurrent use, so the server keeps three, each
behind its own lock, so that one kind of work never waits for another:

- *reader*: the page's reads (documents, concepts, stats): short, parameterised, milliseconds;
- *explorer*: users' own Cypher and SPARQL, which may be slow (each has a time limit);
- *asker*: the questions, used only by the LLM thread (:mod:`medkg.app.asking`), which holds the models.

Every use first calls ``refresh()``, which reads the manifest (one small file) and moves to a new view when a
build or delete switched it, whether the server's own job or a ``medkg build`` run beside it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from medkg.app.config import ServeConfig
from medkg.errors import MedKGError
from medkg.queries.api import KnowledgeGraph

log = logging.getLogger(__name__)

T = TypeVar("T")


class BusyError(MedKGError):
    """The server cannot take this request now (a full queue, a query still running); ``retry_after`` in s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class Handle:
    """One open graph, used by one thread at a time and moved to the current view before each use."""

    def __init__(self, name: str, opener: Callable[[], KnowledgeGraph]) -> None:
        self.name = name
        self._opener = opener
        self.graph = opener()
        self.lock = threading.Lock()
        self._stale = False  # another handle wrote to the store: reopen it before the next use

    def invalidate(self) -> None:
        """Reopen the store before the next use (a ``--write`` statement changed it through another handle)."""
        self._stale = True

    @contextmanager
    def use(self, wait: float = -1) -> Iterator[KnowledgeGraph]:
        """The graph, locked for this thread; ``wait`` seconds at most (-1: as long as it takes)."""
        if not self.lock.acquire(timeout=wait):
            raise BusyError(f"the {self.name} is busy with another request", retry_after=max(wait, 1.0))
        try:
            stale, self._stale = self._stale, False
            self.graph.refresh(force=stale)
            yield self.graph
        finally:
            self.lock.release()

    def run(self, fn: Callable[[KnowledgeGraph], T]) -> T:
        with self.use() as graph:
            return fn(graph)

    def close(self, wait: float = 10.0) -> None:
        """Close the graph once its current use ends (a question being answered may take a while)."""
        if not self.lock.acquire(timeout=wait):
            log.warning("the %s is still busy; leaving it to the end of the process", self.name)
            return
        try:
            self.graph.close()
        finally:
            self.lock.release()


def opener(config: ServeConfig, *, write: bool = False) -> Callable[[], KnowledgeGraph]:
    """How the app opens its graphs: the configured graph, model settings and store connection."""

    def open_graph() -> KnowledgeGraph:
        return KnowledgeGraph.open(config.graph, write=write, llm=config.llm, models_dir=config.models_dir,
                                   embedder_path=config.embedder_path, store_options=config.store_options)

    return open_graph
