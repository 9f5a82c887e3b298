"""Extraction across processes, in document order, with bounded memory.

spaCy releases no GIL worth having, so parallel extraction means processes.
Each worker loads the pipeline once (``spawn``: no torch or llama.cpp state is
inherited from the parent) and turns a batch of documents into meta-graphs.
The parent keeps at most ``2 x workers`` batches in flight, so reading a
100k-document input does not hold it all in memory, and gets the results back
in input order while it embeds and commits the previous batch: on two cores
one worker extracting beside the parent's transformer embedding keeps both
busy; with the static embedder the parent has little to do, so builds then
run a worker per core.

``workers=0`` extracts in the calling process (tests, one-core machines).

:func:`record_batches` has each worker embed its batch too (the embedder
loaded once per worker, one thread each), so a build's records come back
ready to commit. On two cores that is 1.6 times faster with the default
transformer embedder than one worker extracting beside the parent's
embedding: embedding is most of the work, and two single-threaded embedders
get more out of two cores than one two-threaded one (``bench/engines.py``).

Workers die with the build: on Linux each asks the kernel for SIGKILL when its
parent dies (``prctl(PR_SET_PDEATHSIG)``), and exits at once if the parent was
already gone before it could ask, so a build killed with ``kill -9`` leaves no
worker holding a lexicon's worth of memory behind.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg.errors import MedKGError
from medkg.kg.ledger import LedgerRecord
from medkg.kg.records import ChunkGraph, Document

if TYPE_CHECKING:
    from medkg.pipelines.embedding.embedder import Embedder


class ExtractionError(MedKGError):
    """Extraction could not go on (a worker process died)."""

log = logging.getLogger(__name__)

Extracted = list[tuple[Document, list[ChunkGraph]]]


@dataclass(frozen=True)
class EmbedSpec:
    """The embedder a worker loads (by path: a worker shares no memory with the build)."""

    path: Path
    batch_size: int
    name: str
    device: str = "cpu"

    def load(self) -> Embedder:
        from medkg.pipelines.embedding.embedder import Embedder

        return Embedder(self.path, batch_size=self.batch_size, name=self.name, device=self.device)


_WORKER_EXTRACTOR = None
_WORKER_EMBEDDER: Embedder | None = None


def _extractor(lexicon_path: str) -> Any:
    # the pipeline loads on a worker's first batch, not in a pool initializer: an error loading it then
    # reaches the parent as itself (a MedKGError naming the file), not as a broken pool
    global _WORKER_EXTRACTOR
    if _WORKER_EXTRACTOR is None:
        from threadpoolctl import threadpool_limits

        from medkg.pipelines.extractor import Extractor

        threadpool_limits(1)  # one worker per core: a BLAS thread per core in each would make them fight
        _WORKER_EXTRACTOR = Extractor(Path(lexicon_path))
        # the lexicon is half a million long-lived objects that every full collection would walk again:
        # out of the collector's sight, extraction runs 6% faster (the worker lives only for this build)
        gc.collect()
        gc.freeze()
    return _WORKER_EXTRACTOR


def _extract_batch(lexicon_path: str, docs: list[Document]) -> Extracted:
    return list(zip(docs, _extractor(lexicon_path).extract_many(docs)))


def _record_batch(lexicon_path: str, embed: EmbedSpec, docs: list[Document]) -> list[LedgerRecord]:
    global _WORKER_EMBEDDER
    extracted = _extract_batch(lexicon_path, docs)
    if _WORKER_EMBEDDER is None:
        import torch

        torch.set_num_threads(1)  # one worker per core, as for BLAS above
        _WORKER_EMBEDDER = embed.load()
    return to_records(extracted, _WORKER_EMBEDDER)


def to_records(extracted: Extracted, embedder: Embedder) -> list[LedgerRecord]:
    """Embed the chunks of extracted ``(document, meta-graphs)`` pairs: one ledger record per document."""
    vectors = embedder.encode([g.chunk.text for _, gs in extracted for g in gs])
    records, row = [], 0
    for doc, gs in extracted:
        records.append(LedgerRecord(doc, gs, vectors[row : row + len(gs)]))
        row += len(gs)
    return records


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """A worker's initializer: be killed when the build process dies, however it dies (Linux; elsewhere the
    pool's own checks stop idle workers)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d)", ctypes.get_errno())
        except (OSError, AttributeError) as e:  # no libc to load, or no prctl in it
            log.warning("cannot tie the extraction worker to its parent: %s", e)
    if os.getppid() != parent:  # the parent died before the request above: nothing would kill this worker
        os._exit(1)


def batched(items: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the objects that exist now (vocabulary, lexicon, models) out of the garbage collector's passes.

    Every full collection walks every tracked object; with a vocabulary loaded that is half a million of them,
    walked again and again while batches of results are unpickled. They are handed back at the end.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def extract_batches(batches: Iterable[list[Document]], lexicon_path: Path, workers: int) -> Iterator[Extracted]:
    """Yield each batch's ``(document, meta-graphs)`` pairs, in the order the batches came.

    Input that fits in one batch is extracted in this process: starting workers (each loads the lexicon and
    the models, several seconds) would cost more than they save, and small updates are the common case.
    """
    batches = iter(batches)
    head = list(islice(batches, 2))
    batches = chain(head, batches)
    if workers <= 0 or len(head) < 2:
        from medkg.pipelines.extractor import Extractor

        extractor = Extractor(lexicon_path)
        with _long_lived_objects_frozen():
            for batch in batches:
                yield list(zip(batch, extractor.extract_many(batch)))
        return
    yield from _pooled(lambda batch: (_extract_batch, str(lexicon_path), batch), batches, workers)


def record_batches(batches: Iterable[list[Document]], lexicon_path: Path, workers: int, embed: EmbedSpec,
                   embedder: Callable[[], Embedder]) -> Iterator[list[LedgerRecord]]:
    """Yield each batch's ledger records (extracted and embedded), in the order the batches came.

    In worker processes, each of which extracts and embeds; in this process (``workers`` 0, or input that fits
    in one batch) with ``embedder()``, the caller's embedder.
    """
    batches = iter(batches)
    head = list(islice(batches, 2))
    batches = chain(head, batches)
    if workers <= 0 or len(head) < 2:
        for extracted in extract_batches(batches, lexicon_path, 0):
            yield to_records(extracted, embedder())
        return
    yield from _pooled(lambda batch: (_record_batch, str(lexicon_path), embed, batch), batches, workers)


def _pooled(call: Callable[[list[Document]], tuple[Any, ...]], batches: Iterator[list[Document]],
            workers: int) -> Iterator[Any]:
    """Run ``call(batch)`` (a function and its arguments) for every batch in ``workers`` processes; results in
    input order, at most ``2 x workers`` batches in flight."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool, _long_lived_objects_frozen():
        pending: deque[Future[Any]] = deque()
        try:
            for batch in batches:
                fn, *args = call(batch)
                pending.append(pool.submit(fn, *args))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool as e:
            raise ExtractionError("an extraction worker died (out of memory, or killed); committed batches are "
                                  "kept: run the build again, with fewer --workers if memory is short") from e
        finally:
            for f in pending:
                f.cancel()
