"""From the relation model's concept-level relations to ``RELATED`` edges between a document's entities.

Entities are per chunk (one meta-graph each), relations per document: an ``INDUCES`` or ``TREATS`` relation
becomes one edge from the entity holding the chemical mention that states it best to the entity holding the
disease mention, which may sit in another chunk of the same document. The edge carries the model's score and
method, the evidence span (document offsets of the sentence or sentences) and the speculation flag; it is
stored with the chunk where the evidence starts. A relation the text states only as negated never gets here
(the model does not assert it).
"""

from __future__ import annotations

from bisect import bisect_right

from medkg.kg.records import ChunkGraph, Entity, Relation
from medkg.pipelines.relations.records import ConceptRelation


def typed_relations(graphs: list[ChunkGraph], found: list[ConceptRelation]) -> None:
    """Add an edge per relation of ``found`` to the chunk graph of its evidence (see the module docstring)."""
    if not found or not graphs:
        return
    entity_at: dict[int, Entity] = {m.start: e for g in graphs for e in g.entities for m in e.mentions}
    starts = [g.chunk.start for g in graphs]
    seen: set[tuple[str, str, str]] = set()
    for r in found:
        if r.negated:
            continue
        source, target = entity_at.get(r.chemical_at), entity_at.get(r.disease_at)
        if source is None or target is None or (source.id, target.id, r.type) in seen:
            continue  # a mention the extractor dropped (across a chunk boundary); or a pair already related
        seen.add((source.id, target.id, r.type))
        graph = graphs[max(bisect_right(starts, r.start) - 1, 0)]
        graph.relations.append(Relation(source=source.id, target=target.id, type=r.type, chunk_id=graph.chunk.id,
                                        start=r.start, end=r.end, score=r.score, method=r.method,
                                        speculative=r.speculative))
