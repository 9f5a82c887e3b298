"""Inference: typed relations of documents as records with evidence spans and flags."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from medkg.pipelines.relations.candidates import DocContext, MentionPair
from medkg.pipelines.relations.classifier import RelationClassifier
from medkg.pipelines.relations.cues import is_negated
from medkg.pipelines.relations.features import Collapsed, PairInstance, collapse
from medkg.pipelines.relations.records import AnnotatedText, ConceptRelation

log = logging.getLogger(__name__)

def _mention_negated(ctx: DocContext, mp: MentionPair, cache: dict[int, Collapsed]) -> bool:
    """A same-sentence pair with a negation cue between (or just before) its mentions.

    Cross-sentence pairs are never called negated: their link is too loose to scope a cue.
    """
    if not mp.same_sentence:
        return False
    col = collapse(ctx, mp.chem_sent, cache)
    first, last = sorted((col.pos[mp.chem], col.pos[mp.dis]))
    return is_negated(col.raw, first, last)


def _evidence(inst: PairInstance, logits: Sequence[float],
              cache: dict[int, Collapsed]) -> tuple[MentionPair, bool]:
    """The best-scoring mention pair that is not negated, or the best one flagged as negated."""
    ranked = sorted(range(len(logits)), key=lambda k: -logits[k])
    ctx = inst.pair.ctx
    for k in ranked:
        mp = inst.pair.mention_pairs[k]
        if not _mention_negated(ctx, mp, cache):
            return mp, False
    return inst.pair.mention_pairs[ranked[0]], True


def _record(inst: PairInstance, prob: float, mp: MentionPair, negated: bool, cache: dict[int, Collapsed],
            clf: RelationClassifier) -> ConceptRelation:
    ctx = inst.pair.ctx
    lo, hi = sorted((mp.chem_sent, mp.dis_sent))
    start, end = ctx.sentences[lo][0], ctx.sentences[hi][1]
    speculative = any(collapse(ctx, s, cache).spec for s in {lo, hi})
    mentions = ctx.doc.mentions
    return ConceptRelation(doc_id=ctx.doc.doc_id, chemical_id=inst.pair.chemical, disease_id=inst.pair.disease,
                           type=clf.relation_type, score=round(prob, 4), method=clf.method, start=start, end=end,
                           chemical_at=mentions[mp.chem].start, disease_at=mentions[mp.dis].start,
                           negated=negated, speculative=speculative)


def extract_relations(doc: AnnotatedText, clf: RelationClassifier, sentences: list[tuple[int, int]] | None = None,
                      threshold: float | None = None, keep_negated: bool = False,
                      at_least_one: bool = False) -> list[ConceptRelation]:
    """CID relations of one document, best first.

    ``sentences`` are the caller's sentence spans (the title must be sentence 0); by default the
    document is split here.  Pairs scoring at least ``threshold`` (the model's own by default)
    are returned; a pair whose every statement is negated is dropped unless ``keep_negated``,
    in which case it comes back with ``negated=True`` (never an asserted relation).
    ``at_least_one`` also returns the best pair when none reaches the threshold: every
    BioCreative CDR abstract holds a CID relation, arbitrary abstracts need not, so it is off
    by default.
    """
    return extract_batch([doc], clf, [sentences] if sentences else None, threshold, keep_negated,
                         at_least_one)[0]


def extract_batch(docs: Sequence[AnnotatedText], clf: RelationClassifier,
                  sentences: Sequence[list[tuple[int, int]] | None] | None = None,
                  threshold: float | None = None, keep_negated: bool = False,
                  at_least_one: bool = False, instances: list[list[PairInstance]] | None = None
                  ) -> list[list[ConceptRelation]]:
    """:func:`extract_relations` for a batch of documents (one list of records per document);
    cheaper per document than one call each, as the trees score the whole batch at once.

    ``instances`` are the documents' candidates with their features when the caller made them already (the
    classifiers of one model share them when their feature settings are the same).
    """
    t = clf.threshold if threshold is None else threshold
    spans = sentences if sentences is not None else [None] * len(docs)
    batch = instances if instances is not None else [clf.instances(d, s) for d, s in zip(docs, spans)]
    scored = clf.score_batch(batch)
    return [_records(insts, probs, logits, t, keep_negated, at_least_one, clf)
            for insts, (probs, logits) in zip(batch, scored)]


def _records(insts: list[PairInstance], probs: list[float], logits: list[list[float]], t: float,
             keep_negated: bool, at_least_one: bool, clf: RelationClassifier) -> list[ConceptRelation]:
    if not insts:
        return []
    cache: dict[int, Collapsed] = insts[0].pair.ctx.memo.setdefault("collapsed", {})  # type: ignore[assignment]
    if at_least_one and max(probs) < t:
        t = max(probs)
    out: list[ConceptRelation] = []
    for inst, p, z in zip(insts, probs, logits):
        if p < t or not inst.pair.mention_pairs:
            continue
        mp, negated = _evidence(inst, z, cache)
        if negated and not keep_negated:
            continue
        out.append(_record(inst, p, mp, negated, cache, clf))
    out.sort(key=lambda r: -r.score)
    return out


def extract_all(docs: Iterable[AnnotatedText], clf: RelationClassifier, batch_size: int = 64,
                **kwargs: object) -> list[ConceptRelation]:
    """Relations of many documents, flattened (see :func:`extract_batch`)."""
    out: list[ConceptRelation] = []
    chunk: list[AnnotatedText] = []
    for d in docs:
        chunk.append(d)
        if len(chunk) == batch_size:
            out += [r for recs in extract_batch(chunk, clf, **kwargs) for r in recs]  # type: ignore[arg-type]
            chunk = []
    if chunk:
        out += [r for recs in extract_batch(chunk, clf, **kwargs) for r in recs]  # type: ignore[arg-type]
    return out
