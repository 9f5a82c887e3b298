"""The local engine: extraction and embedding in a process pool on this machine.

This is :mod:`medkg.pipelines.workers`: worker processes that each load the
extraction pipeline and the embedder once, then turn batches into ledger
records, returned in input order with bounded memory. Small inputs (one batch)
and ``workers=0`` run in the calling process, with the caller's embedder when
it passed one.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

from medkg.kg.ledger import LedgerRecord
from medkg.kg.records import Document
from medkg.pipelines.embedding.embedder import Embedder
from medkg.pipelines.engines import ExtractionJob
from medkg.pipelines.workers import EmbedSpec, record_batches


class LocalEngine:
    """Extraction workers on this machine, each embedding its own batches."""

    name = "local"

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder  # one the caller already loaded, else loaded when this process needs one

    def run(self, batches: Iterator[list[Document]], job: ExtractionJob) -> Iterator[list[LedgerRecord]]:
        first = next(batches, None)
        if first is None:  # nothing to extract: load nothing
            return
        spec = EmbedSpec(job.embedder_path, job.embedder_batch, job.embedder_name)
        yield from record_batches(chain([first], batches), job.lexicon_path, job.workers, spec,
                                  lambda: self._in_process(spec))

    def _in_process(self, spec: EmbedSpec) -> Embedder:
        if self._embedder is None:
            self._embedder = spec.load()
        return self._embedder

    def close(self) -> None:
        self._embedder = None


def make_engine(address: str | None = None, embedder: Embedder | None = None) -> LocalEngine:
    return LocalEngine(embedder)
