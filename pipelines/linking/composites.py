"""spaCy component ``medkg_composites``: coordinated names that share one head are one mention.

"breast or ovarian cancer", "Subarachnoid and cerebral hemorrhage", "aortic or mitral regurgitation": both
BC5CDR and NCBI-disease annotate such a coordination as one disease mention, from the first conjunct to the
shared head, and link it to the concepts it names (each id counts). The NER model usually marks only the last
conjunct with the head ("ovarian cancer"), which then scores as a wrong span, and the conjuncts before it go
unmarked.

A disease mention preceded by a list of conjuncts (``X and``, ``X or``, ``X and/or``, ``X, Y, and``, ``X/``)
takes them in when *every* conjunct is a modifier of the head, which the vocabulary decides: the conjunct put
in place of the mention's first word, or before the whole mention, must spell a term of the mention's group
("breast cancer", "optic neuropathy" for "optic and peripheral neuropathy") while the conjunct alone must not
(then it is a disease of its own: "nausea and vomiting", "ataxia-telangiectasia and Li-Fraumeni syndrome" are
two mentions each). "efficacy and toxicity" or "arthritis and sexual dysfunction" spell no such term and are
left alone.

The extended mention keeps the link of the mention it grew from (one of the ids the corpora give such a
span). A chemical or disease mention among the conjuncts ("cocaine or amphetamine abuse") blocks the
extension, since mentions may not overlap; other mentions there (the anatomy term "breast") give way.

A disease's short form followed by "syndrome" or "disease" takes that word in ("HPT-JT syndrome"), as the
training splits mark it seven times of seven: NCBI-disease dev span F1 +0.003, held-out tenth +0.002.

Measured on the dev splits (strict span + id F1): BC5CDR 0.8364 -> 0.8372, NCBI-disease 0.7654 -> 0.7718;
held-out tenth of the training splits 0.8437 -> 0.8437 and 0.7898 -> 0.7919; the training documents
themselves gain too (0.9608 -> 0.9611, 0.9368 -> 0.9381), where the model has learnt most of them.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from medkg.pipelines.linking.choose import in_group
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.text.tokenizer import doc_text

COMPOSITE_GROUPS = ("DISO",)
NER_GROUPS = ("CHEM", "DISO")
# the conjunct list right before a mention: "X, Y, and " / "X or " / "X and/or " / "X/"
_CONJUNCTS = re.compile(r"((?:[A-Za-z][\w'-]*,\s)*)([A-Za-z][\w'-]*),?\s(?:and/or|and|or)\s$|([A-Za-z][\w'-]*)/$")
_LOOK_BACK = 100  # characters


class CompositeMentions:
    """spaCy component: coordinated names that share one head become one mention (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, groups: tuple[str, ...] = COMPOSITE_GROUPS) -> None:
        self.lexicon = lexicon
        self.groups = groups

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        text = doc_text(doc)
        for ent in [e for e in ents if e.label_ in self.groups]:
            start = self._composite_start(text, ent)
            if start is None:
                continue
            end = ent._.char_span[1]
            before = [e for e in ents if e is not ent and e._.char_span[0] < ent._.char_span[0]
                      and start < e._.char_span[1]]
            if any(e.label_ in NER_GROUPS for e in before):
                continue
            span = doc.char_span(start, end, label=ent.label_, alignment_mode="expand")
            if span is None:
                continue
            span._.link, span._.char_span = ent._.link, (start, end)
            ents = [span if e is ent else e for e in ents if not any(e is b for b in before)]
        doc.ents = [_with_head(doc, text, e) for e in ents]
        return doc

    def _composite_start(self, text: str, ent: Span) -> int | None:
        """Where the coordination ending in ``ent`` begins, or None when ``ent`` is not its last conjunct."""
        start = ent._.char_span[0]
        before = text[max(0, start - _LOOK_BACK):start]
        found = _CONJUNCTS.search(before)
        if found is None:
            return None
        if found.group(3):
            conjuncts = [found.group(3)]
        else:
            conjuncts = [c for c in found.group(1).split(", ") if c] + [found.group(2)]
            conjuncts = [c.rstrip(",") for c in conjuncts]
        name = text[start:ent._.char_span[1]]
        if not all(self._modifies(c, name, ent.label_) for c in conjuncts):
            return None
        return start - len(before) + found.start()

    def _modifies(self, conjunct: str, name: str, group: str) -> bool:
        if self._names(conjunct, group):
            return False
        words = name.split()
        readings = [f"{conjunct} {name}"] + ([f"{conjunct} {' '.join(words[1:])}"] if len(words) > 1 else [])
        return any(self._names(r, group) for r in readings)

    def _names(self, text: str, group: str) -> bool:
        """Whether ``text`` is a term of a concept of ``group``."""
        found = self.lexicon.lookup(text)
        return found is not None and in_group(found[0], self.lexicon, group)


# a short form and the word that makes it a disease's name: "HPT-JT syndrome", "MJD disease"
_SHORT_FORM = re.compile(r"[A-Z][A-Z0-9-]{1,9}")
_HEAD_AFTER = re.compile(r" (?:syndrome|disease)s?\b")


def _with_head(doc: Doc, text: str, ent: Span) -> Span:
    """A disease short form with the "syndrome" or "disease" after it, as both corpora mark it.

    ``text`` is ``doc.text``, passed in: ``Doc.text`` joins every token on each call."""
    if ent.label_ != "DISO":
        return ent
    start, end = ent._.char_span
    head = _HEAD_AFTER.match(text, end)
    if head is None or not _SHORT_FORM.fullmatch(text, start, end):
        return ent
    span = doc.char_span(start, head.end(), label=ent.label_, alignment_mode="expand")
    if span is None or any(t.ent_iob_ != "O" for t in doc[ent.end : span.end]):
        return ent
    span._.link, span._.char_span = ent._.link, (start, head.end())
    return span
