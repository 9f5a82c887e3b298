"""Sections and sentences of clinical reports.

Reports are laid out under headings (``INDICATION:``, ``FINDINGS:``,
``IMPRESSION:``, ``HISTORY OF PRESENT ILLNESS:``, ``ASSESSMENT:``...), and the
heading says how to read what follows: a disease under ``INDICATION`` or
``REASON FOR EXAM`` is the question the report answers, not its finding; one
under ``FAMILY HISTORY`` is not the patient's. Three ways of writing headings
occur in real exports, and all three are found here:

- a capitalised line start ending in a colon (``FINDINGS: The heart...``), the
  classic layout, and also in mixed case for the headings clinicians use
  everywhere (``Impression: ...``);
- the same heading inside a line where an export joined the lines with commas
  or spaces (MTSamples' ``...was seen.,MEDICATIONS: , Her only...``): only a
  known heading in upper case counts there, after a space, comma or stop;
- a CSV with one column per section (the IU collection), which the reader
  turns into ``HEADING: text`` paragraphs with their sections already set.

The sentence splitter of the literature pipeline (spaCy's ``sentencizer``)
knows only full stops. The component ``medkg_clinical_sentences`` corrects it
on clinical documents (``doc._.clinical``): a heading, a numbered or bulleted
list item and a line break start a sentence ("INDICATION: cough FINDINGS: no
effusion" is two); so does a capitalised word after a run of stops, which the
tokenizer keeps as one token the sentencizer does not know ("no effusion..
Left basilar atelectasis", "...", "!!": typed reports have them); a full stop
after a title or a Latin abbreviation ("Dr.", "vs.", "b.i.d.", "p.o.") does not
end one. ConText scopes end at sentence ends, so this decides which findings a
"no" negates.
"""

from __future__ import annotations

import re

import numpy as np
from spacy.attrs import IDX, IS_LOWER, LENGTH
from spacy.tokens import Doc

from medkg.kg.records import Section
from medkg.pipelines.text.tokenizer import doc_text

if not Doc.has_extension("clinical"):
    # set by the extractor for tier-1 documents (reports): the clinical reading of the text applies
    Doc.set_extension("clinical", default=False)
    Doc.set_extension("sections", default=())

# the headings of radiology reports, discharge summaries and office notes (upper case in the text)
KNOWN_HEADINGS = (
    "INDICATION", "INDICATIONS", "CLINICAL INDICATION", "REASON FOR EXAM", "REASON FOR EXAMINATION",
    "CLINICAL HISTORY", "HISTORY", "CLINICAL INFORMATION", "TECHNIQUE", "COMPARISON", "COMPARISONS", "FINDINGS",
    "FINDING", "IMPRESSION", "IMPRESSIONS", "CONCLUSION", "CONCLUSIONS", "RECOMMENDATION", "RECOMMENDATIONS",
    "CHIEF COMPLAINT", "HISTORY OF PRESENT ILLNESS", "HPI", "PAST MEDICAL HISTORY", "PMH", "PAST SURGICAL HISTORY",
    "PSH", "FAMILY HISTORY", "SOCIAL HISTORY", "MEDICATIONS", "ALLERGIES", "REVIEW OF SYSTEMS", "ROS",
    "PHYSICAL EXAMINATION", "PHYSICAL EXAM", "EXAM", "VITAL SIGNS", "LABORATORY DATA", "LABS", "ASSESSMENT",
    "ASSESSMENT AND PLAN", "PLAN", "DIAGNOSIS", "DIAGNOSES", "PREOPERATIVE DIAGNOSIS", "POSTOPERATIVE DIAGNOSIS",
    "PROCEDURE", "PROCEDURES", "OPERATION", "ANESTHESIA", "SUBJECTIVE", "OBJECTIVE", "HOSPITAL COURSE",
    "DISCHARGE DIAGNOSIS", "DISCHARGE MEDICATIONS", "DISPOSITION", "NOTE", "SUMMARY", "ADDENDUM",
)
# the question a report answers, not what it found
# (not the chief complaint: the patient's symptom is there)
QUESTION_SECTIONS = frozenset({"INDICATION", "INDICATIONS", "CLINICAL INDICATION", "REASON FOR EXAM",
                               "REASON FOR EXAMINATION"})

_LINE_HEADING = re.compile(r"^[ \t]*([A-Z][A-Z /&()-]{1,60}):", re.MULTILINE)
_KNOWN = "|".join(re.escape(h) for h in sorted(KNOWN_HEADINGS, key=len, reverse=True))
# a known heading in mixed case at a line start ("Impression: ..."), or upper case inside a joined line
_MIXED_HEADING = re.compile(rf"^[ \t]*((?i:{_KNOWN})):", re.MULTILINE)
_INLINE_HEADING = re.compile(rf"(?<=[.,;\s])({_KNOWN}):")


def report_sections(text: str) -> tuple[Section, ...]:
    """Sections of a clinical report: each heading's span runs from the heading to the next heading."""
    found: dict[int, str] = {}
    for pattern in (_LINE_HEADING, _MIXED_HEADING, _INLINE_HEADING):
        for m in pattern.finditer(text):
            found.setdefault(m.start(1), m.group(1).strip().upper())
    starts = sorted(found)
    return tuple(Section(found[s], s, starts[i + 1] if i + 1 < len(starts) else len(text))
                 for i, s in enumerate(starts))


def section_at(sections: tuple[Section, ...], pos: int) -> str:
    """The label of the section holding ``pos`` ("" outside every section)."""
    for sec in sections:
        if sec.start <= pos < sec.end:
            return sec.label.upper()
    return ""


# a full stop after these does not end a sentence
ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "prof", "st", "vs", "approx", "e.g", "i.e", "etc", "b.i.d",
                           "t.i.d", "q.i.d", "p.o", "q.d", "h.s", "p.r.n", "a.m", "p.m", "fig", "cf", "resp",
                           "sig", "disp", "wt", "ht", "hx", "dx", "sx", "tx", "yo", "y.o"})
# a run of two or more stops ("effusion.. Left", "...", "?!") and the capitalised word after it
_STOP_RUN = re.compile(r"(?:[.!?\u2026]{2,}|\u2026)\s+(?=[A-Z])")
_LIST_ITEM = re.compile(r"(?:^|(?<=\s))(?:\d{1,2}[.)]|[-*\u2022])\s+(?=\S)", re.MULTILINE)


def clinical_sentence_starts(doc: Doc) -> Doc:
    """Correct the sentencizer's boundaries on a clinical document (see the module docstring).

    Only the tokens a rule can concern are visited (a token after a full stop, at a heading, list item or line
    start, in or after a list marker), found from the text and the token offsets; visiting every token as a
    spaCy ``Token`` cost reports a twentieth of their extraction time.
    """
    if not doc._.clinical or len(doc) < 2:
        return doc
    text = doc_text(doc)
    cols = doc.to_array([IDX, LENGTH, IS_LOWER])
    idx = cols[:, 0]

    def token_at(char: int) -> int:
        """The token starting at ``char``, or -1."""
        i = int(np.searchsorted(idx, char))
        return i if i < len(idx) and idx[i] == char else -1

    def token_text(i: int) -> str:
        return text[idx[i]:idx[i] + cols[i, 1]]

    starts = {s.start for s in doc._.sections or report_sections(text)}
    items = [(m.start(), m.end()) for m in _LIST_ITEM.finditer(text)]
    starts |= {a for a, _ in items}
    starts |= {m.end() for m in re.finditer(r"\n\s*", text)}
    starts |= {m.end() for m in _STOP_RUN.finditer(text)}
    start_tokens = {i for i in map(token_at, starts) if i >= 1}
    for dot in (m.start() for m in re.finditer(r"\.", text)):
        prev = int(np.searchsorted(idx, dot, side="right")) - 1  # the token holding the full stop
        i = prev + 1
        if prev < 0 or i >= len(idx) or idx[prev] + cols[prev, 1] != dot + 1 or not cols[i, 2]:
            continue  # no token ends with this full stop, or the next one is not lower case
        # "Dr. Smith" splits as "Dr", "." or stays "Dr."; either way no sentence ends there
        word = token_text(prev - 1) if cols[prev, 1] == 1 and prev >= 1 else token_text(prev)
        if word.lower().rstrip(".") in ABBREVIATIONS:
            doc[i].is_sent_start = False
    inside = {tok.i for a, b in items for tok in doc.char_span(a, b, alignment_mode="expand") or ()}
    for i in sorted(inside | {i + 1 for i in inside}):
        if 1 <= i < len(idx) and i not in start_tokens:
            doc[i].is_sent_start = False  # "1. Emphysema" is one item, not the sentence "1." and another
    for i in start_tokens:
        doc[i].is_sent_start = True
    return doc
