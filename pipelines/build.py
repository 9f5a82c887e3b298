"""The build: documents in, a complete graph directory out.

Stages, each a typed record away from the next: read documents -> extract
meta-graphs (chunks, linked entities, relations) -> embed chunks -> tier links
(IS_A to concepts, REFERENCES from reports to literature) -> tag summaries ->
one bulk load into the store -> search index -> manifest.

This first version rebuilds the whole graph into a staging directory and swaps
it in (see :mod:`medkg.kg.graphdir`): running it twice gives the same graph, and
an interrupted build leaves the previous one intact. Incremental, parallel and
resumable builds come with the graph issue.

Tier 3 holds every concept the documents link to plus all their ancestors,
so the hierarchy above each finding is complete without loading all of MeSH.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medkg import __version__
from medkg.errors import InputError
from medkg.kg import summaries as tags
from medkg.kg.batch import GraphBatch
from medkg.kg.graphdir import FORMAT, GraphDir, staged_graph_dir
from medkg.kg.search import SearchIndex
from medkg.kg.store import open_store
from medkg.ontologies.vocabulary import Vocabulary, load_vocabulary
from medkg.pipelines.embedding import Embedder
from medkg.pipelines.lexicon import Lexicon
from medkg.pipelines.nlp import Extractor
from medkg.pipelines.readers import read_documents
from medkg.pipelines.records import TIER_LITERATURE, TIER_REPORT, ChunkGraph, Document

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)

def sample_paths() -> list[Path]:
    """The bundled sample corpus: literature abstracts (tier 2) and synthetic notes (tier 1)."""
    import medkg

    root = Path(medkg.__file__).resolve().parent / "sample"
    return [root / "abstracts.jsonl", root / "notes"]


@dataclass
class BuildReport:
    graph: Path
    documents: int
    counts: dict[str, int]
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def build_graph(paths: list[Path | str], graph_dir: Path | str, *, tier: int | None = None,
                vocabulary: Vocabulary | None = None, embedder: Embedder | None = None,
                store: str = "embedded", progress: Progress | None = None) -> BuildReport:
    """Build a graph from ``paths`` (files or directories) into ``graph_dir``, replacing what is there."""
    t0 = time.perf_counter()
    target = Path(graph_dir)
    _refuse_foreign_dir(target)
    report = (progress or (lambda stage, done, total: None))
    timings: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        timings[stage] = round(now - since, 3)
        return now

    docs = _read_unique([Path(p) for p in paths], tier)
    t = lap("read", t0)
    vocab = vocabulary or load_vocabulary("mesh-bundled")
    t = lap("vocabulary", t)
    with staged_graph_dir(target) as gd:
        Lexicon.from_vocabulary(vocab).save(gd.lexicon_path)
        extractor = Extractor(gd.lexicon_path)
        per_doc: list[tuple[Document, list[ChunkGraph]]] = []
        for i, doc in enumerate(docs, start=1):
            per_doc.append((doc, extractor.extract(doc)))
            report("extract", i, len(docs))
        t = lap("extract", t)
        graphs = [g for _, gs in per_doc for g in gs]
        embedder = embedder or Embedder()
        texts = [g.chunk.text for g in graphs]
        parts = []
        report("embed", 0, len(texts))
        for i in range(0, len(texts), 256):
            parts.append(embedder.encode(texts[i : i + 256]))
            report("embed", min(i + 256, len(texts)), len(texts))
        vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
        t = lap("embed", t)
        index = SearchIndex.build([g.chunk.id for g in graphs], [g.chunk.text for g in graphs], vectors)
        batch = GraphBatch()
        for doc, gs in per_doc:
            batch.add_document(doc, gs)
        batch.rels["REFERENCES"].extend(_references(graphs, vectors, index.row))
        _add_summaries(batch, graphs, vocab, vectors, index.row, gd)
        closure = _concept_closure(graphs, vocab)
        batch.add_concepts(vocab.concepts[c] for c in sorted(closure))
        batch.rels["BROADER"] = [r for r in batch.rels["BROADER"] if r[1] in closure]
        batch.rels["MAPS_TO"] = [r for r in batch.rels["MAPS_TO"] if r[1] in closure]
        t = lap("link", t)
        with open_store(store, gd.store_path, read_only=False, create=True) as st:
            st.create_schema()
            st.bulk_load(batch)
            counts = st.counts()
        index.save(gd.index_dir)
        t = lap("store", t)
        gd.write_manifest({
            "medkg_version": __version__, "store": store, "embedder": embedder.name, "dim": embedder.dim,
            "vocabularies": vocab.versions, "documents": len(docs), "counts": counts,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "stage_seconds": timings,
        })
    return BuildReport(graph=target.resolve(), documents=len(docs), counts=counts,
                       seconds=round(time.perf_counter() - t0, 3), stage_seconds=timings)


def _refuse_foreign_dir(target: Path) -> None:
    """Never replace a directory that is not a medkg graph (a typo must not delete someone's files)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        manifest = GraphDir(target).manifest_path
        if not manifest.exists() or f'"{FORMAT}"' not in manifest.read_text(encoding="utf-8", errors="replace"):
            raise InputError(f"{target}: exists and is not a medkg graph; refusing to overwrite it")


def _read_unique(paths: list[Path], tier: int | None) -> list[Document]:
    docs: dict[str, Document] = {}
    for doc in read_documents(paths, tier):
        if doc.id in docs:
            log.warning("document %s appears twice; keeping the first copy", doc.id)
            continue
        docs[doc.id] = doc
    if not docs:
        raise InputError(f"no documents found in {', '.join(map(str, paths))}")
    return list(docs.values())


def _references(graphs: list[ChunkGraph], vectors: np.ndarray, row: dict[str, int], per_entity: int = 5
                ) -> list[tuple[str, str, float]]:
    """REFERENCES: each report entity -> the literature entities of the same concept in the most similar chunks."""
    lit: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for g in graphs:
        if g.chunk.tier == TIER_LITERATURE:
            for e in g.entities:
                lit[e.link.concept_id].append((e.id, g.chunk.id))
    out = []
    for g in graphs:
        if g.chunk.tier != TIER_REPORT:
            continue
        v = vectors[row[g.chunk.id]]
        for e in g.entities:
            targets = lit.get(e.link.concept_id, [])
            scored = sorted(((float(vectors[row[cid]] @ v), eid) for eid, cid in targets), reverse=True)
            out.extend((e.id, eid, round(max(s, 0.0), 4)) for s, eid in scored[:per_entity])
    return out


def _add_summaries(batch: GraphBatch, graphs: list[ChunkGraph], vocab: Vocabulary, vectors: np.ndarray,
                   row: dict[str, int], gd: GraphDir) -> None:
    linked = {e.link.concept_id for g in graphs for e in g.entities}
    categories = {cid: vocab.categories(cid) for cid in linked}
    names = {cid: vocab.concepts[cid].name for cid in linked}
    base = tags.level0(graphs, categories)
    top = tags.level1(graphs, base, names)
    for s in base + top:
        batch.nodes["Summary"].append((s.id, s.level, s.tags, s.text, s.size))
    batch.rels["SUMMARIZES"].extend((s.id, s.chunk_ids[0]) for s in base)
    batch.rels["CHILD_OF"].extend((child, s.id) for s in top for child in s.children)
    gd.index_dir.mkdir(parents=True, exist_ok=True)
    np.save(gd.index_dir / "summary_vectors.npy", tags.summary_vectors(top, vectors, row))
    (gd.index_dir / "summary_ids.json").write_text(json.dumps([s.id for s in top]), encoding="utf-8")
    members = {s.id: s.chunk_ids for s in top}
    (gd.index_dir / "summary_members.json").write_text(json.dumps(members), encoding="utf-8")
    df = Counter(t for s in base for t in s.tags)
    (gd.index_dir / "tag_df.json").write_text(json.dumps({"n": len(base), "df": df}), encoding="utf-8")


def _concept_closure(graphs: list[ChunkGraph], vocab: Vocabulary) -> set[str]:
    linked = {e.link.concept_id for g in graphs for e in g.entities}
    closure = set(linked)
    for cid in linked:
        closure |= vocab.ancestors(cid)
    # one hop across vocabularies: an HPO term's MeSH descriptor joins it to the literature's concepts
    closure |= {m for cid in list(closure) if cid in vocab.concepts for m in vocab.concepts[cid].mappings}
    return {c for c in closure if c in vocab.concepts}
