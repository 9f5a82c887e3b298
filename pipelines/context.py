"""Negation, uncertainty, history and experiencer of mentions, ConText-style (Harkema et al., 2009).

A *trigger* phrase opens a scope: pre-triggers ("denies", "no evidence of",
"possible") cover what follows them, post-triggers ("was ruled out",
"is unlikely") what precedes them. A scope runs to the end (or start) of the
sentence unless a *terminator* ("but", "however", ";") closes it first, so
"denies chest pain but reports dyspnoea" negates only the pain.

Four flags, as ConText defines them:

- ``negated``: "denies chest pain", "pneumonia was ruled out";
- ``uncertain``: "possible pneumonia", "appendicitis is suspected";
- ``historical``: "history of myocardial infarction", "status post
  appendectomy", or anything under a past-history heading (``PAST MEDICAL
  HISTORY:``, ``PMH:``); "no history of" is a negation and "family history
  of" an experiencer, neither a history of the patient;
- ``family`` (experiencer other than the patient): "mother had breast cancer",
  "family history of diabetes", or anything under ``FAMILY HISTORY:``.

Headings are found in the document text (an upper-case line start ending in a
colon) and cover everything up to the next heading, which is how clinical
notes are laid out. The trigger lists are short, cover English clinical prose,
and are the place to extend.
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
HISTORICAL_PRE = ("history of", "h/o", "hx of", "past history of", "previous", "previously", "prior", "status post",
                  "s/p", "in the past", "remote")
HISTORICAL_POST = ("in the past", "years ago", "months ago", "as a child", "in childhood")
FAMILY_PRE = ("family history of", "family history", "mother", "father", "sister", "brother", "sibling", "siblings",
              "parents", "grandmother", "grandfather", "aunt", "uncle", "cousin", "maternal", "paternal", "daughter",
              "son")
FAMILY_POST = ("in the family", "runs in the family", "in his family", "in her family")
HEADING_RE = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{1,40}):", re.MULTILINE)
TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "yet", "which",
               "while", ";", ":")


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alternatives; punctuation triggers (``;``) need no word boundary."""
    alts = "|".join(rf"(?<![\w/]){re.escape(p)}(?![\w/])" if p[0].isalnum() else re.escape(p)
                    for p in sorted(phrases, key=len, reverse=True))
    return re.compile(alts, re.IGNORECASE)


_NEG_PRE, _NEG_POST = _pattern(NEGATION_PRE), _pattern(NEGATION_POST)
_UNC_PRE, _UNC_POST = _pattern(UNCERTAIN_PRE), _pattern(UNCERTAIN_POST)
_HIST_PRE, _HIST_POST = _pattern(HISTORICAL_PRE), _pattern(HISTORICAL_POST)
_FAM_PRE, _FAM_POST = _pattern(FAMILY_PRE), _pattern(FAMILY_POST)
_TERM = _pattern(TERMINATORS)
FLAGS = ("negated", "uncertain", "historical", "family")


def heading_regions(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, flag)`` for document regions under a family- or past-history heading."""
    heads = [(m.start(), m.group(1).upper()) for m in HEADING_RE.finditer(text)]
    out = []
    for i, (start, head) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if "FAMILY" in head or head in ("FH", "FHX"):
            out.append((start, end, "family"))
        elif "PAST" in head or head in ("PMH", "PSH", "MEDICAL HISTORY", "SURGICAL HISTORY"):
            out.append((start, end, "historical"))
    return out


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
    """Set ``span._.negated``, ``uncertain``, ``historical`` and ``family`` on every entity of ``doc``."""
    regions = heading_regions(doc.text)
    by_sent: dict[int, list[Span]] = {}
    for ent in doc.ents:
        by_sent.setdefault(ent.sent.start_char if doc.has_annotation("SENT_START") else 0, []).append(ent)
    for sent_start, ents in by_sent.items():
        sent = ents[0].sent if doc.has_annotation("SENT_START") else doc[:]
        text = sent.text
        scopes = {"negated": _scopes(text, _NEG_PRE, _NEG_POST), "uncertain": _scopes(text, _UNC_PRE, _UNC_POST),
                  "historical": _scopes(text, _HIST_PRE, _HIST_POST), "family": _scopes(text, _FAM_PRE, _FAM_POST)}
        for ent in ents:
            s, e = ent.start_char - sent.start_char, ent.end_char - sent.start_char
            for flag, found in scopes.items():
                inside = any(a <= s and e <= b for a, b in found)
                under = any(a <= ent.start_char and ent.end_char <= b for a, b, f in regions if f == flag)
                setattr(ent._, flag, inside or under)
            if ent._.negated or ent._.family:
                ent._.historical = False  # "no history of X" never happened; "family history of X" is not the patient's
    return doc


for _name in FLAGS:
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=False)


@Language.component("medkg_context")
def medkg_context(doc: Doc) -> Doc:
    """spaCy component: ConText-style negation, uncertainty, history and experiencer on ``doc.ents``."""
    return mark_context(doc)
