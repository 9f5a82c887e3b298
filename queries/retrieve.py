"""U-Retrieve: top-down through the tag summaries, then outward through the graph.

1. Read the question with the build's own pipeline: its linked concepts, their
   semantic groups and MeSH branches become *question tags*; the embedder gives
   its vector.
2. Score every top-level (level-1) summary by tag overlap (IDF-weighted share of
   the question's tags it carries) and by the cosine of its centroid; keep the
   best ``beam``.
3. Score the meta-graphs (chunks) under them by dense similarity, BM25 and tag
   overlap; keep ``top_chunks``.
4. Expand ``hops`` steps through the graph: report entities that match the
   question follow REFERENCES to literature passages; matched entities' IS_A
   concepts (with BROADER parents) become background.
5. Pack passages into a character budget, numbered for citation.

Every weight and count is a field of :class:`RetrievalSettings`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medkg.kg import cypher
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore
from medkg.queries.records import ConceptRef, Passage


@dataclass
class RetrievalSettings:
    beam: int = 3
    top_chunks: int = 4
    hops: int = 1
    max_references: int = 2
    budget_chars: int = 3200
    dense_weight: float = 0.5
    bm25_weight: float = 0.3
    tag_weight: float = 0.2
    min_relevance: float = 0.3  # below this best chunk score, the graph holds no evidence


@dataclass
class Retrieval:
    passages: list[Passage]
    concepts: list[ConceptRef]
    background: list[str]
    path: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.passages


@dataclass
class QuestionAnalysis:
    concepts: list[ConceptRef]
    tags: set[str]
    vector: np.ndarray


class TagWeights:
    """IDF of summary tags, saved by the build in ``index/tag_df.json``."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.n = max(int(data["n"]), 1)
        self.df: dict[str, int] = data["df"]

    def idf(self, tag: str) -> float:
        return math.log((self.n + 1) / (self.df.get(tag, 0) + 1)) + 1.0

    def overlap(self, question_tags: set[str], tags: list[str] | set[str]) -> float:
        total = sum(self.idf(t) for t in question_tags)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in question_tags.intersection(tags)) / total


class URetriever:
    def __init__(self, store: GraphStore, index: SearchIndex, index_dir: Path, settings: RetrievalSettings
                 ) -> None:
        self.store = store
        self.index = index
        self.settings = settings
        self.summary_ids: list[str] = json.loads((index_dir / "summary_ids.json").read_text(encoding="utf-8"))
        self.summary_vectors = np.load(index_dir / "summary_vectors.npy")
        self.weights = TagWeights(index_dir / "tag_df.json")
        rows = store.query(cypher.SUMMARIES_AT_LEVEL, {"level": 1})
        self.summary_tags = {r["id"]: set(r["tags"]) for r in rows}

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        st = self.settings
        dense_s = self.summary_vectors @ q.vector
        top_scores = {sid: st.dense_weight * float(dense_s[i]) + st.tag_weight * 2 *
                      self.weights.overlap(q.tags, self.summary_tags.get(sid, set()))
                      for i, sid in enumerate(self.summary_ids)}
        beam = sorted(top_scores, key=top_scores.get, reverse=True)[: st.beam]
        children = self.store.query(cypher.CHILD_SUMMARIES, {"ids": beam})
        dense = self.index.dense_scores(q.vector)
        bm25 = self.index.bm25_scores(question)
        scored: dict[str, tuple[float, str]] = {}
        for r in children:
            i = self.index.row[r["chunk_id"]]
            s = (st.dense_weight * float(dense[i]) + st.bm25_weight * float(bm25[i]) +
                 st.tag_weight * self.weights.overlap(q.tags, r["tags"]))
            scored[r["chunk_id"]] = (s, f"summary {r['parent']}")
        ranked = sorted(scored.items(), key=lambda kv: kv[1][0], reverse=True)[: st.top_chunks]
        path: dict[str, Any] = {"summaries": [{"id": s, "score": round(top_scores[s], 4)} for s in beam],
                                "chunks": [{"id": c, "score": round(v[0], 4)} for c, v in ranked]}
        if not ranked or ranked[0][1][0] < st.min_relevance:
            path["abstain_reason"] = "no passage reached the relevance threshold"
            return Retrieval([], q.concepts, [], path)
        picked = dict(ranked)
        background: list[str] = []
        if st.hops > 0:
            refs, background, entities = self._expand(list(picked), {c.id for c in q.concepts})
            path["entities"] = entities
            for chunk_id, score in refs:
                if chunk_id not in picked and len(picked) < st.top_chunks + st.max_references:
                    picked[chunk_id] = (score, "references")
        return Retrieval(self._passages(picked), q.concepts, background, path)

    def _expand(self, chunk_ids: list[str], question_concepts: set[str]
                ) -> tuple[list[tuple[str, float]], list[str], list[str]]:
        ents = self.store.query(cypher.ENTITIES_OF_CHUNKS, {"ids": chunk_ids})
        matched = [e for e in ents if e["concept_id"] in question_concepts and not e["negated"]]
        refs = self.store.query(cypher.REFERENCED_CHUNKS, {"ids": [e["id"] for e in matched if e["tier"] == 1]})
        best: dict[str, float] = {}
        for r in refs:
            best[r["chunk_id"]] = max(best.get(r["chunk_id"], 0.0), float(r["score"]))
        concept_rows = self.store.query(cypher.CONCEPTS_BY_ID, {"ids": sorted({e["concept_id"] for e in matched})})
        background = [f"{c['name']} ({c['id']})" + (f", a kind of {', '.join(sorted(set(c['broader'])))}"
                                                    if c["broader"] else "") for c in concept_rows]
        return sorted(best.items(), key=lambda kv: -kv[1]), background, [e["id"] for e in matched]

    def _passages(self, picked: dict[str, tuple[float, str]]) -> list[Passage]:
        rows = {r["id"]: r for r in self.store.query(cypher.CHUNKS_BY_ID, {"ids": list(picked)})}
        out: list[Passage] = []
        used = 0
        for chunk_id, (score, reason) in sorted(picked.items(), key=lambda kv: -kv[1][0]):
            r = rows.get(chunk_id)
            if r is None or (out and used + len(r["text"]) > self.settings.budget_chars):
                continue
            used += len(r["text"])
            out.append(Passage(cid=len(out) + 1, chunk_id=chunk_id, doc_id=r["doc_id"], pmid=r["pmid"] or "",
                               tier=int(r["tier"]), start=int(r["start"]), end=int(r["end_"]), text=r["text"],
                               section=r["section"] or "", score=round(score, 4), reason=reason))
        return out
