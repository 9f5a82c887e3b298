"""Baseline retrievers beside U-Retrieve, for honest comparison.

- ``llm-only``: no retrieval at all; the model answers from its weights.
- ``vector``: dense search over every chunk (cosine of MiniLM embeddings).
- ``bm25``: lexical search over every chunk.
- ``hybrid``: the weighted sum of the two, with U-Retrieve's own weights.

They share U-Retrieve's question analysis, relevance threshold, token budget
and prompt (:mod:`medkg.queries.retrieval`), so only the retrieval differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore
from medkg.queries.retrieval import (
    QuestionAnalysis,
    Retrieval,
    RetrievalSettings,
    TokenCounter,
    approx_tokens,
    pack_passages,
    rank_documents,
)


class NoRetrieval:
    """The ``llm-only`` baseline: no evidence; the model answers from its weights."""

    name = "llm-only"

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        return Retrieval([], q.concepts, mode=self.name, path={"mode": self.name})


class FlatRetriever(ABC):
    """Rank every chunk by one score vector; subclasses choose the vector."""

    name = "flat"

    def __init__(self, store: GraphStore, index: SearchIndex, settings: RetrievalSettings,
                 count: TokenCounter = approx_tokens) -> None:
        self.store = store
        self.index = index
        self.settings = settings
        self.count = count

    @abstractmethod
    def scores(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        """One score per chunk, aligned with ``index.ids``, from the dense and BM25 scores."""

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        st = self.settings
        dense, bm25 = self.index.dense_scores(q.vector), self.index.bm25_scores(question)
        s = self.scores(dense, bm25)
        order = np.argsort(-s, kind="stable")[: max(st.top_chunks, 50)]
        ids = [self.index.ids[i] for i in order]
        top = [(self.index.ids[i], float(s[i]), self.name) for i in order[: st.top_chunks]]
        result = Retrieval([], q.concepts, ranking=rank_documents(ids), mode=self.name,
                           path={"mode": self.name, "chunks": [{"id": c, "score": round(v, 4)} for c, v, _ in top]})
        # every mode abstains on the same evidence: the hybrid score of its best chunk
        best = int(order[0]) if len(order) else -1
        if best < 0 or st.dense_weight * dense[best] + st.bm25_weight * bm25[best] < st.min_relevance:
            result.path["abstain_reason"] = "no passage reached the relevance threshold"
            return result
        result.passages = pack_passages(self.store, top, st.budget_tokens, self.count)
        return result


class VectorRetriever(FlatRetriever):
    """The ``vector`` baseline: chunks ranked by embedding similarity alone."""

    name = "vector"

    def scores(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        return dense


class BM25Retriever(FlatRetriever):
    """The ``bm25`` baseline: chunks ranked by BM25 alone."""

    name = "bm25"

    def scores(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        return bm25


class HybridRetriever(FlatRetriever):
    """The ``hybrid`` baseline: the weighted sum of dense and BM25 scores, with U-Retrieve's weights."""

    name = "hybrid"

    def scores(self, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
        return self.settings.dense_weight * dense + self.settings.bm25_weight * bm25
