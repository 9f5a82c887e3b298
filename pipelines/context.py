"""Negation and uncertainty of mentions, ConText-style (Harkema et al., 2009).

A *trigger* phrase opens a scope: pre-triggers ("denies", "no evidence of",
"possible") cover what follows them, post-triggers ("was ruled out",
"is unlikely") what precedes them. A scope runs to the end (or start) of the
sentence unless a *terminator* ("but", "however", ";") closes it first, so
"denies chest pain but reports dyspnoea" negates only the pain.

This is the first, rule-based version: the trigger lists are short, cover
English clinical prose, and are the place to extend. Historical and
family-history context come with the vocabulary issue.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc, Span

NEGATION_PRE = (
    "no", "not", "denies", "denied", "deny", "without", "negative for", "free of", "absence of", "absent",
    "no evidence of", "no signs of", "no sign of", "no history of", "ruled out", "rules out", "never had",
    "resolved", "unremarkable for", "none",
)
NEGATION_POST = ("was ruled out", "were ruled out", "is ruled out", "has been ruled out", "was negative",
                 "were negative", "is negative", "are negative", "was absent", "were absent", "not seen",
                 "not detected", "not found")
UNCERTAIN_PRE = ("possible", "possibly", "probable", "probably", "suspected", "suspicion of", "suspicious for",
                 "questionable", "may", "might", "may have", "likely", "rule out", "r/o", "cannot exclude",
                 "cannot be excluded", "concern for", "differential diagnosis", "versus", "vs", "consistent with")
UNCERTAIN_POST = ("is suspected", "was suspected", "is possible", "is likely", "cannot be excluded",
                  "not excluded", "is questionable", "unlikely")
TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "yet", "which",
               "while", ";", ":")


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alternatives; punctuation triggers (``;``) need no word boundary."""
    alts = "|".join(rf"(?<![\w/]){re.escape(p)}(?![\w/])" if p[0].isalnum() else re.escape(p)
                    for p in sorted(phrases, key=len, reverse=True))
    return re.compile(alts, re.IGNORECASE)


_NEG_PRE, _NEG_POST = _pattern(NEGATION_PRE), _pattern(NEGATION_POST)
_UNC_PRE, _UNC_POST = _pattern(UNCERTAIN_PRE), _pattern(UNCERTAIN_POST)
_TERM = _pattern(TERMINATORS)


def _scopes(text: str, pre: re.Pattern[str], post: re.Pattern[str]) -> list[tuple[int, int]]:
    """Character scopes (relative to ``text``) covered by the triggers of one sentence."""
    terms = [m.start() for m in _TERM.finditer(text)]
    out = []
    for m in pre.finditer(text):
        end = min([t for t in terms if t >= m.end()] or [len(text)])
        out.append((m.end(), end))
    for m in post.finditer(text):
        start = max([t for t in terms if t < m.start()] or [0])
        out.append((start, m.start()))
    return out


def mark_context(doc: Doc) -> Doc:
    """Set ``span._.negated`` and ``span._.uncertain`` on every entity of ``doc``."""
    by_sent: dict[int, list[Span]] = {}
    for ent in doc.ents:
        by_sent.setdefault(ent.sent.start_char if doc.has_annotation("SENT_START") else 0, []).append(ent)
    for sent_start, ents in by_sent.items():
        sent = ents[0].sent if doc.has_annotation("SENT_START") else doc[:]
        text = sent.text
        neg = _scopes(text, _NEG_PRE, _NEG_POST)
        unc = _scopes(text, _UNC_PRE, _UNC_POST)
        for ent in ents:
            s, e = ent.start_char - sent.start_char, ent.end_char - sent.start_char
            ent._.negated = any(a <= s and e <= b for a, b in neg)
            ent._.uncertain = any(a <= s and e <= b for a, b in unc)
    return doc


for _name in ("negated", "uncertain"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=False)


@Language.component("medkg_context")
def medkg_context(doc: Doc) -> Doc:
    """spaCy component: ConText-style negation and uncertainty on ``doc.ents``."""
    return mark_context(doc)
