"""Patching a view: a few changed documents in a large graph, without rebuilding it.

A full view (:mod:`medkg.kg.view.assemble`) reads every ledger record and
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
- new chunks get level-0 summaries and join the topic they are most tied to,
  new topics the nearest theme (:mod:`medkg.kg.view.patch_summaries`).

Everything but topic and theme membership comes out exactly as a full build of the same
ledger would make it (an integration test compares them); topics drift until
the next full build (``medkg build --full``, or any large change) re-clusters.
Like a full build, the patch writes a new ``view-N`` and the manifest switches
to it only when it is complete, so a crash leaves the previous view in use.

Each view records the (content key, fingerprint) of the documents it holds in
``index/documents.json`` (:class:`~medkg.kg.view.files.IndexFiles`); the difference from the ledger is what to patch.
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.graphdir import ViewPaths
from medkg.kg.ledger import Ledger
from medkg.kg.records import TIER_LITERATURE, TIER_REPORT, ChunkGraph, chunk_position
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore, open_store
from medkg.kg.view.assemble import best_references, closure_of, concept_rows
from medkg.kg.view.files import IndexFiles
from medkg.kg.view.patch_summaries import in_blocks, patch_summaries
from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)

PATCH_MAX_DOCS = 500  # a larger change is a batch: rebuild the view (and re-cluster topics)
PATCH_MAX_SHARE = 0.2  # ... as is a change to more than this share of the graph's documents
_DOC_TABLES = ("Document", "Chunk", "Entity")
_DOC_RELS = ("HAS_CHUNK", "NEXT", "MENTIONS", "RELATED", "IS_A")


@dataclass
class ViewDiff:
    """What separates a view from the ledger."""

    removed: list[str]  # documents whose version in the view goes (deleted or changed)
    added: list[str]  # documents whose ledger version comes in (new or changed)
    # the ledger's (content key, fingerprint) per document that the diff was taken against: the patched view's own
    ledger_keys: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(set(self.removed) | set(self.added))


def view_diff(view: Path, known: dict[str, tuple[str, str]]) -> ViewDiff | None:
    """The difference between ``view`` and the ledger's documents; None if the view did not record its own."""
    files = IndexFiles(ViewPaths(view).index)
    held, themes = files.load_document_keys(), files.load_themes()
    if held is None or themes is None or not themes.children:
        return None  # a view from before patching existed, or one without a single topic: rebuild it
    return ViewDiff(removed=sorted(d for d, k in held.items() if known.get(d) != k),
                    added=sorted(d for d, k in known.items() if held.get(d) != k), ledger_keys=known)


def should_patch(diff: ViewDiff, documents: int) -> bool:
    return 0 < diff.size <= min(PATCH_MAX_DOCS, PATCH_MAX_SHARE * documents)


@dataclass
class _Gone:
    """What the removed documents held, read before they are deleted."""

    chunks: set[str] = field(default_factory=set)
    literature_concepts: set[str] = field(default_factory=set)
    level0_tags: list[list[str]] = field(default_factory=list)


def patch_view(previous: Path, view: Path, ledger: Ledger, diff: ViewDiff, vocab: Vocabulary,
               rewrites: dict[str, dict[str, str]] | None = None) -> dict[str, int]:
    """Write ``view`` as ``previous`` with ``diff`` applied (see the module docstring); return the store counts."""
    old, new = ViewPaths(previous), ViewPaths(view)
    for name in (old.store.name, old.store.name + ".wal"):  # a write-ahead log left by a killed writer is part of it
        if (previous / name).exists():
            shutil.copyfile(previous / name, view / name)
    records = list(ledger.records(diff.added))
    graphs = [g for r in records for g in r.graphs]
    new_vectors = [r.vectors for r in records if len(r.graphs)]
    with open_store("embedded", new.store, read_only=False) as st:
        gone = _remove(st, diff.removed)
        _sync_concepts(st, vocab, graphs)
        batch = GraphBatch()
        for r in records:
            batch.add_document(r.document, r.graphs)
        for table in (*_DOC_TABLES, *_DOC_RELS):
            st.merge(table, batch.nodes[table] if table in batch.nodes else batch.rels[table])
        index = _patch_index(st, old.index, gone, graphs, new_vectors)
        index.save(new.index)
        _patch_references(st, index, gone, graphs)
        patch_summaries(st, IndexFiles(old.index), IndexFiles(new.index), index, gone.chunks,
                        gone.level0_tags, graphs, vocab, rewrites)
        counts = st.counts()
    IndexFiles(new.index).save_document_keys(diff.ledger_keys)
    log.info("patched the view: %d documents out, %d in", len(diff.removed), len(diff.added))
    return counts


def _remove(st: GraphStore, doc_ids: list[str]) -> _Gone:
    gone = _Gone()
    for block in in_blocks(doc_ids):
        gone.chunks |= {r["id"] for r in st.query(cypher.CHUNK_IDS_OF_DOCUMENTS, {"ids": block})}
        gone.literature_concepts |= {r["concept_id"] for r in st.query(cypher.ENTITY_CONCEPTS_OF_DOCUMENTS,
                                                                        {"ids": block})
                                     if r["tier"] == TIER_LITERATURE}
        st.delete_documents(block)
    level0 = [f"S0:{c}" for c in sorted(gone.chunks)]
    for block in in_blocks(level0):
        gone.level0_tags.extend(r["tags"] for r in st.query(cypher.SUMMARY_TAGS, {"ids": block}))
        st.query(cypher.DELETE_SUMMARIES_BY_ID, {"ids": block})
    return gone


def _sync_concepts(st: GraphStore, vocab: Vocabulary, graphs: list[ChunkGraph]) -> None:
    """Make tier 3 the closure of what the entities (stored, less removed, plus new) link to."""
    linked = {r["id"] for r in st.query(cypher.LINKED_CONCEPTS)}
    closure = closure_of(linked | {e.link.concept_id for g in graphs for e in g.entities}, vocab)
    existing = {r["id"] for r in st.query(cypher.CONCEPT_IDS)}
    for block in in_blocks(sorted(existing - closure)):
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
    order = sorted(range(len(ids)), key=lambda i: chunk_position(ids[i]))  # as a full build lays them out
    text = {r["id"]: r["text"] or "" for r in st.query(cypher.CHUNK_TEXTS)}
    return SearchIndex.build([ids[i] for i in order], [text[ids[i]] for i in order], vectors[order])



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
    for block in in_blocks(sorted(changed)):
        for r in st.query(cypher.ENTITIES_OF_CONCEPTS_IN_TIER, {"ids": block, "tier": TIER_REPORT}):
            reports[r["id"]] = (r["id"], r["chunk_id"], r["concept_id"])
    literature: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for block in in_blocks(sorted({c for _, _, c in reports.values()})):
        for r in st.query(cypher.ENTITIES_OF_CONCEPTS_IN_TIER, {"ids": block, "tier": TIER_LITERATURE}):
            literature[r["concept_id"]].append((r["id"], r["chunk_id"]))
    for block in in_blocks(sorted(reports)):
        st.query(cypher.DELETE_REFERENCES_FROM, {"ids": block})
    st.merge("REFERENCES", best_references(sorted(reports.values()), literature, index.vectors, index.row))
