"""Backend-independent search over chunks: dense embeddings and BM25.

Both live in the graph directory beside the store (``index/``), so either
store backend gets the same retrieval. Dense search is exact (a matrix
product over normalised float32 vectors): at a few hundred thousand chunks it
is still a few milliseconds per question; an ANN index is the scale-out step.
BM25 comes from ``bm25s`` (sparse matrices, saved as ``.npy``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bm25s
import numpy as np

from medkg.errors import GraphCorruptError
from medkg.kg.view.bm25 import tokenize
from medkg.kg.view.files import BM25, CHUNK_IDS, CHUNK_VECTORS

log = logging.getLogger(__name__)


class SearchIndex:
    """Chunk ids, their embeddings and a BM25 index, aligned by row."""

    def __init__(self, ids: list[str], vectors: np.ndarray, bm25: bm25s.BM25) -> None:
        if len(ids) != vectors.shape[0]:
            raise GraphCorruptError(f"search index has {len(ids)} ids but {vectors.shape[0]} vectors")
        self.ids = ids
        self.vectors = vectors
        self.bm25 = bm25
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

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        try:
            ids = json.loads((directory / CHUNK_IDS).read_text(encoding="utf-8"))
            vectors = np.load(directory / CHUNK_VECTORS, mmap_mode="r")
            bm25 = bm25s.BM25.load(str(directory / BM25), show_progress=False, verbosity=0)
        except (OSError, ValueError, json.JSONDecodeError) as e:
            raise GraphCorruptError(f"{directory}: search index missing or damaged ({e}); rebuild the graph") from e
        return cls(ids, vectors, bm25)

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of every chunk to the (normalised) query vector."""
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
