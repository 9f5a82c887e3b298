"""Which detections of the statistical model to believe, and names found again elsewhere in the document.

``en_core_web_sm`` was trained on news and web text, not clinical notes: on MTSamples it calls section headings
(``DIAGNOSIS``), devices (``Foley``, ``Doppler``), drugs (``Flomax``) and words such as ``Denies`` or ``Soft``
people or places. Replacing those with ``[NAME]`` would cost extraction the very terms it looks for, so a
PERSON or LOCATION that only the model saw (not a pattern of :mod:`.recognizers`) is kept only when it looks
like a proper name in running text:

- every token capitalised and alphabetic (``gross hematuria``, ``Hemoglobin 13`` are not names), none in
  capitals (headings and acronyms: names in capitals are caught by the labelled patterns), no ``XXXX`` (IU's
  own placeholder, left as it is);
- not followed by a colon (a heading such as ``Vital Signs:``), not a term of the medical vocabulary, and for a
  PERSON no word after the first a term either (``Foley Catheter``; the cost: ``Anna White`` is left to the
  patterns, as ``white`` is a MeSH term);
- a PERSON of two tokens or more, one of three letters or more (a lone ``Foley`` is a catheter far more often
  than a person, ``Ta Nx Mx`` is a tumour stage: one-word names are found by the patterns, after a title or a
  label, and again by :func:`propagate_names`);
- a LOCATION after a preposition of place (``lives in``, ``moved from``, ``near``), which is how a town appears
  in a report, while the model's false places (``Morbid``, ``Kerlix``) do not.

:func:`propagate_names` then finds every other capitalised occurrence of the surname of an accepted name
(``Patient: Nguyen, Anh`` makes the later ``Nguyen tolerated...`` a name too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from medkg.pipelines.deid.edits import Span

MedicalTerm = Callable[[str], bool]  # is this (lower-cased) phrase a term of the medical vocabulary?

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_PLACE_CUES = frozenset({"in", "from", "to", "at", "near", "visiting", "towards", "toward", "outside", "around",
                         "lives", "resides"})  # not "of": "the white line of Toldt", "the space of Retzius"
_NOT_NAMES = frozenset({  # capitalised words that the patterns and the model take for names in reports
    "the", "a", "an", "and", "or", "of", "in", "on", "at", "to", "for", "with", "by", "from", "is", "was", "he",
    "she", "his", "her", "patient", "pt", "dr", "mr", "mrs", "ms", "miss", "md", "do", "rn", "np", "pa", "phd",
    "jr", "sr", "ii", "iii", "iv", "mother", "father", "daughter", "son", "wife", "husband", "sister", "brother",
    "history", "exam", "date", "name", "no", "yes", "left", "right", "xxxx",
})
_SURNAME_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "del", "della", "la", "le", "bin",
                                "al", "el", "dos", "du", "st"})


def _tokens(text: str) -> list[str]:
    return text.split()


_PLACEHOLDERS = frozenset({"XYZ", "ABC", "XYZ's", "ABC's", "X's", "Y's"})


def is_placeholder(text: str) -> bool:
    """What an earlier de-identification left: IU's ``XXXX``, MTSamples' ``Dr. X``, ``Mr. XYZ``, ``Dr. A``."""
    words = [w.strip(".,'’") for w in text.split()]
    return all(len(w) <= 1 or set(w) == {"X"} or w in _PLACEHOLDERS for w in words)


def clip_line(text: str, span: Span) -> Span:
    """A model span cut at its first line break and trimmed: ``John Nguyen\n2353`` -> ``John Nguyen``."""
    s = text[span.start : span.end]
    cut = s.split("\n", 1)[0].rstrip(" \t,.;:")
    lead = len(cut) - len(cut.lstrip(" \t,.;:"))
    return Span(span.type, span.start + lead, span.start + len(cut), span.source)


_COMMON_TLDS = frozenset({"com", "org", "net", "edu", "gov", "mil", "us", "info", "health", "io", "co", "uk", "ca",
                          "biz", "care", "clinic", "hospital"})


def trim_url(text: str, span: Span) -> Span:
    """A URL without the punctuation that ends the sentence around it (``.../8812,``)."""
    s = text[span.start : span.end].rstrip(".,;:!?")
    return Span(span.type, span.start, span.start + len(s), span.source)


def keep_url(text: str, span: Span) -> bool:
    """A URL with a scheme, ``www.``, a path, or a common lower-case top-level domain; not ``apex.There``, where
    a report lost the space after a full stop."""
    s = text[span.start : span.end]
    if "://" in s or s.lower().startswith("www.") or "/" in s:
        return True
    host = s.rsplit(".", 1)
    return len(host) == 2 and host[1] in _COMMON_TLDS and host[0] == host[0].lower() and len(host[0]) > 1


def looks_like_proper_name(text: str, *, allow_particles: bool = True) -> bool:
    """Capitalised alphabetic tokens, none in capitals, none a digit: how names are written in running text."""
    tokens = _tokens(text)
    if not tokens or is_placeholder(text):
        return False
    for i, tok in enumerate(tokens):
        tok = tok.strip(".,'’")
        if allow_particles and 0 < i < len(tokens) - 1 and tok.lower() in _SURNAME_PARTICLES:
            continue
        if not _WORD.fullmatch(tok) or not tok[0].isupper() or (len(tok) > 1 and tok.isupper()):
            return False
    return True


def _followed_by_colon(text: str, end: int) -> bool:
    return text[end : end + 3].lstrip(" \t").startswith(":")


def _previous_word(text: str, start: int) -> str:
    words = _WORD.findall(text[max(0, start - 30) : start])
    return words[-1].lower() if words else ""


_LEADING_TITLE = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof)\.?\s+")


def _is_term(word: str, medical: MedicalTerm) -> bool:
    low = word.lower()
    return medical(low) or medical(low + "s")


def keep_model_person(text: str, span: Span, medical: MedicalTerm) -> bool:
    """Believe a PERSON that only the statistical model found? (see the module docstring)"""
    s = _LEADING_TITLE.sub("", text[span.start : span.end])
    words = [t.strip(".,'’") for t in _tokens(s)]
    return (len(words) >= 2 and any(len(w) >= 3 for w in words) and looks_like_proper_name(s)
            and not _followed_by_colon(text, span.end) and not medical(s.lower())
            and not any(w.lower() in _NOT_NAMES for w in words)
            and not any(_is_term(w, medical) for w in words[1:]))


def keep_model_location(text: str, span: Span, medical: MedicalTerm) -> bool:
    """Believe a LOCATION that only the statistical model found? (see the module docstring)"""
    s = text[span.start : span.end]
    return (looks_like_proper_name(s) and not _followed_by_colon(text, span.end)
            and _previous_word(text, span.start) in _PLACE_CUES
            and not any(_is_term(t, medical) for t in _tokens(s)) and not medical(s.lower()))


def keep_pattern_person(text: str, span: Span, medical: MedicalTerm, *, context_free: bool = False) -> bool:
    """A name a pattern found: drop only what is plainly no name (a placeholder, a lone stop word); one found
    by its shape alone (``context_free``: ``First M. Last``) must also have no medical term in it
    (``Hepatitis C. Hepatocellular``)."""
    s = text[span.start : span.end]
    words = [w.lower() for w in _WORD.findall(s)]
    if not words or is_placeholder(s) or all(w in _NOT_NAMES for w in words):
        return False
    return not context_free or not any(_is_term(w, medical) for w in words)


def _name_words(text: str, span: Span, medical: MedicalTerm) -> list[str]:
    words = [w.strip("'’-") for w in _WORD.findall(text[span.start : span.end])]
    return [w for w in words if len(w) >= 2 and w.lower() not in _NOT_NAMES and w.lower() not in _SURNAME_PARTICLES
            and not medical(w.lower())]


def surnames(text: str, names: Iterable[Span], medical: MedicalTerm) -> set[str]:
    """The surnames of accepted names (lower-cased): the last word of ``Anh Nguyen``, the first of ``Nguyen,
    Anh``. Given names are not looked for again in the text: too many are also words (``May``, ``Will``)."""
    found: set[str] = set()
    for span in names:
        words = _name_words(text, span, medical)
        if words:
            found.add((words[0] if "," in text[span.start : span.end] else words[-1]).lower())
    return found


def name_words(text: str, names: Iterable[Span], medical: MedicalTerm) -> set[str]:
    """Every part (lower-cased) of accepted names, given names too: what a report's title must not repeat."""
    return {w.lower() for span in names for w in _name_words(text, span, medical)}


def _word_pattern(words: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z'’])(?:" + alternatives + r")(?![A-Za-z])", re.IGNORECASE)


def propagate_names(text: str, names: Iterable[Span], medical: MedicalTerm) -> list[Span]:
    """Other capitalised occurrences of the surnames of ``names`` in ``text``, as NAME spans."""
    parts = surnames(text, names, medical)
    if not parts:
        return []
    return [Span("NAME", m.start(), m.end(), "propagated") for m in _word_pattern(parts).finditer(text)
            if m.group()[0].isupper()]


def find_words(text: str, words: Iterable[str]) -> list[Span]:
    """Every occurrence of ``words`` in ``text`` in any case, between non-letters (``kowalczyk-marta-2019``):
    how the names of a report are found in its title, which is often its file name."""
    words = list(words)
    if not words:
        return []
    return [Span("NAME", m.start(), m.end(), "propagated") for m in _word_pattern(words).finditer(text)]
