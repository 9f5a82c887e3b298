"""The summary hierarchy of a patched view (see :mod:`medkg.kg.view.patch`).

A full build clusters from scratch (:mod:`medkg.kg.view.summaries`); a patch keeps
the clusters and moves only what changed:

- level 0: the removed chunks' summaries are gone already; new chunks get theirs;
- level 1: removed chunks leave their topics; new chunks join the topic they
  are most tied to (``assign_topics``, Louvain's local move) or start one;
- level 2: a new topic joins the theme whose centroid is nearest to its own;
  topics and themes left empty are deleted;
- every touched topic and theme gets its tags, text and centroid recomputed,
  and the tag statistics U-Retrieve weighs with are updated by difference.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from medkg.kg import cypher
from medkg.kg.records import ChunkGraph
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore
from medkg.kg.view import summaries as tags
from medkg.kg.view.assemble import topic_index
from medkg.kg.view.files import IndexFiles, ThemeIndex
from medkg.ontologies.vocabulary import Vocabulary

_IDS_PER_STATEMENT = 500


def in_blocks(ids: list[str]) -> list[list[str]]:
    """Id lists cut to a size one parameterised statement takes comfortably."""
    return [ids[i : i + _IDS_PER_STATEMENT] for i in range(0, len(ids), _IDS_PER_STATEMENT)]


def patch_summaries(st: GraphStore, old: IndexFiles, new: IndexFiles, index: SearchIndex, gone_chunks: set[str],
                    gone_tags: list[list[str]], graphs: list[ChunkGraph], vocab: Vocabulary,
                    rewrites: dict[str, dict[str, str]] | None = None) -> None:
    """Patch levels 0-2 (see the module docstring); ``rewrites`` are LLM labels to put back on rewritten
    topics and themes whose extractive text is unchanged, as a full build does."""
    linked = {e.link.concept_id for g in graphs for e in g.entities}
    base = tags.level0(graphs, {cid: vocab.categories(cid) for cid in linked})
    st.merge("Summary", [(s.id, s.level, s.tags, s.text, s.size) for s in base])
    st.merge("SUMMARIZES", [(s.id, s.chunk_ids[0]) for s in base])
    previous = old.load_topics()
    df = Counter(previous.tag_df)
    df.subtract(t for ts in gone_tags for t in ts)
    df.update(t for s in base for t in s.tags)
    n = previous.n - len(gone_tags) + len(base)

    topics = _place_chunks(st, _Topics(previous.ids, previous.members, gone_chunks), base, n)
    rows = _topic_rows(st, topics.touched, topics.members, vocab, rewrites or {})
    st.merge("CHILD_OF", [(f"S0:{c}", topics.topic_of[c]) for s in base for c in s.chunk_ids])
    live = [tags.Summary(id=sid, level=1, tags=[], text="", chunk_ids=topics.members[sid]) for sid in topics.order]
    norms = np.empty(len(live), dtype=np.float32)
    topic_vectors = tags.summary_vectors(live, index.vectors, index.row, norms)
    new.save_topics(topic_index(live, topic_vectors, df, n, norms))
    _patch_themes(st, old, new, topics, rows, dict(zip(topics.order, topic_vectors)), vocab, rewrites or {})


class _Topics:
    """Level-1 membership while it is patched."""

    def __init__(self, order: list[str], members: dict[str, list[str]], gone_chunks: set[str]) -> None:
        self.touched = {sid for sid, chunks in members.items() if gone_chunks.intersection(chunks)}
        self.members = {sid: [c for c in chunks if c not in gone_chunks] for sid, chunks in members.items()}
        self.order = order
        self.topic_of = {c: sid for sid, chunks in self.members.items() for c in chunks}
        self.created: list[str] = []

    def settle(self) -> None:
        """Sort touched topics' members as a full build does, and drop emptied topics."""
        for sid in self.touched:
            self.members[sid] = sorted(self.members.get(sid, []))
        self.order = [sid for sid in self.order if self.members.get(sid)]


def _place_chunks(st: GraphStore, topics: _Topics, base: list[tags.Summary], n: int) -> _Topics:
    chunks_of: dict[str, set[str]] = defaultdict(set)
    for block in in_blocks(sorted({t for s in base for t in s.tags if tags.is_concept_tag(t)})):
        for r in st.query(cypher.CHUNKS_OF_CONCEPTS, {"ids": block}):
            chunks_of[r["concept_id"]].add(r["chunk_id"])
    next_topic = 1 + max((int(sid.split(":", 1)[1]) for sid in topics.order), default=-1)
    for chunk, sid in tags.assign_topics(base, chunks_of, topics.topic_of, n, next_topic).items():
        if sid not in topics.members:
            topics.members[sid] = []
            topics.order.append(sid)
            topics.created.append(sid)
        topics.members[sid].append(chunk)
        topics.touched.add(sid)
    topics.settle()
    return topics


def _children_tags(st: GraphStore, ids: list[str]) -> dict[str, list[str]]:
    return {r["id"]: r["tags"] for block in in_blocks(ids) for r in st.query(cypher.SUMMARY_TAGS, {"ids": block})}


def _names(summaries: list[tags.Summary], vocab: Vocabulary) -> dict[str, str]:
    return {t: vocab.concepts[t].name for s in summaries for t in s.tags if t in vocab.concepts}


def _topic_rows(st: GraphStore, touched: set[str], members: dict[str, list[str]], vocab: Vocabulary,
                rewrites: dict[str, dict[str, str]]) -> dict[str, tags.Summary]:
    """Rewrite the touched topics (deleting emptied ones); return the rewritten ones by id."""
    for block in in_blocks(sorted(sid for sid in touched if not members.get(sid))):
        st.query(cypher.DELETE_SUMMARIES_BY_ID, {"ids": block})
    out = {}
    for sid in sorted(sid for sid in touched if members.get(sid)):
        kid_tags = _children_tags(st, [f"S0:{c}" for c in members[sid]])
        kids = [tags.Summary(id=f"S0:{c}", level=0, tags=kid_tags.get(f"S0:{c}", []), text="", chunk_ids=[c])
                for c in members[sid]]
        out[sid] = tags.topic(sid, kids, _names(kids, vocab))
    st.merge("Summary", _rows(list(out.values()), rewrites))
    return out


def _rows(summaries: list[tags.Summary], rewrites: dict[str, dict[str, str]]) -> list[tuple]:
    rows = [(s.id, s.level, s.tags, s.text, s.size) for s in summaries]
    tags.apply_rewrites(rows, rewrites)
    return rows


def _patch_themes(st: GraphStore, old: IndexFiles, new: IndexFiles, topics: _Topics,
                  rewritten: dict[str, tags.Summary], topic_vector: dict[str, np.ndarray], vocab: Vocabulary,
                  rewrites: dict[str, dict[str, str]]) -> None:
    previous = old.load_themes()
    assert previous is not None  # view_diff refuses to patch a view without themes
    themes, old_vectors = previous.children, previous.vectors
    theme_ids = list(themes)
    theme_of = {t: th for th, ts in themes.items() for t in ts}
    alive = set(topics.order)
    touched = {theme_of[t] for t in rewritten if t in theme_of} | {theme_of[t] for t in theme_of if t not in alive}
    themes = {th: [t for t in ts if t in alive] for th, ts in themes.items()}
    next_theme = 1 + max((int(th.split(":", 1)[1]) for th in theme_ids), default=-1)
    for sid in topics.created:
        if sid not in alive:
            continue
        if theme_ids:
            th = theme_ids[int(np.argmax(old_vectors @ topic_vector[sid]))]
        else:
            th, next_theme = f"S2:{next_theme}", next_theme + 1
            theme_ids.append(th)
            themes[th] = []
        themes[th].append(sid)
        touched.add(th)
    st.merge("CHILD_OF", [(sid, th) for th, ts in themes.items() for sid in ts if sid in topics.created])
    for block in in_blocks(sorted(th for th in touched if not themes.get(th))):
        st.query(cypher.DELETE_SUMMARIES_BY_ID, {"ids": block})
    order = [th for th in theme_ids if themes.get(th)]
    vectors = dict(zip(theme_ids, old_vectors))
    rows: list[tags.Summary] = []
    for th in sorted(th for th in touched if themes.get(th)):
        kids_tags = _children_tags(st, themes[th])
        kids = [tags.Summary(id=t, level=1, tags=kids_tags.get(t, []), text="", chunk_ids=topics.members[t])
                for t in themes[th]]
        rows.append(tags.theme(th, kids, _names(kids, vocab)))
        mean = np.mean([topic_vector[t] for t in themes[th]], axis=0)
        vectors[th] = mean / (np.linalg.norm(mean) or 1.0)
    st.merge("Summary", _rows(rows, rewrites))
    new.save_themes(ThemeIndex({th: themes[th] for th in order},
                               np.stack([vectors[th] for th in order]).astype(np.float32) if order
                               else np.zeros((0, old_vectors.shape[1] if old_vectors.ndim == 2 else 0),
                                             dtype=np.float32)))
