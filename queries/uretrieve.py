"""U-Retrieve: top-down through the tag summaries, then outward through the graph.

1. Read the question with the build's own pipeline: its linked concepts, their
   semantic groups and MeSH branches become *question tags*; the embedder gives
   its vector (:class:`~medkg.queries.retrieval.QuestionAnalysis`).
2. Score every topic (level-1) summary by three signals: tag overlap
   (IDF-weighted share of the question's tags it carries), the cosine of its
   centroid, and the best hybrid (dense + BM25) score among its meta-graphs,
   so that a topic holding one highly relevant passage is not lost to a
   broad topic. Keep the best ``beam``, and note the theme (level 2) above
   each: theme texts follow topic texts in ``Retrieval.summaries``, the
   bottom-up order answer refinement reads them in.
3. Score the meta-graphs (chunks) under them by dense similarity, BM25 and tag
   overlap; keep ``top_chunks``.
4. Put the findings sections (RESULTS, CONCLUSIONS, a report's IMPRESSION...)
   of the best document first (``findings_first``): they hold the answer,
   while the chunk most similar to the question often just restates it.
5. Expand ``hops`` steps through the graph: report entities that match the
   question follow REFERENCES to literature passages; matched entities' IS_A
   concepts (with BROADER parents) become background.
6. Pack passages into the token budget (less what the background takes; a
   background over a quarter of the budget is left out), numbered for citation.

Every weight and count is a field of :class:`~medkg.queries.settings.RetrievalSettings`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from medkg.kg import cypher
from medkg.kg.records import INDUCES, TREATS
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore
from medkg.kg.view.files import IndexFiles
from medkg.queries import prompts
from medkg.queries.retrieval import (
    QuestionAnalysis,
    Retrieval,
    RetrievalSettings,
    TokenCounter,
    approx_tokens,
    pack_passages,
    rank_documents,
)

TYPED_RELATIONS = (INDUCES, TREATS)  # what U-Retrieve follows; co-occurrence states nothing

# section names (upper case, matched as substrings) that report what a study or an examination found
FINDINGS_SECTIONS = ("RESULT", "CONCLUSION", "FINDING", "IMPRESSION", "ASSESSMENT", "DIAGNOS")


CANDIDATES = 256  # chunks under the chosen summaries scored with their tags (see URetriever._score_children)
MAX_CANDIDATES = 2048


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` best scores, best first, ties in row order: ``np.argsort(-scores, kind="stable")[:k]``
    without sorting all of them (a million topics)."""
    if k <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    floor = np.partition(scores, len(scores) - k)[len(scores) - k]
    rows = np.flatnonzero(scores >= floor)
    return rows[np.argsort(-scores[rows], kind="stable")][:k]


class TagWeights:
    """IDF of summary tags, from the document frequencies the build saved with the topics."""

    def __init__(self, n: int, df: dict[str, int]) -> None:
        self.n = max(int(n), 1)
        self.df = df

    def idf(self, tag: str) -> float:
        return math.log((self.n + 1) / (self.df.get(tag, 0) + 1)) + 1.0

    def overlap(self, question_tags: set[str], tags: list[str] | set[str]) -> float:
        total = sum(self.idf(t) for t in question_tags)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in question_tags.intersection(tags)) / total


class URetriever:
    """U-Retrieve: top-down through the tag summaries to meta-graphs, then context through the graph."""

    name = "uretrieve"

    def __init__(self, store: GraphStore, index: SearchIndex, index_dir: Path, settings: RetrievalSettings,
                 count: TokenCounter = approx_tokens) -> None:
        self.store = store
        self.index = index
        self.settings = settings
        self.count = count
        files = IndexFiles(index_dir)
        topics = files.load_topics()
        self.summary_ids = topics.ids
        self.summary_vectors = topics.vectors
        self.summary_norms = topics.norms
        self.members = {sid: np.array([index.row[c] for c in topics.members[sid]], dtype=np.int64)
                        for sid in self.summary_ids}
        self.weights = TagWeights(topics.n, topics.tag_df)
        rows = store.query(cypher.SUMMARIES_AT_LEVEL, {"level": 1})
        self.summary_text = {r["id"]: r["text"] for r in rows}
        themes = files.load_themes()  # level 2: the theme above each topic
        self.theme_of = {t: th for th, kids in (themes.children if themes else {}).items() for t in kids}
        self.theme_text = {r["id"]: r["text"] for r in store.query(cypher.SUMMARIES_AT_LEVEL, {"level": 2})}
        # top-level scoring is vectorised (tens of thousands of topics at 100k documents): members laid out
        # flat for one max-reduce, and an inverted index tag -> topics for the tag overlap
        sizes = [len(self.members[sid]) for sid in self.summary_ids]
        self._flat = (np.concatenate([self.members[sid] for sid in self.summary_ids]) if self.summary_ids
                      else np.zeros(0, dtype=np.int64))
        self._offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else self._flat
        position = {sid: i for i, sid in enumerate(self.summary_ids)}
        postings: dict[str, list[int]] = {}
        for r in rows:
            if r["id"] in position:
                for tag in r["tags"]:
                    postings.setdefault(tag, []).append(position[r["id"]])
        self._postings = {t: np.array(v, dtype=np.int64) for t, v in postings.items()}

    def _top_level_scores(self, q: QuestionAnalysis, dense: np.ndarray, hybrid: np.ndarray) -> np.ndarray:
        """0.5 x the best chunk's hybrid score + 0.3 x centroid similarity + 0.2 x IDF-weighted tag overlap.

        With an IVF index (a million chunks and more) the centroid similarity comes from the members' dense
        scores: a centroid is the unit vector of its members' sum, so its cosine with the question is the sum
        of theirs over the sum's norm. That replaces a pass over the centroids (1.5 GB at a million topics)
        with one over the scores already at hand, and is exact where the members were scored exactly.
        """
        n = len(self.summary_ids)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        best = np.maximum(np.maximum.reduceat(hybrid[self._flat], self._offsets), 0.0)
        if self.index.ivf is not None and self.summary_norms is not None:
            norms = self.summary_norms
            similar = np.add.reduceat(dense[self._flat], self._offsets) / np.where(norms > 0, norms, 1.0)
        else:
            similar = self.summary_vectors @ q.vector
        overlap = np.zeros(n, dtype=np.float64)
        total = sum(self.weights.idf(t) for t in q.tags)
        if total:
            for tag in q.tags:
                if tag in self._postings:
                    overlap[self._postings[tag]] += self.weights.idf(tag)
            overlap /= total
        return 0.5 * best + 0.3 * similar + 0.2 * overlap

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        st = self.settings
        dense = self.index.dense_scores(q.vector)
        bm25 = self.index.bm25_scores(question)
        hybrid = st.dense_weight * dense + st.bm25_weight * bm25
        scores = self._top_level_scores(q, dense, hybrid)
        order = top_rows(scores, st.beam)
        beam = [self.summary_ids[i] for i in order]
        top_scores = {self.summary_ids[i]: float(scores[i]) for i in order}
        ordered = self._score_children(q, beam, hybrid)
        ranked = ordered[: st.top_chunks]
        path: dict = {"summaries": [{"id": s, "theme": self.theme_of.get(s), "score": round(top_scores[s], 4)}
                                    for s in beam],
                      "chunks": [{"id": c, "score": round(v[0], 4)} for c, v in ranked]}
        above = dict.fromkeys(self.theme_of.get(s) for s in beam)
        themes = [self.theme_text[th] for th in above if th in self.theme_text]
        result = Retrieval([], q.concepts, ranking=rank_documents([c for c, _ in ordered]),
                           summaries=[self.summary_text[s] for s in beam if s in self.summary_text] + themes,
                           path=path, mode=self.name)
        if not ranked or ranked[0][1][0] < st.min_relevance:
            path["abstain_reason"] = "no passage reached the relevance threshold"
            return result
        picked = [(c, s, why) for c, (s, why) in ranked]
        if st.findings_first:
            picked = self._findings_first(picked, result.ranking[:1])
        if st.relations > 0 and q.concepts:
            picked, path["relations"] = self._follow_relations(picked, {c.id for c in q.concepts})
        if st.hops > 0:
            refs, result.background, path["entities"] = self._expand([c for c, _, _ in picked],
                                                                     {c.id for c in q.concepts})
            have = {c for c, _, _ in picked}
            for chunk_id, score in refs[: st.max_references]:
                if chunk_id not in have:
                    picked.append((chunk_id, score, "references"))
        # the vocabulary background shares the budget with the passages, so every mode gets the same number of
        # context tokens; it is the first thing to go when the budget is tight
        background = prompts.BACKGROUND.format(items="; ".join(result.background))
        background_cost = self.count(background) if result.background else 0
        if background_cost > st.budget_tokens // 4:
            result.background, background_cost = [], 0
        result.passages = pack_passages(self.store, picked, st.budget_tokens - background_cost, self.count)
        return result

    def _score_children(self, q: QuestionAnalysis, beam: list[str], hybrid: np.ndarray
                        ) -> list[tuple[str, tuple[float, str]]]:
        """The chunks under the chosen summaries, best first: hybrid score + tag overlap of their meta-graph.

        Topics grow with the corpus (thousands of chunks each at 100k documents), so only the candidates
        that can still reach the top are scored with their tags: the tag term adds at most ``tag_weight``,
        so every chunk whose hybrid score is within ``tag_weight`` of the best ``CANDIDATES``-th is fetched
        (its level-0 summary, by primary key), which keeps the head of the ranking exact.
        """
        st = self.settings
        rows = np.concatenate([self.members[s] for s in beam]) if beam else np.zeros(0, dtype=np.int64)
        parent = np.concatenate([np.full(len(self.members[s]), k) for k, s in enumerate(beam)]) if beam else rows
        if len(rows) > CANDIDATES:
            scores = hybrid[rows]
            floor = np.partition(scores, -CANDIDATES)[-CANDIDATES] - st.tag_weight
            keep = np.flatnonzero(scores >= floor)
            keep = keep[np.argsort(-scores[keep])][:MAX_CANDIDATES]
            rows, parent = rows[keep], parent[keep]
        chunk_ids = [self.index.ids[i] for i in rows]
        rows_ = self.store.query(cypher.SUMMARY_TAGS, {"ids": [f"S0:{c}" for c in chunk_ids]})
        tags = {r["id"]: r["tags"] for r in rows_}
        scored = {c: (float(hybrid[i]) + st.tag_weight * self.weights.overlap(q.tags, tags.get(f"S0:{c}", [])),
                      f"summary {beam[p]}") for c, i, p in zip(chunk_ids, rows, parent)}
        return sorted(scored.items(), key=lambda kv: kv[1][0], reverse=True)

    def _findings_first(self, picked: list[tuple[str, float, str]], doc_ids: list[str]
                        ) -> list[tuple[str, float, str]]:
        """Put the findings sections of the best document before the rest.

        The chunk most similar to a question is usually the one that restates it (background, objective);
        the answer is in what the study found. Walking the document's HAS_CHUNK edges to its RESULTS and
        CONCLUSIONS (or a report's FINDINGS, IMPRESSION, ASSESSMENT) puts the evidence into the budget first.
        """
        rows = self.store.query_each(cypher.FINDINGS_CHUNKS_OF_DOCUMENT, doc_ids,
                                     {"sections": list(FINDINGS_SECTIONS)})
        if not rows:
            return picked
        top = picked[0][1]
        first = [(r["id"], top, f"findings of {r['doc_id']}") for r in rows]
        ids = {c for c, _, _ in first}
        return first + [p for p in picked if p[0] not in ids]

    def _follow_relations(self, picked: list[tuple[str, float, str]], concepts: set[str]
                          ) -> tuple[list[tuple[str, float, str]], list[dict[str, Any]]]:
        """Evidence of the typed relations (INDUCES, TREATS) at the question's concepts.

        A relation between two of the question's concepts ("Does X induce Y?") states what is asked: its
        evidence passage goes first, moved there if it was among the candidates already; when it is one of the
        findings that lead already, it keeps its place and its reason. A relation with one of them ("What induces
        Y?") adds its passage after the ranked ones, where the budget may leave room. Each followed
        relation is recorded in the retrieval path, with ``added`` false when its passage was a candidate
        already and stayed where it was.
        """
        st = self.settings
        limit = 4 * st.relations
        rows: list[dict[str, Any]] = []
        for query in (cypher.TYPED_RELATIONS_FROM_CONCEPT, cypher.TYPED_RELATIONS_TO_CONCEPT):  # best ``limit`` each
            found = self.store.query_each(query, sorted(concepts), {"types": list(TYPED_RELATIONS), "limit": limit})
            rows += sorted(found, key=lambda r: -r["score"])[:limit]
        both = sorted((r for r in rows if r["source_id"] in concepts and r["target_id"] in concepts),
                      key=lambda r: -r["score"])
        one = sorted((r for r in rows if not (r["source_id"] in concepts and r["target_id"] in concepts)),
                     key=lambda r: -r["score"])
        have = {c for c, _, _ in picked}
        leading: set[str] = set()
        for c, _, why in picked:  # the findings put first by _findings_first
            if not why.startswith("findings of"):
                break
            leading.add(c)
        first: list[tuple[str, float, str]] = []
        after: list[tuple[str, float, str]] = []
        followed: list[dict[str, Any]] = []
        top = picked[0][1] if picked else 1.0
        seen: set[tuple[str, str, str, str]] = set()
        for r in [*both, *one]:
            key = (r["source_id"], r["type"], r["target_id"], r["chunk_id"])
            if len(followed) == st.relations or key in seen:
                continue
            seen.add(key)
            stated = r in both
            added = r["chunk_id"] not in have or (stated and r["chunk_id"] not in leading
                                                   and r["chunk_id"] not in {c for c, _, _ in first})
            if added:
                have.add(r["chunk_id"])
                why = f"relation {r['source']} {r['type']} {r['target']}"
                (first if stated else after).append((r["chunk_id"], top, why))
            followed.append({"type": r["type"], "source": r["source_id"], "target": r["target_id"],
                             "chunk": r["chunk_id"], "start": r["start"], "end": r["end_"],
                             "score": round(float(r["score"]), 4), "speculative": bool(r["speculative"]),
                             "added": added})
        moved = {c for c, _, _ in first}
        return first + [p for p in picked if p[0] not in moved] + after, followed

    def _expand(self, chunk_ids: list[str], question_concepts: set[str]
                ) -> tuple[list[tuple[str, float]], list[str], list[str]]:
        ents = self.store.query_each(cypher.ENTITIES_OF_CHUNK, chunk_ids)
        matched = [e for e in ents if e["concept_id"] in question_concepts and not e["negated"]]
        report_ids = [e["id"] for e in matched if e["tier"] == 1]  # only report findings have REFERENCES
        refs = sorted(self.store.query_each(cypher.REFERENCED_CHUNKS, report_ids), key=lambda r: -r["score"])
        best: dict[str, float] = {}
        for r in refs:
            best[r["chunk_id"]] = max(best.get(r["chunk_id"], 0.0), float(r["score"]))
        concept_rows = self.store.query_each(cypher.CONCEPT_WITH_BROADER, sorted({e["concept_id"] for e in matched}))
        background = [f"{c['name']} ({c['id']})" + (f", a kind of {', '.join(sorted(set(c['broader'])))}"
                                                    if c["broader"] else "") for c in concept_rows]
        return sorted(best.items(), key=lambda kv: -kv[1]), background, [e["id"] for e in matched]
