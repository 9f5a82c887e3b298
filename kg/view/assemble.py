"""From the ledger to a derived view: store rows, tier links, tag summaries, search index.

Everything here is a pure function of the ledger's records and the
vocabulary, so a view rebuilt after a crash, a re-run or a deletion is the
same view. Tier links and summaries are corpus-wide (a new abstract may
become the best reference of an old report finding), which is why they are
recomputed as a whole rather than patched.

Assembly streams: the ledger is read one document at a time and nothing of
a document is kept once its rows are out, except what the corpus-wide steps
need, in compact form:

- store rows go to a :class:`~medkg.kg.view.staging.RowSink` (CSV files that
  ``COPY`` loads, for the embedded store);
- chunk vectors are appended to the index's ``.npy`` file (its header is
  rewritten with the row count at the end) and read back in blocks; chunk
  texts feed the two-pass BM25 builder (:mod:`medkg.kg.view.bm25`), which
  spills to disk;
- each literature entity is one line of a spill file (concept, chunk row,
  entity id), read back only when there are report entities to link;
- what stays in memory per chunk is its id and its level-0 tag ids (for topic
  clustering, :class:`~medkg.kg.view.summaries.Level0`), which is what grows
  with the corpus: about 200 bytes per chunk.

Tier 3 holds every concept the documents link to plus all their ancestors,
so the hierarchy above each finding is complete without loading all of MeSH.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medkg.errors import GraphCorruptError
from medkg.kg.batch import GraphBatch
from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.records import TIER_LITERATURE, TIER_REPORT
from medkg.kg.view import ivf
from medkg.kg.view import summaries as tags
from medkg.kg.view.bm25 import BM25Builder
from medkg.kg.view.files import BM25, CHUNK_IDS, CHUNK_VECTORS, IndexFiles, ThemeIndex, TopicIndex
from medkg.kg.view.staging import RowSink
from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)

ROWS_PER_BLOCK = 50_000  # chunk vectors read back at a time (75 MB at 384 dimensions)


@dataclass(frozen=True)
class Assembly:
    """What :func:`assemble` made besides the rows it handed to the sink."""

    documents: int
    chunk_ids: list[str]  # row order of the index files
    dim: int
    vectors: Path  # the chunk vectors (.npy), row by row


def assemble(ledger: Ledger, vocab: Vocabulary, index_dir: Path, sink: RowSink, *, dim: int = 0,
             rewrites: dict[str, dict[str, str]] | None = None) -> Assembly:
    """Hand every row of the view to ``sink`` and write its index files into ``index_dir``, reading the ledger
    once (see the module docstring). ``rewrites``: LLM rewrites of summary texts to apply."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with _Reader(vocab, index_dir, sink, dim) as reader:
        for rec in ledger.records():
            reader.add(rec)
        built = reader.finish()
        reader.link_references()
        reader.summarise(rewrites or {})
        ivf.update(reader.blocks, len(built.chunk_ids), built.dim, index_dir)
    concepts = concept_rows(closure_of(reader.linked, vocab), vocab)
    for table, rows in (*concepts.nodes.items(), *concepts.rels.items()):
        if rows:
            sink.add(table, rows)
    return built


class _Reader:
    """The state of one assembly: fed one ledger record at a time, then finished (see the module docstring)."""

    def __init__(self, vocab: Vocabulary, index_dir: Path, sink: RowSink, dim: int) -> None:
        self.vocab, self.index_dir, self.sink, self.dim = vocab, index_dir, sink, dim
        self._tmp = tempfile.TemporaryDirectory(prefix="medkg-assemble-", dir=index_dir)
        spill = Path(self._tmp.name)
        self._npy = index_dir / CHUNK_VECTORS
        self._vectors = open(self._npy, "wb")  # noqa: SIM115  (closed by finish / __exit__)
        self._data_at = -1  # where the rows start, once the header is written (the width known)
        self._literature_path = spill / "literature.tsv"
        self._literature = open(self._literature_path, "w", encoding="utf-8")  # noqa: SIM115
        self.bm25 = BM25Builder(spill)
        self.documents = 0
        self.base = tags.Level0()  # level-0 summaries without their texts (those are in the sink), row by row
        self.reports: list[tuple[str, int, str]] = []  # report entity id, chunk row, concept
        self._categories: dict[str, tuple[str, ...]] = {}  # every linked concept -> its MeSH categories

    @property
    def chunk_ids(self) -> list[str]:
        return self.base.chunks

    @property
    def linked(self) -> set[str]:
        return set(self._categories)

    def add(self, rec: LedgerRecord) -> None:
        self.sink.add_document(rec.document, rec.graphs)
        self.documents += 1
        if not rec.graphs:
            return
        if not self.dim:
            self.dim = int(rec.vectors.shape[1])
        if rec.vectors.shape != (len(rec.graphs), self.dim):
            raise GraphCorruptError(f"the ledger's record of {rec.document.id} has vectors of shape "
                                    f"{rec.vectors.shape}, not ({len(rec.graphs)}, {self.dim}); rebuild with --full")
        if self._data_at < 0:
            self._write_header(0)
        self._vectors.write(np.ascontiguousarray(rec.vectors, dtype=np.float32).tobytes())
        for g in rec.graphs:
            row = len(self.base)
            self.bm25.add(g.chunk.text)
            for e in g.entities:
                cid = e.link.concept_id
                if cid not in self._categories:
                    self._categories[cid] = self.vocab.categories(cid)
                if g.chunk.tier == TIER_LITERATURE:
                    self._literature.write(f"{cid}\t{row}\t{e.id}\n")
                elif g.chunk.tier == TIER_REPORT:
                    self.reports.append((e.id, row, cid))
            s = tags.chunk_summary(g, self._categories)
            self.sink.add("Summary", [(s.id, 0, s.tags, s.text, 1)])
            self.sink.add("SUMMARIZES", [(s.id, g.chunk.id)])
            self.base.append(s)

    def _write_header(self, rows: int) -> None:
        """The .npy header; NumPy pads it so that its length does not change as the row count grows."""
        self._vectors.seek(0)
        np.lib.format.write_array_header_1_0(self._vectors, {"descr": "<f4", "fortran_order": False,
                                                             "shape": (rows, self.dim)})
        if self._data_at < 0:
            self._data_at = self._vectors.tell()
        elif self._vectors.tell() != self._data_at:  # cannot happen with NumPy's padding; never shift the rows
            raise GraphCorruptError(f"{self._npy}: the vector file's header changed length")

    def finish(self) -> Assembly:
        """The chunk index files: ids, vectors (the .npy's header now gives the row count) and BM25."""
        n = len(self.chunk_ids)
        self._write_header(n)
        self._vectors.close()
        self._literature.close()
        (self.index_dir / CHUNK_IDS).write_text(json.dumps(self.chunk_ids), encoding="utf-8")
        self.bm25.save(self.index_dir / BM25)
        log.info("index: %d chunks, %d documents", n, self.documents)
        return Assembly(self.documents, self.chunk_ids, self.dim, self._npy)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """The chunk vectors in blocks of rows (first row, rows), read from the file without mapping it."""
        width = 4 * max(self.dim, 1)
        with open(self._npy, "rb") as f:
            f.seek(self._data_at)
            for first in range(0, len(self.chunk_ids), ROWS_PER_BLOCK):
                raw = f.read(width * min(ROWS_PER_BLOCK, len(self.chunk_ids) - first))
                yield first, np.frombuffer(raw, dtype=np.float32).reshape(-1, self.dim)

    def link_references(self) -> None:
        """REFERENCES from each report entity to literature entities of its concept (the spill is read only
        when there are report entities)."""
        if not self.reports:
            return
        wanted = {c for _, _, c in self.reports}
        literature: dict[str, list[tuple[str, str]]] = defaultdict(list)
        row = {self.chunk_ids[r]: r for _, r, _ in self.reports}
        with open(self._literature_path, encoding="utf-8") as f:
            for line in f:
                cid, r, eid = line.rstrip("\n").split("\t", 2)
                if cid in wanted:
                    chunk = self.chunk_ids[int(r)]
                    literature[cid].append((eid, chunk))
                    row[chunk] = int(r)
        vectors = np.load(self.index_dir / CHUNK_VECTORS, mmap_mode="r")  # only these rows are read
        reports = [(eid, self.chunk_ids[r], cid) for eid, r, cid in self.reports]
        self.sink.add("REFERENCES", best_references(reports, literature, vectors, row))

    def summarise(self, rewrites: dict[str, dict[str, str]]) -> None:
        """Levels 1 (topics) and 2 (themes): rows into the sink, top-level files into the index folder."""
        names = {cid: self.vocab.concepts[cid].name if cid in self.vocab.concepts else cid for cid in self.linked}
        top = tags.level1(self.base, names)
        row = {c: i for i, c in enumerate(self.chunk_ids)}
        group = np.empty(len(self.chunk_ids), dtype=np.int64)
        for i, s in enumerate(top):
            group[[row[c] for c in s.chunk_ids]] = i
        del row
        norms = np.empty(len(top), dtype=np.float32)
        topic_vectors = tags.centroids(group, len(top), self.blocks, self.dim, norms=norms)
        groups, theme_vectors = tags.level2(top, topic_vectors)
        themes = [tags.theme(f"S2:{k}", [top[i] for i in g], names) for k, g in enumerate(groups)]
        rows = [(s.id, s.level, s.tags, s.text, s.size) for s in top + themes]
        tags.apply_rewrites(rows, rewrites)
        self.sink.add("Summary", rows)
        self.sink.add("CHILD_OF", [(child, s.id) for s in top + themes for child in s.children])
        files = IndexFiles(self.index_dir)
        files.save_topics(topic_index(top, topic_vectors, self.base.tag_df(), len(self.base), norms))
        files.save_themes(ThemeIndex({s.id: s.children for s in themes}, theme_vectors))

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._vectors.close()
        self._literature.close()
        self.bm25.close()
        self._tmp.cleanup()


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


def topic_index(topics: list[tags.Summary], vectors: np.ndarray, df: Counter, n: int,
                norms: np.ndarray | None = None) -> TopicIndex:
    """What U-Retrieve reads of level 1: ids, members, centroids (and the norms of the member sums they are
    the unit vectors of), and the document frequency of level-0 tags."""
    return TopicIndex(ids=[s.id for s in topics], vectors=vectors, members={s.id: s.chunk_ids for s in topics},
                      tag_df=dict(df), n=n, norms=norms)


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
