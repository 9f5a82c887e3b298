"""From the ledger to a derived view: store rows, tier links, tag summaries, search index.

Everything here is a pure function of the ledger's records and the
vocabulary, so a view rebuilt after a crash, a re-run or a deletion is the
same view. Tier links and summaries are corpus-wide (a new abstract may
become the best reference of an old report finding), which is why they are
recomputed as a whole rather than patched.

Tier 3 holds every concept the documents link to plus all their ancestors,
so the hierarchy above each finding is complete without loading all of MeSH.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medkg.kg.batch import GraphBatch
from medkg.kg.ledger import Ledger
from medkg.kg.records import TIER_LITERATURE, TIER_REPORT, ChunkGraph, Document
from medkg.kg.search import SearchIndex
from medkg.kg.view import summaries as tags
from medkg.kg.view.files import IndexFiles, ThemeIndex, TopicIndex
from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)


@dataclass
class Corpus:
    """The whole ledger in memory, as a full view is assembled from it: documents, meta-graphs, vectors."""

    documents: list[tuple[Document, list[ChunkGraph]]]
    graphs: list[ChunkGraph]
    vectors: np.ndarray  # one row per graph, in the order of ``graphs``

    @classmethod
    def from_ledger(cls, ledger: Ledger, dim: int) -> Corpus:
        docs, graphs, parts = [], [], []
        for rec in ledger.records():
            docs.append((rec.document, rec.graphs))
            graphs.extend(rec.graphs)
            if len(rec.graphs):
                parts.append(rec.vectors)
        vectors = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return cls(docs, graphs, vectors)


def assemble(corpus: Corpus, vocab: Vocabulary, index_dir: Path) -> tuple[GraphBatch, SearchIndex]:
    """The store rows of the whole corpus, and its search index (written to ``index_dir``)."""
    graphs, vectors = corpus.graphs, corpus.vectors
    index = SearchIndex.build([g.chunk.id for g in graphs], [g.chunk.text for g in graphs], vectors)
    batch = GraphBatch()
    for doc, gs in corpus.documents:
        batch.add_document(doc, gs)
    batch.rels["REFERENCES"].extend(references(graphs, vectors, index.row))
    add_summaries(batch, graphs, vocab, vectors, index.row, index_dir)
    concepts = concept_rows(concept_closure(graphs, vocab), vocab)
    batch.nodes["Concept"] = concepts.nodes["Concept"]
    batch.rels["BROADER"], batch.rels["MAPS_TO"] = concepts.rels["BROADER"], concepts.rels["MAPS_TO"]
    index.save(index_dir)
    return batch, index


def references(graphs: list[ChunkGraph], vectors: np.ndarray, row: dict[str, int]) -> list[tuple[str, str, float]]:
    """REFERENCES: each report entity -> the literature entities of the same concept in the most similar chunks."""
    lit: dict[str, list[tuple[str, str]]] = defaultdict(list)
    reports: list[tuple[str, str, str]] = []
    for g in graphs:
        for e in g.entities:
            if g.chunk.tier == TIER_LITERATURE:
                lit[e.link.concept_id].append((e.id, g.chunk.id))
            elif g.chunk.tier == TIER_REPORT:
                reports.append((e.id, g.chunk.id, e.link.concept_id))
    return best_references(reports, lit, vectors, row)


def best_references(reports: list[tuple[str, str, str]], literature: dict[str, list[tuple[str, str]]],
                    vectors: np.ndarray, row: dict[str, int], per_entity: int = 5) -> list[tuple[str, str, float]]:
    """For each report entity (id, chunk id, concept): the ``per_entity`` literature entities (id, chunk id) of
    its concept whose chunks are most similar to its own chunk. Ties go to the larger entity id, so the result
    does not depend on the order of either input (a patched view gets the same edges as a full build)."""
    out: list[tuple[str, str, float]] = []
    for eid, chunk_id, concept in reports:
        v = vectors[row[chunk_id]]
        scored = sorted(((float(vectors[row[cid]] @ v), tid) for tid, cid in literature.get(concept, [])),
                        reverse=True)
        out.extend((eid, tid, round(max(s, 0.0), 4)) for s, tid in scored[:per_entity])
    return out


def add_summaries(batch: GraphBatch, graphs: list[ChunkGraph], vocab: Vocabulary, vectors: np.ndarray,
                  row: dict[str, int], index_dir: Path) -> None:
    """Levels 0 (chunks), 1 (topics) and 2 (themes) into ``batch``; top-level files into ``index_dir``."""
    linked = {e.link.concept_id for g in graphs for e in g.entities}
    categories = {cid: vocab.categories(cid) for cid in linked}
    names = {cid: vocab.concepts[cid].name if cid in vocab.concepts else cid for cid in linked}
    base = tags.level0(graphs, categories)
    top = tags.level1(graphs, base, names)
    topic_vectors = tags.summary_vectors(top, vectors, row)
    groups, theme_vectors = tags.level2(top, topic_vectors)
    themes = [tags.theme(f"S2:{k}", [top[i] for i in g], names) for k, g in enumerate(groups)]
    for s in base + top + themes:
        batch.nodes["Summary"].append((s.id, s.level, s.tags, s.text, s.size))
    batch.rels["SUMMARIZES"].extend((s.id, s.chunk_ids[0]) for s in base)
    batch.rels["CHILD_OF"].extend((child, s.id) for s in top + themes for child in s.children)
    files = IndexFiles(index_dir)
    files.save_topics(topic_index(top, topic_vectors, Counter(t for s in base for t in s.tags), len(base)))
    files.save_themes(ThemeIndex({s.id: s.children for s in themes}, theme_vectors))


def topic_index(topics: list[tags.Summary], vectors: np.ndarray, df: Counter, n: int) -> TopicIndex:
    """What U-Retrieve reads of level 1: ids, members, centroids, and the document frequency of level-0 tags."""
    return TopicIndex(ids=[s.id for s in topics], vectors=vectors, members={s.id: s.chunk_ids for s in topics},
                      tag_df=dict(df), n=n)


def concept_closure(graphs: list[ChunkGraph], vocab: Vocabulary) -> set[str]:
    return closure_of({e.link.concept_id for g in graphs for e in g.entities}, vocab)


def closure_of(linked: set[str], vocab: Vocabulary) -> set[str]:
    """Tier 3 of a graph whose entities link to ``linked``: those concepts, their ancestors, and one hop of
    mappings."""
    closure = set(linked)
    for cid in linked:
        closure |= vocab.ancestors(cid)
    # one hop across vocabularies: an HPO term's MeSH descriptor joins it to the literature's concepts
    closure |= {m for cid in list(closure) if cid in vocab.concepts for m in vocab.concepts[cid].mappings}
    return {c for c in closure if c in vocab.concepts}


def concept_rows(closure: set[str], vocab: Vocabulary) -> GraphBatch:
    """Concept nodes of ``closure`` with the BROADER and MAPS_TO edges that stay inside it."""
    batch = GraphBatch()
    batch.add_concepts(vocab.concepts[c] for c in sorted(closure))
    batch.rels["BROADER"] = [r for r in batch.rels["BROADER"] if r[1] in closure]
    batch.rels["MAPS_TO"] = [r for r in batch.rels["MAPS_TO"] if r[1] in closure]
    return batch
