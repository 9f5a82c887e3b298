"""``medkg eval linking``: mention finding and concept linking scored on PubTator gold.

Three levels, each as precision, recall and F1, overall and per entity type:

- ``mention``: strict span and entity type (the NER view: start, end and type
  must all equal a gold mention's);
- ``concept`` (the headline figure, the top-level ``precision``/``recall``/``f1``
  of ``--json``): strict span, type and concept id; a gold mention may carry
  several ids (composite mentions such as "breast and ovarian cancer" carry
  ``D001943|D010051``), and a prediction with any of them counts;
- ``document``: the set of ``(type, concept id)`` per document, as the
  BioCreative V CDR disease-NER task scores it; mentions without an id (``-1``)
  take no part.

Entity types: BC5CDR's ``Chemical`` and ``Disease``; NCBI-disease's four classes
(``SpecificDisease``, ``DiseaseClass``, ``Modifier``, ``CompositeMention``) are
all ``Disease``. Predicted mentions are typed by semantic group (DISO ->
Disease, CHEM -> Chemical); a prediction of a type the gold file never uses
(chemicals on NCBI-disease) is not scored, because the corpus did not annotate
it. Gold ids are made CURIEs: bare MeSH ids become ``MESH:D...``/``MESH:C...``,
``OMIM:...`` stays as it is (the bundled MeSH cannot produce it, so such mentions
count as misses until an OMIM-mapped vocabulary is loaded).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from medkg.kg.records import Document, Mention
from medkg.pipelines.reading import GROUP_TYPES, GoldMention

log = logging.getLogger(__name__)

@dataclass
class Counts:
    """True positives, false positives and false negatives, with precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class LinkingReport:
    """What ``medkg eval linking`` measured, per level (mentions, links, documents) and type."""

    documents: int
    gold_mentions: int
    predicted_mentions: int
    seconds: float
    levels: dict[str, dict[str, Counts]] = field(default_factory=dict)  # level -> type ("all") -> counts
    # gold mentions whose ids no loaded vocabulary has, and how many of them were found with the right span
    outside_vocabulary: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.levels["concept"]["all"].scores())
        out.update(documents=self.documents, gold_mentions=self.gold_mentions,
                   predicted_mentions=self.predicted_mentions, seconds=round(self.seconds, 2),
                   docs_per_s=round(self.documents / self.seconds, 1) if self.seconds else None)
        out["levels"] = {level: {t: c.scores() for t, c in by_type.items()} for level, by_type in self.levels.items()}
        if self.outside_vocabulary is not None:
            out["outside_vocabulary"] = dict(self.outside_vocabulary)
        return out


def outside_vocabulary(gold: Iterable[GoldMention], predicted: Iterable[tuple[str, Mention]],
                       known: Callable[[str], bool]) -> dict[str, int]:
    """Gold mentions with ids none of which ``known`` accepts, and how many a prediction has in span and type.

    No link can be right for them: a corpus annotated with an older MeSH uses ids MeSH has since replaced
    (BC5CDR's remifentanil, C071741, is descriptor D000077208 now). Counted apart, so a report can say how much
    of the error is the vocabulary's version rather than the pipeline.
    """
    spans = {(doc_id, m.start, m.end, GROUP_TYPES.get(m.semantic_group)) for doc_id, m in predicted}
    lacking = [g for g in gold if g.ids and not any(known(i) for i in g.ids)]
    return {"gold_mentions": len(lacking),
            "span_found": sum((g.doc_id, g.start, g.end, g.type) in spans for g in lacking)}


def score(gold: Iterable[GoldMention], predicted: Iterable[tuple[str, Mention]],
          equivalents: Callable[[str], Iterable[str]] = lambda cid: ()) -> dict[str, dict[str, Counts]]:
    """Counts per level and type from gold mentions and ``(doc_id, mention)`` predictions.

    ``equivalents(concept_id)`` names ids that count as the same concept (a
    MONDO or DOID term's MeSH and OMIM xrefs), so a link to another vocabulary
    is scored against gold written in MeSH/OMIM ids.
    """
    gold = list(gold)
    types = sorted({g.type for g in gold})
    gold_spans = {(g.doc_id, g.start, g.end, g.type): g.ids for g in gold}
    pred_spans: dict[tuple[str, int, int, str], frozenset[str]] = {}
    for doc_id, m in predicted:
        etype = GROUP_TYPES.get(m.semantic_group)
        if etype in types:
            cid = m.link.concept_id
            pred_spans.setdefault((doc_id, m.start, m.end, etype), frozenset({cid, *equivalents(cid)}))
    levels: dict[str, dict[str, Counts]] = {lv: {t: Counts() for t in ["all", *types]}
                                            for lv in ("mention", "concept", "document")}

    def add(level: str, etype: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        for key in ("all", etype):
            c = levels[level][key]
            c.tp, c.fp, c.fn = c.tp + tp, c.fp + fp, c.fn + fn

    for key, cids in pred_spans.items():
        ids = gold_spans.get(key)
        add("mention", key[3], tp=int(ids is not None), fp=int(ids is None))
        add("concept", key[3], tp=int(bool(ids and ids & cids)), fp=int(not (ids and ids & cids)))
    for key, ids in gold_spans.items():
        add("mention", key[3], fn=int(key not in pred_spans))
        add("concept", key[3], fn=int(not ids & pred_spans.get(key, frozenset())))
    gold_docs = {(g.doc_id, g.type, i) for g in gold for i in g.ids}
    found: set[tuple[str, str, str]] = set()
    for doc_id, etype, cids in {(k[0], k[3], cids) for k, cids in pred_spans.items()}:
        hits = {(doc_id, etype, i) for i in cids} & gold_docs
        found |= hits
        add("document", etype, tp=int(bool(hits)), fp=int(not hits))
    for item in gold_docs - found:
        add("document", item[1], fn=1)
    return levels


def evaluate(documents: list[Document], gold: list[GoldMention], mentions: Callable[[list[str]], list[list[Mention]]],
             equivalents: Callable[[str], Iterable[str]] = lambda cid: (),
             known: Callable[[str], bool] | None = None) -> LinkingReport:
    """Run ``mentions`` (texts -> linked mentions of each) over every document and score it.

    With ``known`` (whether the loaded vocabularies have a concept id) the report also counts the gold mentions
    no link could get right (:func:`outside_vocabulary`).
    """
    t0 = time.perf_counter()
    predicted = [(d.id, m) for d, found in zip(documents, mentions([d.text for d in documents])) for m in found]
    seconds = time.perf_counter() - t0
    log.info("linked %d documents in %.1f s", len(documents), seconds)
    return LinkingReport(documents=len(documents), gold_mentions=len(gold), predicted_mentions=len(predicted),
                         seconds=seconds, levels=score(gold, predicted, equivalents),
                         outside_vocabulary=None if known is None else outside_vocabulary(gold, predicted, known))
