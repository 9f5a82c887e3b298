"""Abbreviation definitions that scispaCy's detector passes over, found after mentions.

scispaCy's ``abbreviation_detector`` (Schwartz & Hearst) reads a parenthesis
of at most three tokens as a short form and skips any short form with a token
of one character. Abstracts also write

- a definition with a note beside it: "diethylnitrosamine (DEN: 10
  mg/kg/day)", "bupivacaine (BPV; 0.5%)": the parenthesis holds more than three
  tokens, so the detector takes it for a long form in parentheses and finds
  nothing;
- a one-letter short form: "testosterone (T)", "phosphorus (P)";
- a short form with a one-letter piece: "dexmedetomidine (D-MED)",
  "gamma-hexachlorocyclohexane (gamma-HCH)", "ataxia-telangiectasia (A-T)".

All are found here, but only right after a chemical or disease mention (the
long form must already be one, so the letters cannot come from a stray
parenthesis), and only when the short form spells the whole mention the way
Schwartz & Hearst require: its characters in order, the first one starting the
mention's first word; a one-letter short form must be the mention's
capitalised first letter.
Each occurrence of the short form after the definition is then added to
``doc._.abbreviations`` as scispaCy would, for ``medkg_abbreviations`` to link.
"""

from __future__ import annotations

import re

from scispacy.abbreviation import find_abbreviation
from spacy.tokens import Doc, Span

# a short form right after a mention: "(DEN: ...", "(BPV; ...", "(T)"; what follows the letters closes or notes
_DEFINITION = re.compile(r" ?\(([A-Za-z][A-Za-z0-9-]{0,9})(?:\)|[;:,] )")


def _spells(short: Span, long: Span) -> bool:
    """Schwartz & Hearst (scispaCy's ``find_abbreviation``) over the whole of ``long``: the short form's
    letters in it in order, the first one starting its first word ("deficiency of phenylalanine hydroxylase
    (PAH)" is not spelt: PAH names the enzyme inside the disease)."""
    _, found = find_abbreviation(long, short)
    return found is not None and found.start == long.start


def add_missed_definitions(doc: Doc, ents: list[Span]) -> None:
    """Append to ``doc._.abbreviations`` the definitions after ``ents`` that the detector did not find."""
    known = {a.text for a in doc._.abbreviations}
    text = doc.text
    for ent in ents:
        if ent.label_ not in ("CHEM", "DISO"):
            continue
        m = _DEFINITION.match(text, ent.end_char)
        if m is None:
            continue
        short = m.group(1)
        if short in known or short.lower() == ent.text.lower():
            continue
        if len(short) == 1:
            if not (short.isupper() and ent.text[0].upper() == short):
                continue
        elif (letters := doc.char_span(m.start(1), m.end(1))) is None or not _spells(letters, ent):
            continue
        known.add(short)
        for occurrence in re.compile(rf"(?<![\w-]){re.escape(short)}(?![\w-])").finditer(text, m.start(1)):
            span = doc.char_span(occurrence.start(), occurrence.end())
            if span is not None:
                span._.long_form = ent
                doc._.abbreviations.append(span)
