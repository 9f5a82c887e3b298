"""The LLM queue: one model in memory, one question at a time, a bounded number waiting.

A local LLM on a few CPU cores answers one question in seconds to a minute, and a second model instance
would double the memory without making either faster. So questions go to one worker thread through a
bounded queue. When the queue is full the request is refused at once with :class:`BusyError` (HTTP 503 and
a ``Retry-After`` estimated from recent answers) instead of piling up behind the model. A question whose
client went away before its turn is dropped without calling the model.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from medkg.app.handles import BusyError, Handle
from medkg.queries.records import Answer
from medkg.queries.retrieval import Retrieval
from medkg.queries.settings import AnswerSettings, RetrievalSettings

log = logging.getLogger(__name__)

FIRST_GUESS_S = 30.0  # seconds per answer assumed before any was measured (SmolLM2/Qwen on 2 cores)


@dataclass
class Question:
    """A question with its settings, as the API received them (already checked)."""

    text: str
    settings: RetrievalSettings
    answer_settings: AnswerSettings
    mode: str = "uretrieve"
    options: list[str] | None = None
    document: str | None = None  # scope to one document (KnowledgeGraph.ask(document=...))


@dataclass
class Ticket:
    """A queued question: its future answer, and who to tell when the evidence is found."""

    question: Question
    future: Future[Answer] = field(default_factory=Future)
    on_retrieval: Callable[[Retrieval], None] | None = None


class AskQueue:
    """One worker thread answering :class:`Question` s from a bounded queue with the asker graph."""

    def __init__(self, handle: Handle, size: int, preload: bool = False) -> None:
        self.handle = handle
        self.size = size
        self._queue: queue.Queue[Ticket | None] = queue.Queue(maxsize=size)
        self._running: Ticket | None = None
        self._seconds = FIRST_GUESS_S  # moving average of recent answers
        self._answered = 0
        self._preload = preload
        self._model = ""  # the loaded model's file name, once loaded
        self._thread = threading.Thread(target=self._work, name="medkg-llm", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let the running question finish (up to ``timeout``); queued ones are cancelled."""
        while True:
            try:
                ticket = self._queue.get_nowait()
            except queue.Empty:
                break
            if ticket is not None:
                ticket.future.cancel()
        self._queue.put(None)
        self._thread.join(timeout)

    def submit(self, question: Question, on_retrieval: Callable[[Retrieval], None] | None = None) -> Ticket:
        """Queue a question, or raise :class:`BusyError` when ``size`` questions are already waiting."""
        ticket = Ticket(question, on_retrieval=on_retrieval)
        try:
            self._queue.put_nowait(ticket)
        except queue.Full:
            wait = math.ceil(self._seconds * (self._queue.qsize() + 1))
            raise BusyError(f"the LLM is busy: {self._queue.qsize()} questions are waiting; try again later",
                            retry_after=wait) from None
        return ticket

    def waiting(self) -> int:
        return self._queue.qsize()

    def status(self) -> dict[str, Any]:
        return {"running": self._running is not None, "waiting": self._queue.qsize(), "size": self.size,
                "answered": self._answered, "seconds_per_answer": round(self._seconds, 1),
                "model_loaded": bool(self._model), "model": self._model or None}

    # -- the worker -----------------------------------------------------------------------------------------
    def _work(self) -> None:
        if self._preload:
            self._load_models()
        while True:
            ticket = self._queue.get()
            if ticket is None:
                return
            if not ticket.future.set_running_or_notify_cancel():
                continue  # the client went away while it waited
            self._running = ticket
            t0 = time.perf_counter()
            try:
                answer = self._answer(ticket)
            except BaseException as e:  # noqa: BLE001  (handed to the waiting request, which maps it)
                ticket.future.set_exception(e)
            else:
                ticket.future.set_result(answer)
                self._model = answer.model
                self._answered += 1
                self._seconds = 0.7 * self._seconds + 0.3 * (time.perf_counter() - t0)
            finally:
                self._running = None

    def _answer(self, ticket: Ticket) -> Answer:
        q = ticket.question
        with self.handle.use() as graph:
            return graph.ask(q.text, q.settings, mode=q.mode, options=q.options, answer_settings=q.answer_settings,
                             on_retrieval=ticket.on_retrieval, document=q.document)

    def _load_models(self) -> None:
        """Load the LLM, the embedder and the question reader before the first question needs them."""
        t0 = time.perf_counter()
        try:
            with self.handle.use() as graph:
                self._model = graph.llm.name  # properties that load on first use
                graph.embedder  # noqa: B018
                graph.extractor  # noqa: B018
        except Exception as e:  # noqa: BLE001  (a missing model fails the first question with the same message)
            log.warning("could not load the models ahead of the first question: %s", e)
            return
        log.info("models loaded in %.1f s", time.perf_counter() - t0)
