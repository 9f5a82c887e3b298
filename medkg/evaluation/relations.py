"""``medkg eval relations``: typed relations scored as in BioCreative V CDR (document-level concept pairs).

The CDR task scores chemical-induced-disease relations per abstract: a
prediction is a (document, chemical id, disease id) triple, however many times
and in however many sentences the abstract states it, and it is right when the
gold file lists the same triple. Precision, recall and F1 are micro-averaged
over all documents. medkg scores every relation type the same way (``CID``
lines are ``INDUCES``), overall and per type.

Only the types the dataset annotates are scored (a CDR file labels CID only, so medkg's TREATS edges are
counted apart, under ``unscored``, rather than as false positives of a type nobody annotated).

Two settings, as the task reported them:

- end to end: medkg finds, links and relates the entities itself (what a
  build stores);
- gold entities: the annotated mentions (spans and ids) are given, and only
  the relation stage is measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.evaluation.linking import Counts
from medkg.kg.records import CO_OCCURS, Document
from medkg.ontologies.curie import pubtator_curie
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.reading import GoldRelation, read_relations
from medkg.pipelines.relations.model import RelationModel
from medkg.pipelines.relations.training import annotated_texts

RelationCounts = Counts  # true and false positives and false negatives of one relation type


@dataclass
class RelationReport:
    """What ``medkg eval relations`` measured."""

    documents: int
    entities: str  # "medkg" (end to end) or "gold"
    seconds: float
    by_type: dict[str, RelationCounts] = field(default_factory=dict)
    unscored: dict[str, int] = field(default_factory=dict)  # predictions of types the dataset does not annotate

    def to_dict(self) -> dict[str, Any]:
        total = RelationCounts()
        for c in self.by_type.values():
            total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
        return {**total.scores(), "documents": self.documents, "entities": self.entities,
                "docs_per_s": round(self.documents / self.seconds, 1) if self.seconds else None,
                "types": {t: c.scores() for t, c in sorted(self.by_type.items())}, "unscored": self.unscored}


Triple = tuple[str, str, str, str]  # (document id, type, source concept, target concept)


def score(gold: Iterable[GoldRelation], predicted: Iterable[Triple], types: Iterable[str] = ()) -> dict[
        str, RelationCounts]:
    """Counts per relation type of document-level triples; ``types`` limits (and always lists) the types."""
    want = set(types)
    g = {(r.doc_id, r.type, r.source, r.target) for r in gold}
    p = set(predicted)
    if want:
        g = {t for t in g if t[1] in want}
        p = {t for t in p if t[1] in want}
    out = {t: RelationCounts() for t in want | {t[1] for t in g | p}}
    for t in p:
        if t in g:
            out[t[1]].tp += 1
        else:
            out[t[1]].fp += 1
    for t in g - p:
        out[t[1]].fn += 1
    return out


def end_to_end(documents: list[Document], gold: list[GoldRelation], extractor: Extractor,
               batch_size: int = 32) -> RelationReport:
    """Relations as a build stores them: medkg's own entities, linked, then related (typed edges only)."""
    t0 = time.perf_counter()
    predicted: set[Triple] = set()
    for i in range(0, len(documents), batch_size):
        block = documents[i : i + batch_size]
        for doc, graphs in zip(block, extractor.extract_many(block)):
            concept = {e.id: e.link.concept_id for g in graphs for e in g.entities}
            predicted |= {(doc.id, r.type, concept[r.source], concept[r.target]) for g in graphs
                          for r in g.relations if r.type != CO_OCCURS}
    seconds = time.perf_counter() - t0
    return _report(len(documents), "medkg", seconds, gold, predicted)


def gold_entities(path: Path, model: RelationModel, limit: int = 0) -> RelationReport:
    """Relations from the annotated mentions of a PubTator file: the relation stage alone."""
    texts = annotated_texts(path)[: limit or None]
    keep = {t.doc_id for t in texts}
    t0 = time.perf_counter()
    predicted = {(t.doc_id, r.type, _curie(r.chemical_id), _curie(r.disease_id))
                 for t, found in zip(texts, model.extract(texts)) for r in found if not r.negated}
    seconds = time.perf_counter() - t0
    gold = [r for r in read_relations(path) if r.doc_id in keep]
    return _report(len(texts), "gold", seconds, gold, predicted)


def _report(documents: int, entities: str, seconds: float, gold: list[GoldRelation], predicted: set[Triple]
            ) -> RelationReport:
    """Scores of the types the gold annotates; the others' predictions counted apart."""
    annotated = {r.type for r in gold}
    unscored: dict[str, int] = {}
    for t in predicted:
        if t[1] not in annotated:
            unscored[t[1]] = unscored.get(t[1], 0) + 1
    return RelationReport(documents, entities, seconds, score(gold, predicted, annotated) if annotated else {},
                          unscored)


def _curie(mesh_or_curie: str) -> str:
    return pubtator_curie(mesh_or_curie) or mesh_or_curie
