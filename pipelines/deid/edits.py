"""Replacing spans of a text and carrying offsets across: the pure half of de-identification.

Every span found (an :class:`Edit`: original start/end and its replacement) is applied in one pass, and any
offset into the original text (a section boundary) is mapped to the same place in the new one, so that
``Document.sections`` and every offset computed later index the stored text. A replacement rarely has the
length of what it replaces (``John Smith`` -> ``[NAME]``), so an offset after it moves by the difference; an
offset inside it moves to the replacement's start or end, whichever side it bounds.

Overlapping detections are settled before applying (:func:`resolve_overlaps`): the more specific type wins
(an e-mail over the URL inside it, a fax label over the phone number it labels, an age over the date the
language model saw in ``93-year-old``), then the longer span, then the earlier one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from medkg.kg.records import Section

# Most specific first: what wins when two detections overlap.
PRIORITY: tuple[str, ...] = ("EMAIL", "URL", "IP", "SSN", "LICENSE", "MRN", "ACCOUNT", "FAX", "PHONE", "ADDRESS",
                             "AGE", "DATE", "NAME", "LOCATION")


@dataclass(frozen=True, slots=True)
class Span:
    """A detected identifier: its type, offsets into the original text (end exclusive) and where it came from."""

    type: str
    start: int
    end: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` (original offsets) with ``replacement``."""

    start: int
    end: int
    replacement: str
    type: str = ""


def _rank(span: Span) -> tuple[int, int, int]:
    pri = PRIORITY.index(span.type) if span.type in PRIORITY else len(PRIORITY)
    return pri, -(span.end - span.start), span.start


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order: of overlapping ones the most specific type, then the longest, wins."""
    kept: list[Span] = []
    taken: list[tuple[int, int]] = []  # sorted, disjoint intervals of the kept spans
    for span in sorted((s for s in spans if s.end > s.start), key=_rank):
        i = bisect_right(taken, (span.start, span.end))
        left = taken[i - 1] if i else None
        right = taken[i] if i < len(taken) else None
        if (left and left[1] > span.start) or (right and right[0] < span.end):
            continue
        taken.insert(i, (span.start, span.end))
        kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with every edit made; ``edits`` must be sorted and must not overlap."""
    out, pos = [], 0
    for e in edits:
        if e.start < pos or e.end > len(text):
            raise ValueError(f"edits overlap or run past the text at {e.start}-{e.end}")
        out.append(text[pos : e.start])
        out.append(e.replacement)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def remap_offset(pos: int, edits: Sequence[Edit], *, end: bool = False) -> int:
    """Where original offset ``pos`` lands in the edited text.

    A start offset (``end=False``) inside a replaced span moves to the replacement's start, so the unit that
    begins there begins with the replacement; an end offset inside one moves to the replacement's end, so the
    unit that ends there still holds all of it. An offset at a replacement's edge keeps its side of it.
    """
    delta = 0
    for e in edits:
        if e.start >= pos:  # this edit and all later ones are after pos
            break
        if pos < e.end:  # inside the replaced span
            return e.start + delta + (len(e.replacement) if end else 0)
        delta += len(e.replacement) - (e.end - e.start)
    return pos + delta


def remap_sections(sections: Iterable[Section], edits: Sequence[Edit]) -> tuple[Section, ...]:
    """Sections with their offsets carried into the edited text."""
    return tuple(Section(s.label, remap_offset(s.start, edits), remap_offset(s.end, edits, end=True))
                 for s in sections)
