"""Relations inside one meta-graph: sentence-level co-occurrence.

Two entities named in the same sentence of a chunk are related; the evidence
span is that sentence and the score falls with the distance between the two
mentions (1.0 when adjacent, about 0.5 at 100 characters apart); two links of one span
(:mod:`medkg.pipelines.linking.coded_as`) are not related. Typed
relations (treats, causes, ...) refine this later; ``method`` tells which
produced an edge, so both can live in one graph.
"""

from __future__ import annotations

from medkg.kg.records import Entity, Relation


def cooccurrence_relations(entities: list[Entity], sentences: list[tuple[int, int]],
                           max_pairs_per_sentence: int = 45) -> list[Relation]:
    by_sentence: dict[int, list[tuple[int, Entity]]] = {}
    for ent in entities:
        for m in ent.mentions:
            by_sentence.setdefault(m.sentence, []).append((m.start, ent))
    out: dict[tuple[str, str], Relation] = {}
    for sent_idx, items in sorted(by_sentence.items()):
        items.sort(key=lambda x: x[0])
        s_start, s_end = sentences[sent_idx]
        n = 0
        for i, (pos_a, a) in enumerate(items):
            for pos_b, b in items[i + 1 :]:
                # one span's two links (a concept and what coders file it under) are no two things named
                if a.id == b.id or pos_a == pos_b or (a.id, b.id) in out or (b.id, a.id) in out:
                    continue
                score = round(100.0 / (100.0 + (pos_b - pos_a)), 3)
                out[(a.id, b.id)] = Relation(source=a.id, target=b.id, type="co_occurs", chunk_id=a.chunk_id,
                                             start=s_start, end=s_end, score=score, method="sentence_cooccurrence")
                n += 1
                if n >= max_pairs_per_sentence:
                    break
            if n >= max_pairs_per_sentence:
                break
    return list(out.values())
