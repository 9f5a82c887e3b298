"""Patching a view: a few changed documents in a large graph, without rebuilding it.

A full view (:mod:`medkg.pipelines.assemble`) reads every ledger record and
loads a fresh store with ``COPY``: right for batch builds, but a one-document
change to a 10k-abstract graph would cost a minute. When a build or a delete
changes few documents (``should_patch``), the next view is instead the
previous one, copied and patched in place with ``MERGE``:

- the store file is copied; the old versions of removed or changed documents
  are deleted with everything hanging off them (chunks, entities, their edges,
  their level-0 summaries), and the new versions are merged in;
- tier 3 is synchronised: concepts no entity reaches any more are deleted,
  newly reached ones (with ancestors and mappings) are merged with their edges;
- REFERENCES are recomputed for every report entity whose concept gained or
  lost literature entities, with the same scoring as a full build;
- the search index keeps the stored vectors, adds the new ones, and rebuilds
  BM25 (its statistics are corpus-wide);
- new chunks get level-0 summaries and join the topic they are most tied to
  (:func:`medkg.kg.summaries.assign_topics`); changed topics get new tags,
  texts and centroids, emptied ones are deleted.

Everything but topic membership comes out exactly as a full build of the same
ledger would make it (an integration test compares them); topics drift until
the next full build (``medkg build --full``, or any large change) re-clusters.
Like a full build, the patch writes a new ``view-N`` and the manifest switches
to it only when it is complete, so a crash leaves the previous view in use.

Each view records the (content key, fingerprint) of the documents it holds in
``index/documents.json``; the difference from the ledger is what to patch.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medkg.kg import cypher
from medkg.kg import summaries as tags
from medkg.kg.batch import GraphBatch
from medkg.kg.ledger import Ledger
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore, open_store
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.assemble import best_references, closure_of, concept_rows
from medkg.pipelines.records import TIER_LITERATURE, TIER_REPORT, ChunkGraph

log = logging.getLogger(__name__)

DOCUMENT_KEYS = "documents.json"
PATCH_MAX_DOCS = 500  # a larger change is a batch: rebuild the view (and re-cluster topics)
PATCH_MAX_SHARE = 0.2  # ... as is a change to more than this share of the graph's documents
_IDS_PER_STATEMENT = 500
_DOC_TABLES = ("Document", "Chunk", "Entity")
_DOC_RELS = ("HAS_CHUNK", "NEXT", "MENTIONS", "RELATED", "IS_A")


@dataclass
class ViewDiff:
    """What separates a view from the ledger."""

    removed: list[str]  # documents whose version in the view goes (deleted or changed)
    added: list[str]  # documents whose ledger version comes in (new or changed)

    @property
    def size(self) -> int:
        return len(set(self.removed) | set(self.added))


def write_document_keys(index_dir: Path, known: dict[str, tuple[str, str]]) -> None:
    (index_dir / DOCUMENT_KEYS).write_text(json.dumps({d: list(k) for d, k in sorted(known.items())}),
                                           encoding="utf-8")


def view_diff(view: Path, known: dict[str, tuple[str, str]]) -> ViewDiff | None:
    """The difference between ``view`` and the ledger's documents; None if the view did not record its own."""
    path = view / "index" / DOCUMENT_KEYS
    if not path.exists():
        return None
    held = {d: tuple(k) for d, k in json.loads(path.read_text(encoding="utf-8")).items()}
    return ViewDiff(removed=sorted(d for d, k in held.items() if known.get(d) != k),
                    added=sorted(d for d, k in known.items() if held.get(d) != k))


def should_patch(diff: ViewDiff, documents: int) -> bool:
    return 0 < diff.size <= min(PATCH_MAX_DOCS, PATCH_MAX_SHARE * documents)


@dataclass
class _Gone:
    """What the removed documents held, read before they are deleted."""

    chunks: set[str] = field(default_factory=set)
    literature_concepts: set[str] = field(default_factory=set)
    level0_tags: list[list[str]] = field(default_factory=list)


def patch_view(previous: Path, view: Path, ledger: Ledger, diff: ViewDiff, vocab: Vocabulary) -> dict[str, int]:
    """Write ``view`` as ``previous`` with ``diff`` applied (see the module docstring); return the store counts."""
    shutil.copyfile(previous / "store.lbug", view / "store.lbug")
    records = list(ledger.records(diff.added))
    graphs = [g for r in records for g in r.graphs]
    new_vectors = [r.vectors for r in records if len(r.graphs)]
    with open_store("embedded", view / "store.lbug", read_only=False) as st:
        gone = _remove(st, diff.removed)
        _sync_concepts(st, vocab, graphs)
        batch = GraphBatch()
        for r in records:
            batch.add_document(r.document, r.graphs)
        for table in (*_DOC_TABLES, *_DOC_RELS):
            st.merge(table, batch.nodes[table] if table in batch.nodes else batch.rels[table])
        index = _patch_index(st, previous / "index", gone, graphs, new_vectors)
        index.save(view / "index")
        _patch_references(st, index, gone, graphs)
        _patch_summaries(st, previous / "index", view / "index", index, gone, graphs, vocab)
        counts = st.counts()
    write_document_keys(view / "index", ledger.known())
    log.info("patched the view: %d documents out, %d in", len(diff.removed), len(diff.added))
    return counts


def _in_blocks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _IDS_PER_STATEMENT] for i in range(0, len(ids), _IDS_PER_STATEMENT)]


def _remove(st: GraphStore, doc_ids: list[str]) -> _Gone:
    gone = _Gone()
    for block in _in_blocks(doc_ids):
        gone.chunks |= {r["id"] for r in st.query(cypher.CHUNK_IDS_OF_DOCUMENTS, {"ids": block})}
        gone.literature_concepts |= {r["concept_id"] for r in st.query(cypher.ENTITY_CONCEPTS_OF_DOCUMENTS,
                                                                        {"ids": block})
                                     if r["tier"] == TIER_LITERATURE}
        st.delete_documents(block)
    level0 = [f"S0:{c}" for c in sorted(gone.chunks)]
    for block in _in_blocks(level0):
        gone.level0_tags.extend(r["tags"] for r in st.query(cypher.SUMMARY_TAGS, {"ids": block}))
        st.query(cypher.DELETE_SUMMARIES_BY_ID, {"ids": block})
    return gone


def _sync_concepts(st: GraphStore, vocab: Vocabulary, graphs: list[ChunkGraph]) -> None:
    """Make tier 3 the closure of what the entities (stored, less removed, plus new) link to."""
    linked = {r["id"] for r in st.query(cypher.LINKED_CONCEPTS)}
    closure = closure_of(linked | {e.link.concept_id for g in graphs for e in g.entities}, vocab)
    existing = {r["id"] for r in st.query(cypher.CONCEPT_IDS)}
    for block in _in_blocks(sorted(existing - closure)):
        st.query(cypher.DELETE_CONCEPTS, {"ids": block})
    new = closure - existing
    if not new:
        return
    rows = concept_rows(closure, vocab)
    st.merge("Concept", [r for r in rows.nodes["Concept"] if r[0] in new])
    for rel in ("BROADER", "MAPS_TO"):  # edges among concepts that were already there are already there
        st.merge(rel, [r for r in rows.rels[rel] if r[0] in new or r[1] in new])


def _patch_index(st: GraphStore, old_dir: Path, gone: _Gone, graphs: list[ChunkGraph],
                 new_vectors: list[np.ndarray]) -> SearchIndex:
    old = SearchIndex.load(old_dir)
    keep = [i for i, cid in enumerate(old.ids) if cid not in gone.chunks]
    ids = [old.ids[i] for i in keep] + [g.chunk.id for g in graphs]
    vectors = np.concatenate([np.asarray(old.vectors[keep]), *new_vectors]).astype(np.float32)
    text = {r["id"]: r["text"] for r in st.query(cypher.CHUNK_TEXTS)}
    return SearchIndex.build(ids, [text[c] for c in ids], vectors)


def _patch_references(st: GraphStore, index: SearchIndex, gone: _Gone, graphs: list[ChunkGraph]) -> None:
    """Recompute REFERENCES of new report entities and of those whose concept's literature changed."""
    changed = set(gone.literature_concepts)
    reports: dict[str, tuple[str, str, str]] = {}
    for g in graphs:
        for e in g.entities:
            if g.chunk.tier == TIER_LITERATURE:
                changed.add(e.link.concept_id)
            elif g.chunk.tier == TIER_REPORT:
                reports[e.id] = (e.id, g.chunk.id, e.link.concept_id)
    for block in _in_blocks(sorted(changed)):
        for r in st.query(cypher.ENTITIES_OF_CONCEPTS_IN_TIER, {"ids": block, "tier": TIER_REPORT}):
            reports[r["id"]] = (r["id"], r["chunk_id"], r["concept_id"])
    literature: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for block in _in_blocks(sorted({c for _, _, c in reports.values()})):
        for r in st.query(cypher.ENTITIES_OF_CONCEPTS_IN_TIER, {"ids": block, "tier": TIER_LITERATURE}):
            literature[r["concept_id"]].append((r["id"], r["chunk_id"]))
    for block in _in_blocks(sorted(reports)):
        st.query(cypher.DELETE_REFERENCES_FROM, {"ids": block})
    st.merge("REFERENCES", best_references(sorted(reports.values()), literature, index.vectors, index.row))


def _patch_summaries(st: GraphStore, old_dir: Path, new_dir: Path, index: SearchIndex, gone: _Gone,
                     graphs: list[ChunkGraph], vocab: Vocabulary) -> None:
    """Level 0 for the new chunks, topic placement, and the topics' tags, texts, centroids and document counts."""
    linked = {e.link.concept_id for g in graphs for e in g.entities}
    base = tags.level0(graphs, {cid: vocab.categories(cid) for cid in linked})
    st.merge("Summary", [(s.id, s.level, s.tags, s.text, s.size) for s in base])
    st.merge("SUMMARIZES", [(s.id, s.chunk_ids[0]) for s in base])

    df_data = json.loads((old_dir / "tag_df.json").read_text(encoding="utf-8"))
    df = Counter(df_data["df"])
    df.subtract(t for ts in gone.level0_tags for t in ts)
    df.update(t for s in base for t in s.tags)
    n = int(df_data["n"]) - len(gone.level0_tags) + len(base)

    order: list[str] = json.loads((old_dir / "summary_ids.json").read_text(encoding="utf-8"))
    members: dict[str, list[str]] = json.loads((old_dir / "summary_members.json").read_text(encoding="utf-8"))
    touched = {sid for sid, chunks in members.items() if gone.chunks.intersection(chunks)}
    members = {sid: [c for c in chunks if c not in gone.chunks] for sid, chunks in members.items()}
    topic_of = {c: sid for sid, chunks in members.items() for c in chunks}
    concepts = sorted({t for s in base for t in s.tags if tags.is_concept_tag(t)})
    chunks_of: dict[str, set[str]] = defaultdict(set)
    for block in _in_blocks(concepts):
        for r in st.query(cypher.CHUNKS_OF_CONCEPTS, {"ids": block}):
            chunks_of[r["concept_id"]].add(r["chunk_id"])
    next_topic = 1 + max((int(sid.split(":", 1)[1]) for sid in order), default=-1)
    for chunk, sid in tags.assign_topics(base, chunks_of, topic_of, n, next_topic).items():
        if sid not in members:
            members[sid] = []
            order.append(sid)
        members[sid].append(chunk)
        touched.add(sid)
    for sid in touched:
        members[sid] = sorted(members.get(sid, []))
    _rewrite_topics(st, sorted(touched), members, vocab)
    order = [sid for sid in order if members.get(sid)]
    members = {sid: members[sid] for sid in order}
    st.merge("CHILD_OF", [(f"S0:{c}", topic_of[c]) for s in base for c in s.chunk_ids])
    _save_topics(new_dir, order, members, index, {"n": n, "df": {t: k for t, k in df.items() if k > 0}})


def _rewrite_topics(st: GraphStore, touched: list[str], members: dict[str, list[str]], vocab: Vocabulary) -> None:
    empty = [sid for sid in touched if not members.get(sid)]
    for block in _in_blocks(empty):
        st.query(cypher.DELETE_SUMMARIES_BY_ID, {"ids": block})
    rows = []
    for sid in touched:
        if not members.get(sid):
            continue
        kid_ids = [f"S0:{c}" for c in members[sid]]
        kid_tags = {r["id"]: r["tags"] for block in _in_blocks(kid_ids)
                    for r in st.query(cypher.SUMMARY_TAGS, {"ids": block})}
        kids = [tags.Summary(id=k, level=0, tags=kid_tags.get(k, []), text="", chunk_ids=[k[3:]])
                for k in sorted(kid_ids)]
        names = {t: vocab.concepts[t].name for k in kids for t in k.tags if t in vocab.concepts}
        s = tags.topic(sid, kids, names)
        rows.append((s.id, s.level, s.tags, s.text, s.size))
    st.merge("Summary", rows)


def _save_topics(index_dir: Path, order: list[str], members: dict[str, list[str]], index: SearchIndex,
                 df: dict) -> None:
    topics = [tags.Summary(id=sid, level=1, tags=[], text="", chunk_ids=members[sid]) for sid in order]
    np.save(index_dir / "summary_vectors.npy", tags.summary_vectors(topics, index.vectors, index.row))
    (index_dir / "summary_ids.json").write_text(json.dumps(order), encoding="utf-8")
    (index_dir / "summary_members.json").write_text(json.dumps(members), encoding="utf-8")
    (index_dir / "tag_df.json").write_text(json.dumps(df), encoding="utf-8")
