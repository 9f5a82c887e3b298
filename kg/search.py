"""Backend-independent search over chunks: dense embeddings and BM25.

Both live in the graph directory beside the store (``index/``), so either
store backend gets the same retrieval. Dense search is exact (a matrix
product over normalised float32 vectors) up to a million chunks, a few
milliseconds per question at a few hundred thousand; above that the view has an
IVF index (:mod:`medkg.kg.view.ivf`) and only the lists nearest the question are
scored exactly. BM25 comes from ``bm25s`` (sparse matrices, saved as ``.npy``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bm25s
import numpy as np

from medkg.errors import GraphCorruptError
from medkg.kg.view import ivf
from medkg.kg.view.bm25 import tokenize
from medkg.kg.view.files import BM25, CHUNK_IDS, CHUNK_VECTORS

log = logging.getLogger(__name__)


class SearchIndex:
    """Chunk ids, their embeddings and a BM25 index, aligned by row."""

    def __init__(self, ids: list[str], vectors: np.ndarray, bm25: bm25s.BM25,
                 ivf_index: ivf.IVFIndex | None = None) -> None:
        if len(ids) != vectors.shape[0]:
            raise GraphCorruptError(f"search index has {len(ids)} ids but {vectors.shape[0]} vectors")
        if ivf_index is not None and len(ivf_index.rows) != len(ids):
            raise GraphCorruptError(f"search index has {len(ids)} ids but its IVF index {len(ivf_index.rows)} rows")
        self.ids = ids
        self.vectors = vectors
        self.bm25 = bm25
        self.ivf = ivf_index
        self.row = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], vectors: np.ndarray) -> SearchIndex:
        bm25 = bm25s.BM25()
        bm25.index(tokenize(texts), show_progress=False)
        return cls(ids, vectors.astype(np.float32), bm25)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / CHUNK_VECTORS, self.vectors)
        (directory / CHUNK_IDS).write_text(json.dumps(self.ids), encoding="utf-8")
        self.bm25.save(str(directory / BM25), show_progress=False)
        n, dim = self.vectors.shape
        ivf.update(lambda: [(0, np.asarray(self.vectors))], n, dim, directory)

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        try:
            ids = json.loads((directory / CHUNK_IDS).read_text(encoding="utf-8"))
            vectors = np.load(directory / CHUNK_VECTORS, mmap_mode="r")
            bm25 = bm25s.BM25.load(str(directory / BM25), show_progress=False, verbosity=0)
            ivf_index = ivf.IVFIndex.load(directory)
        except (OSError, ValueError, json.JSONDecodeError) as e:
            raise GraphCorruptError(f"{directory}: search index missing or damaged ({e}); rebuild the graph") from e
        return cls(ids, vectors, bm25, ivf_index)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every chunk to the (normalised) query vector; with an IVF index, exact for the
        chunks of the lists nearest the query and estimated for the others (see :mod:`medkg.kg.view.ivf`)."""
        if self.ivf is not None:
            return self.ivf.scores(query_vector.astype(np.float32))
        return np.asarray(self.vectors @ query_vector.astype(np.float32))

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk, scaled to [0, 1] by the best one (zeros when nothing matches)."""
        vocab = self.bm25.vocab_dict
        toks = [t for t in tokenize([question])[0] if t in vocab]
        if not toks:
            return np.zeros(len(self.ids), dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores(toks), dtype=np.float32)
        top = float(scores.max())
        return scores / top if top > 0 else scores
