"""Tag summaries: the hierarchy U-Retrieve walks, built without an LLM.

Level 0 is one summary per meta-graph (chunk). Its tags are what the chunk is
about, in vocabulary terms: the concept ids of its (non-negated) entities, their
semantic groups (``group:DISO``) and their MeSH top-level branches
(``tree:C04``). Its text is extractive: the concept names and the opening of
the chunk.

Level 1 groups meta-graphs into topics by community detection (Louvain as
networkx runs it, on flat arrays: :mod:`medkg.kg.view.louvain`) on a chunk
graph whose edges are shared concepts, weighted by inverse document frequency
so that "Humans" links nothing and a rare disease links strongly; consecutive
chunks of one document are also joined so a document's chunks tend to stay
together. A level-1 summary carries the union
of its children's tags and lists its most frequent concepts.

Level 2 groups topics into themes. Louvain has nothing left to merge at that
point (its last pass found no move that raises modularity, and many topics are
separate components of the concept graph), so themes come from what the
topics are about as a whole: spherical k-means over the topics' embedding
centroids, k = ceil(sqrt(topics)), seeded, so the same corpus gives the same
themes. A theme carries the union of its topics' tags and names their most
frequent concepts. U-Retrieve scores every topic directly (the cost of a
question is the chunk scores, not the topics), reports the theme above each
topic it follows, and offers theme texts last to answer refinement.

A patched view (:mod:`medkg.kg.view.patch`) does not re-run Louvain: new
chunks join the topic they are most tied to (``assign_topics``), which is the
first move of Louvain's local phase; a full build re-clusters.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medkg.kg.records import ChunkGraph, chunk_id, chunk_position
from medkg.kg.view import louvain

log = logging.getLogger(__name__)

MAX_CONCEPT_DF = 60  # a concept in more chunks than this adds no edges (it is not topical)


@dataclass(slots=True)
class Summary:
    """A tag summary: level 0 summarises one chunk's meta-graph, level 1 a topic, level 2 a theme."""

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
    return [chunk_summary(g, categories) for g in graphs]


def chunk_summary(g: ChunkGraph, categories: dict[str, tuple[str, ...]]) -> Summary:
    """The level-0 summary of one meta-graph."""
    names = "; ".join(e.name for e in g.entities[:8] if not e.negated)
    opening = g.chunk.text[:160].replace("\n", " ")
    return Summary(id=f"S0:{g.chunk.id}", level=0, tags=chunk_tags(g, categories),
                   text=f"{names}. {opening}" if names else opening, chunk_ids=[g.chunk.id])


class Level0:
    """Level-0 summaries as topic clustering needs them, kept compactly (about 100 bytes a chunk instead of
    half a kilobyte): chunk ids and tag ids in flat arrays. Indexing gives a :class:`Summary` without its text
    (which went to the store as the chunk was read)."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._tags = array("i")
        self._ends = array("q")
        self._names: list[str] = []
        self._ids: dict[str, int] = {}

    def append(self, s: Summary) -> None:
        self.chunks.append(s.chunk_ids[0])
        for t in s.tags:
            k = self._ids.get(t)
            if k is None:
                k = self._ids[t] = len(self._names)
                self._names.append(t)
            self._tags.append(k)
        self._ends.append(len(self._tags))

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, i: int) -> Summary:
        lo, hi = (self._ends[i - 1] if i else 0), self._ends[i]
        return Summary(id=f"S0:{self.chunks[i]}", level=0, tags=[self._names[k] for k in self._tags[lo:hi]],
                       text="", chunk_ids=[self.chunks[i]])

    def __iter__(self) -> Iterator[Summary]:
        return (self[i] for i in range(len(self)))

    def tag_df(self) -> Counter:
        """How many summaries carry each tag."""
        counts = np.bincount(np.asarray(self._tags, dtype=np.int64), minlength=len(self._names))
        return Counter({name: int(k) for name, k in zip(self._names, counts.tolist()) if k})


def level1(base: Sequence[Summary] | Level0, names: dict[str, str], seed: int = 13) -> list[Summary]:
    """Cluster level-0 summaries (in ledger order: a document's chunks one after another) into topics (Louvain
    over shared concepts)."""
    by_concept: dict[str, list[int]] = defaultdict(list)
    same_doc: list[int] = []  # i: summaries i and i + 1 are consecutive chunks of one document
    previous = None
    for i, s in enumerate(base):
        doc = chunk_position(s.chunk_ids[0])[0]
        if i and doc == previous:
            same_doc.append(i - 1)
        previous = doc
        for t in s.tags:
            if is_concept_tag(t):
                by_concept[t].append(i)
    a, b, w = [], [], []  # the edges in the order a networkx graph would have been given them
    for members in by_concept.values():
        weight = concept_weight(len(members), len(base))
        if weight:
            rows, cols = np.triu_indices(len(members), 1)  # (i, j > i), row by row
            a.append(np.asarray(members)[rows])
            b.append(np.asarray(members)[cols])
            w.append(np.full(len(rows), weight))
    a.append(np.asarray(same_doc, dtype=np.int64))
    b.append(np.asarray(same_doc, dtype=np.int64) + 1)
    w.append(np.full(len(same_doc), 2.0))
    graph = louvain.Graph.from_pairs(len(base), np.concatenate(a), np.concatenate(b), np.concatenate(w))
    groups = [sorted(c, key=lambda i: base[i].id) for c in louvain.communities(graph, seed=seed)]
    groups.sort(key=lambda g: base[g[0]].id)
    return [topic(f"S1:{k}", [base[i] for i in g], names) for k, g in enumerate(groups)]


def topic(summary_id: str, kids: list[Summary], names: dict[str, str]) -> Summary:
    """A level-1 summary over level-0 ``kids``: their tags, and a text naming its most frequent concepts."""
    docs = {chunk_position(c)[0] for s in kids for c in s.chunk_ids}
    return _parent(summary_id, 1, kids, f"Topic: {_most_frequent(kids, names)} "
                                        f"({len(kids)} passages from {len(docs)} documents)")


def _parent(summary_id: str, level: int, kids: list[Summary], text: str) -> Summary:
    return Summary(id=summary_id, level=level, tags=sorted({t for s in kids for t in s.tags}), text=text,
                   chunk_ids=[c for s in kids for c in s.chunk_ids], children=[s.id for s in kids])


def _most_frequent(kids: list[Summary], names: dict[str, str], n: int = 8) -> str:
    """The names of the concepts most of ``kids`` carry, for an extractive summary text."""
    freq = Counter(t for s in kids for t in s.tags if is_concept_tag(t))
    return "; ".join(names.get(cid, cid) for cid, _ in freq.most_common(n))


def is_concept_tag(tag: str) -> bool:
    return ":" in tag and not tag.startswith(("group:", "tree:"))


def concept_weight(df: int, n: int) -> float:
    """The weight a concept in ``df`` of ``n`` chunks gives each pair of them (0: too rare or too common)."""
    return math.log(max(n, 1) / df) + 1.0 if 2 <= df <= MAX_CONCEPT_DF else 0.0


def assign_topics(new: list[Summary], chunks_of: dict[str, set[str]], topic_of: dict[str, str], n: int,
                  next_topic: int) -> dict[str, str]:
    """Place new level-0 summaries into existing topics, for a patched view (a full build re-clusters).

    Each new chunk joins the topic it is most strongly tied to by the edges Louvain would see: for every
    concept it shares with a chunk already placed, that concept's weight; 2.0 for the chunk before it in its
    document. A chunk tied to nothing starts a topic of its own, numbered from ``next_topic``. ``chunks_of``
    maps each concept to every chunk carrying it (new ones included); ``topic_of`` maps placed chunks to
    topics and is updated in order, so a new document's chunks can follow its first one. Returns the
    placements of the new chunks.
    """
    placed: dict[str, str] = {}
    for s in new:
        chunk = s.chunk_ids[0]
        score: dict[str, float] = defaultdict(float)
        for t in s.tags:
            if is_concept_tag(t):
                w = concept_weight(len(chunks_of.get(t, ())), n)
                for other in chunks_of.get(t, ()) if w else ():
                    if other != chunk and other in topic_of:
                        score[topic_of[other]] += w
        doc, ordinal = chunk_position(chunk)
        before = chunk_id(doc, ordinal - 1)
        if ordinal > 0 and before in topic_of:
            score[topic_of[before]] += 2.0
        if score:
            best = min(score, key=lambda sid: (-score[sid], sid))
        else:
            best, next_topic = f"S1:{next_topic}", next_topic + 1
        topic_of[chunk] = placed[chunk] = best
    return placed


def level2(top: list[Summary], topic_vectors: np.ndarray, seed: int = 13, iterations: int = 25
           ) -> tuple[list[list[int]], np.ndarray]:
    """Themes over the level-1 summaries: (member rows of ``top`` per theme, unit centroids), by k-means.

    Members are in row order and themes ordered by their first member, so ids follow the topics' order.
    """
    n = len(top)
    if n < 2:
        return ([list(range(n))] if n else []), topic_vectors[:n].copy()
    k = math.ceil(math.sqrt(n))
    rng = np.random.default_rng(seed)
    centroids = topic_vectors[_spread_seeds(topic_vectors, k, rng)]
    assign = np.zeros(n, dtype=np.int64)
    for step in range(iterations):
        new = nearest(topic_vectors, centroids)
        if step and np.array_equal(new, assign):  # converged
            break
        assign = new
        centroids = _unit(np.stack([topic_vectors[assign == j].mean(axis=0) if (assign == j).any() else centroids[j]
                                    for j in range(k)]))
    groups = sorted((list(map(int, np.flatnonzero(assign == j))) for j in range(k) if (assign == j).any()),
                    key=lambda g: g[0])
    return groups, _unit(np.stack([topic_vectors[g].mean(axis=0) for g in groups]))


def nearest(x: np.ndarray, centroids: np.ndarray, rows: int = 65536) -> np.ndarray:
    """Each row's most similar centroid, a block of rows at a time (a million topics by a thousand themes
    would otherwise be a 4 GB matrix)."""
    out = np.empty(len(x), dtype=np.int64)
    for first in range(0, len(x), rows):
        out[first : first + rows] = np.argmax(x[first : first + rows] @ centroids.T, axis=1)
    return out


def _spread_seeds(x: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """k-means++ seeding on cosine distance (the first seed is the first row, so small inputs are stable)."""
    seeds = [0]
    dist = np.maximum(1.0 - x @ x[0], 0.0).astype(np.float64)
    while len(seeds) < k:
        total = float(dist.sum())
        nxt = int(rng.choice(len(x), p=dist / total)) if total > 0 else len(seeds)
        seeds.append(nxt)
        dist = np.minimum(dist, np.maximum(1.0 - x @ x[nxt], 0.0))
    return seeds


def theme(summary_id: str, topics: list[Summary], names: dict[str, str]) -> Summary:
    """A level-2 summary over level-1 ``topics``."""
    passages = sum(len(s.chunk_ids) for s in topics)
    return _parent(summary_id, 2, topics, f"Theme: {_most_frequent(topics, names)} "
                                          f"({len(topics)} topics, {passages} passages)")


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def summary_vectors(summaries: list[Summary], chunk_vectors: np.ndarray, row: dict[str, int],
                    norms: np.ndarray | None = None) -> np.ndarray:
    """A summary's embedding: the normalised mean of its chunks' embeddings (summaries share no chunk)."""
    group = np.full(len(chunk_vectors), -1, dtype=np.int64)
    for i, s in enumerate(summaries):
        group[[row[c] for c in s.chunk_ids]] = i
    return centroids(group, len(summaries), lambda: [(0, np.asarray(chunk_vectors))], int(chunk_vectors.shape[1]),
                     norms=norms)


def centroids(group: np.ndarray, n: int, blocks: Callable[[], Iterable[tuple[int, np.ndarray]]], dim: int,
              memory_mb: int = 256, norms: np.ndarray | None = None) -> np.ndarray:
    """Unit centroids of ``n`` groups of vectors that ``blocks()`` yields in blocks (first row, rows):
    ``group[row]`` is a row's group, -1 for none. Sums are float64, in row order, for as many groups at a time
    as ``memory_mb`` holds (``blocks`` is called again for each range of groups), so the result does not depend
    on the blocks or the ranges. ``norms``, if given, receives the norm of each group's sum (a question's
    cosine with a centroid is then the sum of its cosines with the members over that norm)."""
    out = np.zeros((n, dim), dtype=np.float32)
    step = max(1, memory_mb * 2**20 // (8 * max(dim, 1)))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        sums = np.zeros((hi - lo, dim), dtype=np.float64)
        for first, block in blocks():
            g = group[first : first + len(block)]
            keep = (g >= lo) & (g < hi)
            np.add.at(sums, g[keep] - lo, block[keep].astype(np.float64))
        out[lo:hi] = _unit(sums)
        if norms is not None:
            norms[lo:hi] = np.linalg.norm(sums, axis=1)
    return out


# -- optional LLM rewrites of topic and theme texts (made by medkg.queries.summary_rewrite) ---------------------
REWRITES_FILE = "summary_rewrites.json"  # in the graph directory, beside the ledger


def text_key(text: str) -> str:
    """What a rewrite is keyed by: the extractive text it replaced (which names the members and their count)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def load_rewrites(path: Path) -> dict[str, dict[str, str]]:
    """{text key: {"extractive", "text", "model"}}; empty when no rewrite was made (or the file is unreadable)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("%s: unreadable (%s); summaries keep their extractive texts", path, e)
        return {}
    return data if isinstance(data, dict) else {}


def apply_rewrites(rows: list[tuple], rewrites: dict[str, dict[str, str]]) -> int:
    """Replace the text of Summary rows (id, level, tags, text, size) whose extractive text was rewritten.

    A topic whose members changed has another extractive text, so its stale rewrite is not applied.
    """
    if not rewrites:
        return 0
    done = 0
    for i, row in enumerate(rows):
        hit = rewrites.get(text_key(row[3])) if row[1] > 0 else None
        if hit:
            rows[i] = (*row[:3], hit["text"], *row[4:])
            done += 1
    return done
