"""Builds and deletes started from the API: one at a time, in a worker thread, with progress to poll or stream.

A build or delete takes seconds to minutes (extraction, embedding, a new view), longer than a request should
hold a connection, so the API answers ``202 Accepted`` with a :class:`Job` and the page follows it through
``GET /api/jobs/{id}`` or its event stream. Jobs run one after the other, as ``build_graph`` and
``delete_documents`` would insist anyway (they take the graph's lock); a bounded number wait, and a full
queue is refused with :class:`~medkg.app.handles.BusyError`. The open graphs move to the new view on their
next use (``KnowledgeGraph.refresh``), so readers never see a half-built view.

The vocabulary is loaded once, on the first job, and kept: a graph built with loaded vocabularies must be
extended with the same ones, or every document would be extracted again.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg.app.config import ServeConfig
from medkg.app.handles import BusyError
from medkg.errors import MedKGError, NotFoundError
from medkg.pipelines.build import build_graph, delete_documents

if TYPE_CHECKING:
    from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)

IN_PROCESS_DOCS = 16  # an upload this small is extracted in the server process (starting workers costs more)
KEEP_FINISHED = 50  # finished jobs remembered for the page


@dataclass
class Job:
    """A build (``add``) or delete, and where it stands."""

    id: str
    kind: str  # "add" or "delete"
    subject: str  # the uploaded file's name, or the deleted document ids
    state: str = "queued"  # queued, running, done, failed
    stage: str = ""  # what it is doing now ("extract+embed", "view", ...)
    done: int = 0  # documents extracted so far
    total: int = 0  # documents to extract (0 for a delete)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    version: int = 0  # bumped on every change, for the event stream
    # what the worker needs, not shown to clients
    paths: list[Path] = field(default_factory=list, repr=False)
    ids: list[str] = field(default_factory=list, repr=False)
    tier: int | None = None
    cleanup: Path | None = field(default=None, repr=False)

    @property
    def finished_ok(self) -> bool:
        return self.state == "done"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "state": self.state, "stage": self.stage,
                "done": self.done, "total": self.total, "created": self.created, "started": self.started,
                "finished": self.finished, "error": self.error, "result": self.result, "ids": self.ids}

    def update(self, **changes: Any) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        self.version += 1


class JobRunner:
    """The worker thread of builds and deletes (see the module docstring)."""

    def __init__(self, config: ServeConfig, write_lock: threading.Lock) -> None:
        self.config = config
        self.write_lock = write_lock  # held while a job runs, so a --write Cypher statement cannot overlap one
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=config.job_queue_size)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()  # over _jobs, which request threads read while others submit
        self._ids = itertools.count(1)
        self._vocabulary: Vocabulary | None = None
        self._thread = threading.Thread(target=self._work, name="medkg-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(queue.Full):  # a full queue: the daemon thread ends with the process
            self._queue.put_nowait(None)
        self._thread.join(timeout)

    # -- submitting -------------------------------------------------------------------------------------------
    def add(self, paths: list[Path], name: str, documents: int, ids: list[str], tier: int | None,
            cleanup: Path | None) -> Job:
        """Queue a build of ``paths`` (an upload of ``documents`` documents); ``cleanup`` is removed afterwards."""
        job = Job(id=self._next_id(), kind="add", subject=name, total=documents, paths=paths, ids=ids, tier=tier,
                  cleanup=cleanup)
        return self._submit(job)

    def delete(self, ids: list[str]) -> Job:
        return self._submit(Job(id=self._next_id(), kind="delete", subject=", ".join(ids), ids=list(ids)))

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r} (only the last {KEEP_FINISHED} finished jobs are kept)")
        return job

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def pending(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.finished is None)

    def _next_id(self) -> str:
        return f"job-{next(self._ids)}"

    def _submit(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job  # before the worker can see it, so that GET /api/jobs/{id} always finds it
            finished = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: -j.created)
            for old in finished[KEEP_FINISHED:]:
                del self._jobs[old.id]
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            with self._lock:
                del self._jobs[job.id]
            if job.cleanup:
                shutil.rmtree(job.cleanup, ignore_errors=True)
            raise BusyError(f"{self._queue.qsize()} builds or deletes are already waiting; try again when they "
                            "have finished", retry_after=60) from None
        return job

    # -- the worker ---------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            job.update(state="running", started=time.time(), stage="starting")
            try:
                with self.write_lock:
                    result = self._run(job)
            except MedKGError as e:
                log.warning("%s failed: %s", job.id, e)
                job.update(state="failed", error=str(e), finished=time.time(), stage="")
            except Exception:
                log.exception("%s failed", job.id)
                job.update(state="failed", error="the job failed with an internal error; see the server log",
                           finished=time.time(), stage="")
            else:
                job.update(state="done", result=result, finished=time.time(), stage="")
            finally:
                if job.cleanup:
                    shutil.rmtree(job.cleanup, ignore_errors=True)

    def _run(self, job: Job) -> dict[str, Any]:
        cfg = self.config
        job.update(stage="vocabulary")
        vocab = self._vocab()
        if job.kind == "delete":
            job.update(stage="view")
            removed, report = delete_documents(job.ids, cfg.graph, vocabulary=vocab, store_options=cfg.store_options)
            return {"removed": removed, "documents": report.documents, "seconds": round(report.seconds, 2)}

        def progress(stage: str, done: int, total: int) -> None:
            # build_graph reports extraction only; once every document is in, the view is being written
            job.update(stage="view" if job.total and done >= job.total else stage, done=done)

        job.update(stage="extract+embed")
        report = build_graph(job.paths, cfg.graph, tier=job.tier, vocabulary=vocab,
                             embedder=str(cfg.embedder_path) if cfg.embedder_path else None,
                             store_options=cfg.store_options, workers=0 if job.total <= IN_PROCESS_DOCS else None,
                             progress=progress, models_dir=cfg.models_dir)
        return {"added": report.added, "replaced": report.replaced, "unchanged": report.unchanged,
                "documents": report.documents, "seconds": round(report.seconds, 2),
                "view_patched": report.view_patched}

    def _vocab(self) -> Vocabulary:
        if self._vocabulary is None:
            from medkg.ontologies.library import VocabularyLibrary
            from medkg.ontologies.vocabulary import load_vocabulary

            library = VocabularyLibrary(self.config.vocab_dir) if self.config.vocab_dir else None
            self._vocabulary = (library.vocabulary() if library is not None and library.entries()
                                else load_vocabulary("mesh-bundled"))
        return self._vocabulary
