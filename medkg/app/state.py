"""What one server process holds: its settings, its open graphs, the LLM queue and the job runner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from medkg.app.asking import AskQueue
from medkg.app.config import ServeConfig
from medkg.app.handles import BusyError, Handle, opener
from medkg.app.jobs import JobRunner
from medkg.kg.graphdir import GraphDir, graph_lock
from medkg.queries.api import KnowledgeGraph

log = logging.getLogger(__name__)

T = TypeVar("T")


class AppState:
    """The server's shared objects (see :mod:`medkg.app.handles` for why there are three open graphs)."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config.check()
        self.reader = Handle("graph reader", opener(config))
        try:
            self.explorer = Handle("query runner", opener(config, write=config.write))
            self.asker = Handle("LLM", opener(config))
        except BaseException:
            self.reader.close()
            raise
        self.write_lock = threading.Lock()  # a job, or a Cypher statement of a --write server
        self.asks = AskQueue(self.asker, config.queue_size, preload=config.preload)
        self.jobs = JobRunner(config, self.write_lock)
        self.asks.start()
        self.jobs.start()

    def read(self, fn: Callable[[KnowledgeGraph], T]) -> T:
        """Run a short read on the reader graph."""
        return self.reader.run(fn)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held by a Cypher statement of a ``--write`` server: no job runs meanwhile, nor a CLI build."""
        if not self.write_lock.acquire(blocking=False):
            raise BusyError("a build or delete is running; Cypher writes wait until it ends", retry_after=30)
        try:
            with graph_lock(GraphDir(self.config.graph)):
                yield
        finally:
            self.write_lock.release()

    def close(self) -> None:
        self.asks.stop()
        self.jobs.stop()
        for handle in (self.reader, self.explorer, self.asker):
            handle.close()


def get_state(request: Request) -> AppState:
    """The dependency every route takes."""
    return request.app.state.medkg


State = Annotated[AppState, Depends(get_state)]  # what a route declares to get the state
