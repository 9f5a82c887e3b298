"""Tag summaries: the hierarchy U-Retrieve walks, built without an LLM.

Level 0 is one summary per meta-graph (chunk). Its tags are what the chunk is
about, in vocabulary terms: the concept ids of its (non-negated) entities, their
semantic groups (``group:DISO``) and their MeSH top-level branches
(``tree:C04``). Its text is extractive: the concept names and the opening of
the chunk.

Level 1 groups meta-graphs into topics by community detection (Louvain, from
networkx) on a chunk graph whose edges are shared concepts, weighted by
inverse document frequency so that "Humans" links nothing and a rare disease
links strongly; consecutive chunks of one document are also joined so a
document's chunks tend to stay together. A level-1 summary carries the union
of its children's tags and lists its most frequent concepts. Deeper levels
come with the graph issue; the records already carry ``level``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from medkg.pipelines.records import ChunkGraph

MAX_CONCEPT_DF = 60  # a concept in more chunks than this adds no edges (it is not topical)


@dataclass
class Summary:
    id: str
    level: int
    tags: list[str]
    text: str
    chunk_ids: list[str]
    children: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.chunk_ids)


def chunk_tags(graph: ChunkGraph, categories: dict[str, tuple[str, ...]]) -> list[str]:
    tags: set[str] = set()
    for e in graph.entities:
        if e.negated:
            continue
        tags.add(e.link.concept_id)
        tags.add(f"group:{e.semantic_group}")
        tags.update(f"tree:{c}" for c in categories.get(e.link.concept_id, ()))
    return sorted(tags)


def level0(graphs: list[ChunkGraph], categories: dict[str, tuple[str, ...]]) -> list[Summary]:
    out = []
    for g in graphs:
        names = "; ".join(e.name for e in g.entities[:8] if not e.negated)
        opening = g.chunk.text[:160].replace("\n", " ")
        out.append(Summary(id=f"S0:{g.chunk.id}", level=0, tags=chunk_tags(g, categories),
                           text=f"{names}. {opening}" if names else opening, chunk_ids=[g.chunk.id]))
    return out


def level1(graphs: list[ChunkGraph], base: list[Summary], names: dict[str, str], seed: int = 13
           ) -> list[Summary]:
    """Cluster level-0 summaries into topics (Louvain over shared concepts)."""
    g = nx.Graph()
    g.add_nodes_from(s.id for s in base)
    by_concept: dict[str, list[str]] = defaultdict(list)
    for s in base:
        for t in s.tags:
            if ":" in t and not t.startswith(("group:", "tree:")):
                by_concept[t].append(s.id)
    n = max(len(base), 1)
    for members in by_concept.values():
        if len(members) < 2 or len(members) > MAX_CONCEPT_DF:
            continue
        w = math.log(n / len(members)) + 1.0
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                prev = g.get_edge_data(a, b, {"weight": 0.0})["weight"]
                g.add_edge(a, b, weight=prev + w)
    for prev_chunk, chunk in zip(graphs, graphs[1:]):
        if prev_chunk.chunk.doc_id == chunk.chunk.doc_id:
            a, b = f"S0:{prev_chunk.chunk.id}", f"S0:{chunk.chunk.id}"
            prev = g.get_edge_data(a, b, {"weight": 0.0})["weight"]
            g.add_edge(a, b, weight=prev + 2.0)
    communities = nx.community.louvain_communities(g, weight="weight", seed=seed)
    by_id = {s.id: s for s in base}
    out = []
    for k, members in enumerate(sorted(communities, key=lambda c: sorted(c)[0])):
        kids = [by_id[m] for m in sorted(members)]
        freq = Counter(t for s in kids for t in s.tags if not t.startswith(("group:", "tree:")))
        top = [names.get(cid, cid) for cid, _ in freq.most_common(8)]
        docs = {cid.split("#", 1)[0] for s in kids for cid in s.chunk_ids}
        summary = Summary(id=f"S1:{k}", level=1, tags=sorted({t for s in kids for t in s.tags}),
                          text=f"Topic: {'; '.join(top)} ({len(kids)} passages from {len(docs)} documents)",
                          chunk_ids=[c for s in kids for c in s.chunk_ids], children=[s.id for s in kids])
        out.append(summary)
    return out


def summary_vectors(summaries: list[Summary], chunk_vectors: np.ndarray, row: dict[str, int]) -> np.ndarray:
    """A summary's embedding: the normalised mean of its chunks' embeddings."""
    out = np.zeros((len(summaries), chunk_vectors.shape[1]), dtype=np.float32)
    for i, s in enumerate(summaries):
        v = chunk_vectors[[row[c] for c in s.chunk_ids]].mean(axis=0)
        norm = float(np.linalg.norm(v))
        out[i] = v / norm if norm > 0 else v
    return out
