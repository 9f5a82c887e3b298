"""The ray engine: extraction and embedding on a Ray cluster, results as ledger shards on a shared path.

Why Ray (and not Dask distributed): the work is a pool of stateful workers --
each loads the lexicon, the NER pipeline and the embedder once (seconds, and
a gigabyte or so), then turns batch after batch of documents into records.
Ray actors are exactly that, with restart-and-retry of a dead worker's
pending batches built in, GPUs as a schedulable resource, and the same code
on a laptop (``ray.init(address="local")`` starts a one-machine cluster) and
on a cluster (``address="HEAD:6379"``). Dask's workers are stateless task
runners; a model per worker there means module-level caches and no automatic
redo of a lost worker's in-flight work.

How a build runs on it:

- The driver (``medkg build``) reads the inputs and skips what the ledger
  holds, as with the local engine: reading is thousands of documents per
  second, extraction tens per core, so one reader keeps a large cluster fed.
- It starts one actor per worker (``job.workers``, default: the cluster's
  CPUs), each with one CPU and, where the cluster has GPUs, a share of one
  for the embedder (``device="cuda"``). Batches go out as the actors free up,
  at most two queued per actor.
- An actor extracts and embeds a batch and writes it as a shard to
  ``<graph>/shards/`` (:mod:`.shards`); the driver commits the shard to the
  ledger and deletes it. On a cluster the graph directory (and so the lexicon
  beside it and the shards under it) and the embedder's directory must be on
  a path every node sees; medkg must be installed on every node.

Crash safety: a killed worker is restarted by Ray and its queued batches are
run again (``max_restarts=-1``, ``max_task_retries=-1``); a batch's shard is
named after its contents, so a retry overwrites rather than duplicates. A
killed driver takes its actors with it (they are not detached); the next
build resumes from the ledger and uses the shards that were written but not
yet committed (:class:`.shards.Leftovers`).

Telemetry: Ray's usage statistics are switched off here, before Ray is
imported (``RAY_USAGE_STATS_ENABLED=0``), for the local cluster and this
driver; a cluster started with ``ray start`` decides for itself (start its
head with ``--disable-usage-stats``; docs/builds.md).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medkg.kg.ledger import LedgerRecord
from medkg.kg.records import Document
from medkg.pipelines.engines import EngineError, ExtractionJob
from medkg.pipelines.engines.shards import read_shard, write_shard
from medkg.pipelines.workers import EmbedSpec, to_records

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # nothing leaves the machine; must be set before Ray is imported

try:
    import ray
    from ray.exceptions import ActorDiedError, RayActorError, RayTaskError
except ImportError as _e:  # pragma: no cover - depends on the install
    raise EngineError("the ray engine needs Ray, which is not installed: pip install 'medkg[distributed]'") from _e

log = logging.getLogger(__name__)

QUEUED_PER_WORKER = 2  # batches sent to an actor ahead of its results: it never waits for the driver
LOCAL_OBJECT_STORE = 256 * 2**20  # a local cluster's shared-memory store: batches of text, not vectors


class ExtractionWorker:
    """A Ray actor: the extraction pipeline and the embedder, loaded once; a batch in, a shard out."""

    def __init__(self, job: ExtractionJob, device: str) -> None:
        from threadpoolctl import threadpool_limits

        from medkg.pipelines.extractor import Extractor

        threadpool_limits(1)  # one CPU per actor: one BLAS thread
        self.job = job
        self.extractor = Extractor(job.lexicon_path)
        self.embedder = EmbedSpec(job.embedder_path, job.embedder_batch, job.embedder_name, device).load()
        gc.collect()
        gc.freeze()  # the lexicon's half a million objects, out of every collection's way (as the local workers)

    def pid(self) -> int:
        return os.getpid()

    def process(self, docs: list[Document]) -> tuple[str, int]:
        """Extract and embed ``docs``, write them as one shard; returns (shard path, records)."""
        records = to_records(list(zip(docs, self.extractor.extract_many(docs))), self.embedder)
        return str(write_shard(self.job.shard_dir, records, self.job.fingerprint)), len(records)


class RayEngine:
    """Batches out to Ray actors, shards back (see the module docstring)."""

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self._joined = False
        self._actors: list[Any] = []

    # -- the cluster ----------------------------------------------------------------------------------------
    def _join(self, workers: int) -> None:
        """Start a local cluster (no address) or connect to the one at ``address``."""
        if ray.is_initialized():
            self._joined = False  # someone else's session (a notebook, a test): use it, leave it running
            return
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "namespace": "medkg",
                                   "logging_level": logging.WARNING}
        if self.address:
            _check_reachable(self.address)
        try:
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(address="local", num_cpus=workers or os.cpu_count() or 1,
                         object_store_memory=LOCAL_OBJECT_STORE, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
            raise EngineError(f"cannot start or reach {where}: {_first_line(e)}") from e
        self._joined = True
        log.info("Ray: %s with %s", self.address or "a local cluster", ray.cluster_resources())

    def _start_workers(self, job: ExtractionJob) -> None:
        resources = ray.cluster_resources()
        n = job.workers or max(1, int(resources.get("CPU", 1)))
        gpus = float(resources.get("GPU", 0))
        options: dict[str, Any] = {"num_cpus": 1, "max_restarts": -1, "max_task_retries": -1}
        device = "cpu"
        if gpus > 0:  # the embedder on a GPU share; extraction stays on the actor's CPU
            options["num_gpus"] = min(1.0, gpus / n)
            device = "cuda"
        actor = ray.remote(ExtractionWorker).options(**options)
        self._actors = [actor.remote(job, device) for _ in range(n)]
        log.info("Ray: %d extraction workers (%s embedder)", n, device)

    # -- a build's batches ----------------------------------------------------------------------------------
    def run(self, batches: Iterator[list[Document]], job: ExtractionJob) -> Iterator[list[LedgerRecord]]:
        first = next(batches, None)
        if first is None:
            return
        self._join(job.workers)
        self._start_workers(job)
        pending: dict[Any, int] = {}  # result ref -> actor index
        load = [0] * len(self._actors)

        def send(batch: list[Document]) -> None:
            i = min(range(len(load)), key=load.__getitem__)
            pending[self._actors[i].process.remote(batch)] = i
            load[i] += 1

        send(first)
        for batch in batches:
            while min(load) >= QUEUED_PER_WORKER:
                yield from self._collect(pending, load)
            send(batch)
        while pending:
            yield from self._collect(pending, load)

    def _collect(self, pending: dict[Any, int], load: list[int]) -> Iterator[list[LedgerRecord]]:
        """Wait for one batch; yield its records; delete its shard once the caller has committed them."""
        done, _ = ray.wait(list(pending), num_returns=1)
        ref = done[0]
        load[pending.pop(ref)] -= 1
        path, _n = _result(ref)
        shard = read_shard(Path(path))
        yield shard.records
        shard.path.unlink(missing_ok=True)

    def close(self) -> None:
        for a in self._actors:
            with contextlib.suppress(RayActorError, ValueError):
                ray.kill(a)
        self._actors = []
        if self._joined:
            ray.shutdown()
            self._joined = False


def _result(ref: Any) -> tuple[str, int]:
    """A batch's result, or the error that stopped it, unwrapped: medkg's own errors come out as themselves."""
    try:
        path, n = ray.get(ref)
        return str(path), int(n)
    except RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, Exception) and not isinstance(cause, RayTaskError):
            raise cause from e
        raise EngineError(f"a Ray extraction worker failed: {_first_line(e)}") from e
    except (ActorDiedError, RayActorError) as e:
        if getattr(e, "actor_init_failed", False):  # the worker's own error is only in the message's traceback
            raise EngineError(f"a Ray extraction worker could not start: {_raised(str(e))}") from e
        raise EngineError(f"a Ray extraction worker died for good: {_first_line(e)}") from e


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail fast on a head that does not answer: ``ray.init`` would wait for it for many minutes."""
    if "://" in address or address == "auto" or ":" not in address:
        return  # Ray Client URLs and "auto" are left to Ray
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise EngineError(f"--address {address!r}: expected HOST:PORT of the Ray head (e.g. 10.0.0.5:6379)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise EngineError(f"cannot reach the Ray cluster at {address}: {e.strerror or e} (is its head running? "
                          "start it with: ray start --head --port PORT --disable-usage-stats)") from e


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RAISED = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception): (.+)$", re.M)


def _raised(text: str) -> str:
    """The message of the last exception in a traceback Ray formatted into text (e.g. medkg's own error)."""
    found = _RAISED.findall(_ANSI.sub("", text))
    return found[-1].strip() if found else _first_line(Exception(_ANSI.sub("", text)))


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def make_engine(address: str | None = None, embedder: object = None) -> RayEngine:
    return RayEngine(address)
