"""Negation, uncertainty, history and experiencer of mentions, ConText-style (Harkema et al., 2009).

A *trigger* phrase opens a scope: pre-triggers ("denies", "no evidence of",
"possible") cover what follows them, post-triggers ("was ruled out",
"is unlikely") what precedes them. A scope runs to the end (or start) of the
sentence unless a *terminator* ("but", "however", ";") closes it first, so
"denies chest pain but reports dyspnoea" negates only the pain.

Four flags, as ConText defines them:

- ``negated``: "denies chest pain", "pneumonia was ruled out";
- ``uncertain``: "possible pneumonia", "appendicitis is suspected"; not
  "consistent with", the phrase of the highest certainty (over 90%) on the
  diagnostic certainty scale for radiology reports (Shinagare et al., J Am
  Coll Radiol 2019), where "suspicious for"/"probably" stand at about 75% and
  "possibly" at 50%;
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
from bisect import bisect_right

from spacy.tokens import Doc, Span

from medkg.kg.records import Section
from medkg.pipelines.text.sections import QUESTION_SECTIONS
from medkg.pipelines.text.tokenizer import doc_text

NEGATION_PRE = (
    "no", "not", "denies", "denied", "deny", "without", "negative for", "free of", "absence of", "absent",
    "no evidence of", "no signs of", "no sign of", "no history of", "ruled out", "rules out", "never had",
    "resolved", "unremarkable for", "none",
    # clinical phrasing (radiology and notes): "the lungs are clear of effusion", "no acute cardiopulmonary
    # abnormality", "negative for", "no definite", "without evidence of"
    "clear of", "no acute", "no definite", "no focal", "no new", "no visible", "no obvious", "no significant",
    "without evidence of", "removed", "no longer",
)
NEGATION_POST = ("was ruled out", "were ruled out", "is ruled out", "has been ruled out", "was negative",
                 "were negative", "is negative", "are negative", "was absent", "were absent", "not seen",
                 "not detected", "not found",
                 "not identified", "not visualized", "not visualised", "not present", "not appreciated",
                 "has resolved", "have resolved", "resolved", "no longer seen", "no longer present", "is absent",
                 "are absent", "has been removed", "have been removed")
UNCERTAIN_PRE = ("possible", "possibly", "probable", "probably", "suspected", "suspicion of", "suspicious for",
                 "questionable", "may", "might", "may have", "likely", "rule out", "r/o", "cannot exclude",
                 "cannot be excluded", "concern for", "differential diagnosis", "versus", "vs",
                 "could represent", "may represent", "might represent", "can represent", "may reflect",
                 "could reflect", "question of", "questioned", "equivocal", "suggestive of",
                 "suggest", "suggests", "suggesting", "concerning for", "worrisome for", "difficult to exclude",
                 "not excluded", "cannot rule out", "can not be excluded", "to exclude", "evaluate for",
                 "assess for", "check for", "eval for", "vs.")
UNCERTAIN_POST = ("is suspected", "was suspected", "is possible", "is likely", "cannot be excluded",
                  "not excluded", "is questionable", "unlikely",
                  "cannot be ruled out", "not ruled out", "is not excluded", "are not excluded", "is suggested",
                  "is not entirely excluded", "less likely", "considered less likely")
HISTORICAL_PRE = ("history of", "h/o", "hx of", "past history of", "previous", "previously", "prior", "status post",
                  "s/p", "in the past", "remote", "healed", "sequela of", "sequelae of")
HISTORICAL_POST = ("in the past", "years ago", "months ago", "as a child", "in childhood")
FAMILY_PRE = ("family history of", "family history", "mother", "father", "sister", "brother", "sibling", "siblings",
              "parents", "grandmother", "grandfather", "aunt", "uncle", "cousin", "maternal", "paternal", "daughter",
              "son")
FAMILY_POST = ("in the family", "runs in the family", "in his family", "in her family")
HEADING_RE = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{1,40}):", re.MULTILINE)
# phrases that hold a trigger word and trigger nothing (ConText's pseudo-triggers): "no change in the scarring"
# states the scarring; "not only", "gram negative"
PSEUDO = ("no change", "no interval change", "no significant change", "no significant interval change",
          "without change", "without interval change", "no increase", "no decrease", "no significant increase",
          "not only", "not necessarily", "gram negative", "gram-negative", "no further", "not certain whether",
          "without difficulty", "no other", "not significantly changed", "no substantial change")
TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "yet", "which",
               "while", ";", ":")


# phrase -> its roles: (flag, "pre" | "post") or ("terminator", "")
ROLES: dict[str, list[tuple[str, str]]] = {}
for _flag, _pre, _post in (("negated", NEGATION_PRE, NEGATION_POST), ("uncertain", UNCERTAIN_PRE, UNCERTAIN_POST),
                           ("historical", HISTORICAL_PRE, HISTORICAL_POST), ("family", FAMILY_PRE, FAMILY_POST)):
    for _phrase in _pre:
        ROLES.setdefault(_phrase.lower(), []).append((_flag, "pre"))
    for _phrase in _post:
        ROLES.setdefault(_phrase.lower(), []).append((_flag, "post"))
for _phrase in TERMINATORS:
    ROLES.setdefault(_phrase.lower(), []).append(("terminator", ""))
for _phrase in PSEUDO:
    ROLES[_phrase.lower()] = [("pseudo", "")]


def _pattern(phrases: list[str]) -> re.Pattern[str]:
    """One scan for every trigger: whole-word phrases longest first; punctuation needs no word boundary.

    A single alternation is far faster than one regex per list, and at any
    position the longest phrase wins, so "no history of" is one negation
    trigger, not also a history trigger.
    """
    words = [re.escape(p) for p in sorted((p for p in phrases if p[0].isalnum()), key=len, reverse=True)]
    punct = [re.escape(p) for p in phrases if not p[0].isalnum()]
    return re.compile(rf"(?<![\w/])(?:{'|'.join(words)})(?![\w/])|{'|'.join(punct)}", re.IGNORECASE)


_TRIGGERS = _pattern(list(ROLES))
FLAGS = ("negated", "uncertain", "historical", "family")


def heading_regions(text: str, sections: tuple[Section, ...] = ()) -> list[tuple[int, int, str]]:
    """``(start, end, flag)`` for document regions under a family- or past-history heading.

    ``sections``: a clinical document's sections (:mod:`medkg.pipelines.text.sections`), which also make
    what the indication section names ``uncertain``: the question the report answers, not its finding.
    """
    if sections:
        heads = [(s.start, s.label.upper()) for s in sections]
    else:
        heads = [(m.start(), m.group(1).upper()) for m in HEADING_RE.finditer(text)]
    out = []
    for i, (start, head) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if sections and head in QUESTION_SECTIONS:
            out.append((start, end, "uncertain"))
        elif "FAMILY" in head or head in ("FH", "FHX"):
            out.append((start, end, "family"))
        elif "PAST" in head or head in ("PMH", "PSH", "MEDICAL HISTORY", "SURGICAL HISTORY"):
            out.append((start, end, "historical"))
    return out


def _scopes(text: str) -> dict[str, list[tuple[int, int]]]:
    """Character scopes (relative to ``text``, one sentence) of every flag's triggers."""
    found = [(m.start(), m.end(), ROLES.get(m.group(0).lower(), [])) for m in _TRIGGERS.finditer(text)]
    terms = [start for start, _, roles in found if any(flag == "terminator" for flag, _ in roles)]
    out: dict[str, list[tuple[int, int]]] = {flag: [] for flag in FLAGS}
    for start, end, roles in found:
        for flag, direction in roles:
            if direction == "pre":
                out[flag].append((end, min([t for t in terms if t >= end] or [len(text)])))
            elif direction == "post":
                out[flag].append((max([t for t in terms if t < start] or [0]), start))
    return out


def mark_context(doc: Doc) -> Doc:
    """Set ``span._.negated``, ``uncertain``, ``historical`` and ``family`` on every entity of ``doc``."""
    ents_all = doc.ents
    if not ents_all:
        return doc
    text = doc_text(doc)
    regions = heading_regions(text, doc._.sections if doc._.clinical else ())
    # one pass over the sentences: Span.sent walks the tokens again for every entity
    sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    starts = [s.start_char for s in sents]
    by_sent: dict[int, list[Span]] = {}
    for ent in ents_all:
        by_sent.setdefault(max(bisect_right(starts, ent.start_char) - 1, 0), []).append(ent)
    for k, ents in by_sent.items():
        sent = sents[k]
        scopes = _scopes(text[sent.start_char:sent.end_char])
        for ent in ents:
            s, e = ent.start_char - sent.start_char, ent.end_char - sent.start_char
            flags = {flag for flag, found in scopes.items() if any(a <= s and e <= b for a, b in found)}
            flags.update(f for a, b, f in regions if a <= ent.start_char and ent.end_char <= b)
            if "negated" in flags or "family" in flags:
                # "no history of X" never happened; "family history of X" is not the patient's
                flags.discard("historical")
            u = ent._  # the flags default to False: only the raised ones are written
            for flag in flags:
                setattr(u, flag, True)
    return doc


for _name in FLAGS:
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=False)
