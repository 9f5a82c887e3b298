"""``GraphBatch``: rows for every table, staged by the build and loaded by a store.

Rows are tuples in the column order of :mod:`medkg.kg.schema`; relationship
rows start with the source and target keys. ``from_chunk_graphs`` is the one
place that maps pipeline records onto the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from medkg.kg.records import ChunkGraph, Document
from medkg.kg.schema import NODE_TABLES, REL_TABLES
from medkg.ontologies.concept import Concept


@dataclass
class GraphBatch:
    """Rows for every node and edge table, as tuples in schema column order, ready for a store to load."""

    nodes: dict[str, list[tuple]] = field(default_factory=lambda: {t.name: [] for t in NODE_TABLES})
    rels: dict[str, list[tuple]] = field(default_factory=lambda: {t.name: [] for t in REL_TABLES})

    def add_document(self, doc: Document, graphs: list[ChunkGraph]) -> None:
        self.nodes["Document"].append((doc.id, doc.tier, doc.kind, doc.title, doc.source, doc.date, doc.sha256,
                                       doc.pmid))
        prev = None
        for g in graphs:
            c = g.chunk
            self.nodes["Chunk"].append((c.id, c.doc_id, c.tier, c.ordinal, c.start, c.end, c.section, c.text))
            self.rels["HAS_CHUNK"].append((doc.id, c.id))
            if prev is not None:
                self.rels["NEXT"].append((prev, c.id))
            prev = c.id
            for e in g.entities:
                self.nodes["Entity"].append((e.id, e.name, e.semantic_group, e.tier, e.chunk_id, e.link.concept_id,
                                             e.negated, e.uncertain, e.historical, e.family))
                self.rels["IS_A"].append((e.id, e.link.concept_id, e.link.score, e.link.method,
                                          list(e.link.alternatives)))
                for m in e.mentions:
                    self.rels["MENTIONS"].append((c.id, e.id, m.start, m.end, m.text))
            for r in g.relations:
                self.rels["RELATED"].append((r.source, r.target, r.type, r.chunk_id, r.start, r.end, r.score,
                                             r.method, r.negated, r.speculative))

    def add_concepts(self, concepts: Iterable[Concept]) -> None:
        for c in concepts:
            self.nodes["Concept"].append((c.id, c.vocab, c.name, list(c.synonyms), list(c.semantic_types),
                                          c.definition, list(c.tree_numbers), c.vocab_version))
            for p in c.parents:
                self.rels["BROADER"].append((c.id, p))
            for m in c.mappings:
                self.rels["MAPS_TO"].append((c.id, m, c.vocab))

    def counts(self) -> dict[str, int]:
        return {**{k: len(v) for k, v in self.nodes.items()}, **{k: len(v) for k, v in self.rels.items()}}
