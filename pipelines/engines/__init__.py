"""Extraction engines: what turns batches of documents into ledger records during a build.

A build reads its inputs, skips what the ledger already holds, and hands the
rest to an engine in batches; the engine extracts (chunks, linked entities,
relations) and embeds each batch, and the build commits the results to the
ledger batch by batch (:mod:`medkg.pipelines.build`). Two engines:

=========  ==========================================  ===================================  ==================
name       module                                      needs                                where it runs
=========  ==========================================  ===================================  ==================
``local``  :mod:`medkg.pipelines.engines.local`        nothing more                         this machine: a
                                                                                            process pool
``ray``    :mod:`medkg.pipelines.engines.ray_engine`   ``pip install 'medkg[distributed]'``  a Ray cluster: a
                                                       (Ray); ``address`` of a cluster, or  local one, or the
                                                       none for a local one                 one at ``address``
=========  ==========================================  ===================================  ==================

Modules are imported only when their engine is asked for, so the local default
never imports Ray. Both yield the same records for the same documents; the
``ray`` engine's workers write them as shards (:mod:`.shards`) to the graph
directory, which must then be on a path every node of the cluster can reach.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from medkg.errors import MedKGError
from medkg.kg.ledger import LedgerRecord
from medkg.kg.records import Document

if TYPE_CHECKING:
    from medkg.pipelines.embedding.embedder import Embedder


class EngineError(MedKGError):
    """The extraction engine cannot run: not installed, a cluster that cannot be reached, workers lost."""


@dataclass(frozen=True)
class ExtractionJob:
    """What every worker of a build needs to turn documents into ledger records, wherever it runs."""

    lexicon_path: Path  # the graph's lexicon (the extraction pipeline is built on it)
    embedder_name: str  # as the manifest records it
    embedder_path: Path  # the resolved model directory (on a cluster: a path every node can read)
    embedder_batch: int  # the embedder's encoding batch size
    fingerprint: str  # what the records are made under (the ledger's fingerprint)
    shard_dir: Path  # where workers of a distributed engine write their shards
    workers: int  # extraction processes (local) or workers (ray); 0 = in the calling process


class Engine(Protocol):
    """Turns batches of documents into batches of ledger records (extracted and embedded)."""

    name: str

    def run(self, batches: Iterator[list[Document]], job: ExtractionJob) -> Iterator[list[LedgerRecord]]:
        """One list of records per batch, each once; the order of batches may differ from the input's."""
        ...

    def close(self) -> None:
        ...


@dataclass(frozen=True)
class EngineEntry:
    module: str
    extra: str | None  # the pip extra that installs what it imports
    summary: str


ENGINES: dict[str, EngineEntry] = {
    "local": EngineEntry("medkg.pipelines.engines.local", None, "a process pool on this machine"),
    "ray": EngineEntry("medkg.pipelines.engines.ray_engine", "distributed",
                       "Ray: a local cluster, or the cluster at --address"),
}


def open_engine(name: str, *, address: str | None = None, embedder: Embedder | None = None) -> Engine:
    """The engine called ``name`` (see :data:`ENGINES`); ``address``: a Ray cluster to join (ray only);
    ``embedder``: one already loaded in this process, which the local engine uses (Ray workers load their own)."""
    entry = ENGINES.get(name)
    if entry is None:
        raise EngineError(f"unknown extraction engine {name!r}; known: {', '.join(ENGINES)}")
    if address is not None and name != "ray":
        raise EngineError(f"--address is for the ray engine, not {name!r}")
    module = importlib.import_module(entry.module)
    engine: Engine = module.make_engine(address=address, embedder=embedder)
    return engine
