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
mention's first word (leading locants aside: "13-cis-retinoic acid (cis-RA)");
a one-letter short form must be the mention's capitalised first letter.
:mod:`medkg.pipelines.linking.mentions` asks the same of a dictionary match it would
otherwise leave out (``defined_short_form``).
A parenthesis the letters do not spell is still a definition when the
dictionary links it to the mention's own concept ("17beta-estradiol (E2)").
Each occurrence of the short form after the definition is then added to
``doc._.abbreviations`` as scispaCy would, for ``medkg_abbreviations`` to link.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from medkg.pipelines.abbreviations.detector import find_long_form
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.text.tokenizer import doc_text

# a short form right after a mention: "(DEN: ...", "(BPV; ...", "(T)"; what follows the letters closes or notes
_DEFINITION = re.compile(r" ?\(([A-Za-z][A-Za-z0-9-]{0,9})(?:\)|[;:,] )")


def _spells(short: Span, long: Span) -> bool:
    """Schwartz & Hearst (``find_long_form``) over the whole of ``long``: the short form's
    letters in it in order, the first one starting its first word ("deficiency of phenylalanine hydroxylase
    (PAH)" is not spelt: PAH names the enzyme inside the disease)."""
    found = find_long_form(long, short)
    # a chemical's leading locants are no word of its name: "13-cis-retinoic acid (cis-RA)"
    return found is not None and all(t.like_num or t.is_punct for t in long.doc[long.start : found.start])


def defined_short_form(doc: Doc, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The short form a definition right after ``text[start:end]`` gives it, as character offsets, or None.

    ``text`` is ``doc.text`` (passed in: ``Doc.text`` joins every token on each call).
    """
    m = _DEFINITION.match(text, end)
    if m is None:
        return None
    short = m.group(1)
    if short.lower() == text[start:end].lower():
        return None
    if len(short) == 1:
        return m.span(1) if short.isupper() and text[start].upper() == short else None
    letters, long = doc.char_span(m.start(1), m.end(1)), doc.char_span(start, end)
    if letters is None or long is None or not _spells(letters, long):
        return None
    return m.span(1)


def same_concept_short_form(text: str, ent: Span, lexicon: Lexicon) -> tuple[int, int] | None:
    """A parenthesis right after a linked mention that the dictionary links to the mention's own concept.

    "17beta-estradiol (E2)": the letters do not spell the name as Schwartz & Hearst require,
    but the vocabulary says both name one concept, which is what a definition says.
    """
    m = _DEFINITION.match(text, ent.end_char)
    if m is None or ent._.link is None:
        return None
    found = lexicon.lookup(m.group(1))
    return m.span(1) if found and any(cid == ent._.link.concept_id for cid, _ in found[0]) else None


def add_missed_definitions(doc: Doc, ents: list[Span], lexicon: Lexicon | None = None) -> None:
    """Append to ``doc._.abbreviations`` the definitions after ``ents`` that the detector did not find."""
    known = {a.text for a in doc._.abbreviations}
    text = doc_text(doc)
    for ent in ents:
        if ent.label_ not in ("CHEM", "DISO"):
            continue
        found = defined_short_form(doc, text, ent.start_char, ent.end_char)
        if found is None and lexicon is not None:
            found = same_concept_short_form(text, ent, lexicon)
        if found is None or text[found[0] : found[1]] in known:
            continue
        short = text[found[0] : found[1]]
        known.add(short)
        for occurrence in re.compile(rf"(?<![\w-]){re.escape(short)}(?![\w-])").finditer(text, found[0]):
            span = doc.char_span(occurrence.start(), occurrence.end())
            if span is not None:
                span._.long_form = ent
                doc._.abbreviations.append(span)
