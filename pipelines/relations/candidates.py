"""Candidate generation: every (chemical, disease) concept pair of a document, with its mention pairs.

All chemical x disease concept pairs of an abstract are candidates (BioCreative V CID
relations are document level, and a quarter of them are never stated inside one
sentence).  Each concept pair carries mention pairs as evidence candidates:

* every pair of mentions that share a sentence, and
* for each chemical mention, the nearest mention of the disease in another sentence
  within ``max_sentence_gap`` sentences (and the reverse), so cross-sentence statements
  ("X was given. Y developed ...") have evidence too;
* failing both, the single nearest mention pair, so every candidate has evidence.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from medkg.pipelines.relations.records import CHEMICAL, DISEASE, AnnotatedText, EntityMention
from medkg.pipelines.relations.text import sentence_index, split_sentences, token_spans

MAX_SENTENCE_GAP = 3


#: A token: (start, end, lower-cased text); plain tuples, as thousands are made per abstract.
Token = tuple[int, int, str]


@dataclass(slots=True)
class DocContext:
    """A document prepared once: sentences, tokens per sentence, mentions per concept."""

    doc: AnnotatedText
    text: str
    sentences: list[tuple[int, int]]
    mention_sentence: list[int]  # sentence index of each mention of ``doc.mentions``
    chemicals: dict[str, list[int]]  # concept id -> mention indices (document order)
    diseases: dict[str, list[int]]
    memo: dict[str, object] = field(default_factory=dict)  # derived per-document data, computed once
    by_sentence: dict[int, list[int]] | None = None  # sentence -> mention indices, built on first use

    def sentence_tokens(self, sent: int) -> list[Token]:
        """Tokens of one sentence (tokenised on demand: most sentences hold no candidate)."""
        s, e = self.sentences[sent]
        return token_spans(self.text, s, e)

    def sentence_mentions(self, sent: int) -> list[int]:
        """Indices of the mentions in sentence ``sent``."""
        if self.by_sentence is None:
            self.by_sentence = {}
            for i, si in enumerate(self.mention_sentence):
                self.by_sentence.setdefault(si, []).append(i)
        return self.by_sentence.get(sent, [])


@dataclass(frozen=True, slots=True)
class MentionPair:
    chem: int  # index into doc.mentions
    dis: int
    chem_sent: int
    dis_sent: int

    @property
    def same_sentence(self) -> bool:
        return self.chem_sent == self.dis_sent


@dataclass(slots=True)
class ConceptPair:
    """One candidate relation: a chemical and a disease concept of one document."""

    ctx: DocContext
    chemical: str
    disease: str
    mention_pairs: list[MentionPair] = field(default_factory=list)
    label: bool | None = None


def prepare(doc: AnnotatedText, sentences: Sequence[tuple[int, int]] | None = None) -> DocContext:
    """Split and tokenise a document (or reuse the caller's sentence spans)."""
    text = doc.text
    protected = [(m.start, m.end) for m in doc.mentions]
    spans = list(sentences) if sentences else split_sentences(text, doc.title_end, protected)
    msent = [sentence_index(spans, m.start) for m in doc.mentions]
    chems: dict[str, list[int]] = {}
    dises: dict[str, list[int]] = {}
    for i, m in enumerate(doc.mentions):
        target = chems if m.type == CHEMICAL else dises if m.type == DISEASE else None
        if target is None:
            continue
        for cid in m.ids:
            target.setdefault(cid, []).append(i)
    return DocContext(doc, text, spans, msent, chems, dises)


def _nearest_other_sentence(sents: list[int], own: int) -> int:
    """The sentence in sorted ``sents`` nearest to ``own`` but different from it (-1 if none)."""
    i = bisect.bisect_left(sents, own)
    lo = i - 1
    hi = bisect.bisect_right(sents, own)
    best = -1
    if lo >= 0:
        best = sents[lo]
    if hi < len(sents) and (best < 0 or sents[hi] - own < own - best):
        best = sents[hi]
    return best


def _mention_pairs(ctx: DocContext, chem_idx: list[int], dis_idx: list[int],
                   max_gap: int, cross_with_same: bool = True) -> list[MentionPair]:
    ms = ctx.mention_sentence
    same = [MentionPair(c, d, ms[c], ms[d]) for c in chem_idx for d in dis_idx if ms[c] == ms[d]]
    cross: dict[tuple[int, int], MentionPair] = {}
    for src, others, chem_first in ((chem_idx, dis_idx, True), (dis_idx, chem_idx, False)):
        if same and not cross_with_same:
            break
        by_sent: dict[int, int] = {}
        for b in others:  # first mention of ``others`` in each sentence
            by_sent.setdefault(ms[b], b)
        sents = sorted(by_sent)
        for a in src:
            near = _nearest_other_sentence(sents, ms[a])
            if near < 0 or abs(near - ms[a]) > max_gap:
                continue
            c, d = (a, by_sent[near]) if chem_first else (by_sent[near], a)
            cross[(c, d)] = MentionPair(c, d, ms[c], ms[d])
    if not same and not cross:  # far apart: keep the nearest pair so every candidate has evidence
        c, d = min(((c, d) for c in chem_idx for d in dis_idx), key=lambda p: (abs(ms[p[0]] - ms[p[1]]), p))
        return [MentionPair(c, d, ms[c], ms[d])]
    return same + sorted(cross.values(), key=lambda p: (p.chem, p.dis))


def generate_candidates(ctx: DocContext, max_gap: int = MAX_SENTENCE_GAP,
                        cross_with_same: bool = True) -> list[ConceptPair]:
    """All chemical x disease concept pairs of the document, with gold labels when known.

    With ``cross_with_same`` off, pairs that share a sentence get no cross-sentence mention pairs.
    """
    gold = ctx.doc.relations
    out: list[ConceptPair] = []
    for chem, cidx in ctx.chemicals.items():
        for dis, didx in ctx.diseases.items():
            pairs = _mention_pairs(ctx, cidx, didx, max_gap, cross_with_same)
            label = (chem, dis) in gold if gold else False
            out.append(ConceptPair(ctx, chem, dis, pairs, label))
    return out


def mention(ctx: DocContext, i: int) -> EntityMention:
    return ctx.doc.mentions[i]
