"""An inverted-file (IVF) index over the chunk vectors: dense search that does not read every vector.

Exact dense search multiplies the question's vector with every chunk vector.
At a few hundred thousand chunks that is a few milliseconds; at a million
documents (3.7 million chunks, 5.7 GB of float32) it is a pass over memory of
about 300 ms per question, more than the whole retrieval may take. Above
:data:`IVF_MIN_ROWS` chunks the view also gets an IVF index, the standard
first stage of approximate nearest-neighbour search (FAISS's ``IndexIVFFlat``
is the same idea):

- the chunk vectors are clustered by spherical k-means into about
  ``sqrt(rows)`` lists, trained on a sample of ``SAMPLE_PER_LIST`` rows a list;
- every chunk joins the list of its nearest centroid, and the vectors are
  written again in list order (``ivf_vectors.npy``), so that a list is one
  contiguous read;
- a question is scored exactly against the chunks of the ``probes`` lists whose
  centroids are most similar to it; every other chunk gets its list's centroid
  similarity as an estimate (what is needed of them is a ranking of topics and
  a floor, not their exact values).

Measured on the replicated 1M view (3.7M chunks, 1,931 lists, 100 PubMedQA
questions): U-Retrieve packs the same passages as with exact search for 96 of
them, at 151 ms p50 instead of 394 (docs/benchmarks.md#view-assembly-memory).

Building is a pure function of the vectors (seeded sample and k-means, sums in
row order), so a rebuilt view gets the same index. It streams: the vectors are
read in blocks and the list-ordered copy is written with positioned writes, one
per run of consecutive rows, so memory holds the centroids, the sample and one
block.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medkg.kg.view.summaries import nearest

log = logging.getLogger(__name__)

IVF_MIN_ROWS = 1_000_000  # below this many chunks dense search stays exact (about 20 ms per question at 1M rows)
SAMPLE_PER_LIST = 64  # k-means training rows per list
ITERATIONS = 8
PROBES = 32  # lists scored exactly per question
BLOCK = 16_384  # rows scored against the centroids at a time (127 MB for 1,931 lists)

CENTROIDS = "ivf_centroids.npy"
OFFSETS = "ivf_offsets.npy"
ROWS = "ivf_rows.npy"
VECTORS = "ivf_vectors.npy"
FILES = (CENTROIDS, OFFSETS, ROWS, VECTORS)

Blocks = Callable[[], Iterable[tuple[int, np.ndarray]]]  # yields (first row, rows) over all vectors, in order


def lists_for(rows: int) -> int:
    return max(1, min(65_536, round(math.sqrt(rows))))


@dataclass
class IVFIndex:
    """Centroids, the chunk rows of each list (``rows[offsets[k]:offsets[k+1]]``), their vectors in that order,
    and each row's list (``assign``, derived)."""

    centroids: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    vectors: np.ndarray  # memory-mapped: only probed lists are read
    assign: np.ndarray

    @classmethod
    def load(cls, directory: Path) -> IVFIndex | None:
        """The index in ``directory``, or None where the view has none (fewer chunks than IVF_MIN_ROWS)."""
        if not all((directory / name).exists() for name in FILES):
            return None
        centroids = np.load(directory / CENTROIDS)
        offsets = np.load(directory / OFFSETS)
        rows = np.load(directory / ROWS)
        assign = np.empty(len(rows), dtype=np.int32)
        assign[rows] = np.repeat(np.arange(len(centroids), dtype=np.int32), np.diff(offsets))
        return cls(centroids, offsets, rows, np.load(directory / VECTORS, mmap_mode="r"), assign)

    def scores(self, query: np.ndarray, probes: int = PROBES) -> np.ndarray:
        """Similarity of every chunk to ``query``: exact for the chunks of the ``probes`` nearest lists, the
        centroid's similarity for the others."""
        near = self.centroids @ query
        out = near[self.assign]
        probes = min(probes, len(near))
        for k in np.argpartition(-near, probes - 1)[:probes]:
            lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
            if hi > lo:
                out[self.rows[lo:hi]] = self.vectors[lo:hi] @ query
        return out


def build(blocks: Blocks, n: int, dim: int, directory: Path, seed: int = 13) -> None:
    """Write the IVF files of ``n`` vectors of width ``dim`` (read through ``blocks``) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    k = lists_for(n)
    rng = np.random.default_rng(seed)
    sample_rows = np.sort(rng.choice(n, size=min(n, SAMPLE_PER_LIST * k), replace=False))
    sample = _gather(blocks, sample_rows, dim)
    centroids = _kmeans(sample, k, rng)
    del sample
    assign = np.empty(n, dtype=np.int32)
    for first, block in blocks():
        assign[first : first + len(block)] = nearest(block, centroids, rows=BLOCK)
    order = np.argsort(assign, kind="stable")
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(assign, minlength=k), out=offsets[1:])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n, dtype=np.int64)
    del order
    _write_in_list_order(blocks, position, n, dim, directory / VECTORS)
    rows = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    rows[position] = np.arange(n, dtype=rows.dtype)
    np.save(directory / ROWS, rows)
    np.save(directory / OFFSETS, offsets)
    np.save(directory / CENTROIDS, centroids)
    log.info("IVF index: %d lists over %d chunks (largest %d)", k, n, int(np.diff(offsets).max()))


def update(blocks: Blocks, n: int, dim: int, directory: Path) -> None:
    """The IVF files ``directory`` should hold for ``n`` vectors: built at :data:`IVF_MIN_ROWS` and above, none
    (an old index removed) below."""
    for name in FILES:
        (directory / name).unlink(missing_ok=True)
    if n >= IVF_MIN_ROWS:
        build(blocks, n, dim, directory)


def _gather(blocks: Blocks, rows: np.ndarray, dim: int) -> np.ndarray:
    """The vectors of the (sorted) ``rows``."""
    out = np.empty((len(rows), dim), dtype=np.float32)
    for first, block in blocks():
        lo, hi = np.searchsorted(rows, [first, first + len(block)])
        out[lo:hi] = block[rows[lo:hi] - first]
    return out


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Spherical k-means (unit centroids, cosine), seeded with ``k`` distinct sample rows; a list left empty
    keeps its centroid."""
    centroids = x[np.sort(rng.choice(len(x), size=k, replace=False))].copy()
    for _ in range(ITERATIONS):
        assign = nearest(x, centroids, rows=BLOCK)
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=k)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.zeros((k, x.shape[1]), dtype=np.float32)
        sums[counts > 0] = np.add.reduceat(x[order], starts[counts > 0], axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.where(norms > 0, sums / np.where(norms > 0, norms, 1.0), centroids).astype(np.float32)
    return centroids


def _write_in_list_order(blocks: Blocks, position: np.ndarray, n: int, dim: int, path: Path) -> None:
    """The vectors, row ``r`` at ``position[r]``: within a block, rows of one list land on consecutive
    positions, so each block is a few thousand positioned writes rather than one per row."""
    width = 4 * dim
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (n, dim)})
        start = f.tell()
        f.truncate(start + n * width)
        fd = f.fileno()
        for first, block in blocks():
            pos = position[first : first + len(block)]
            order = np.argsort(pos, kind="stable")
            pos, data = pos[order], np.ascontiguousarray(block[order], dtype=np.float32)
            breaks = np.flatnonzero(np.diff(pos) != 1) + 1
            for lo, hi in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(pos)]])):
                os.pwrite(fd, data[lo:hi].tobytes(), start + int(pos[lo]) * width)
