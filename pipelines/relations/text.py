"""Fast sentence splitting and tokenisation for abstracts (regular expressions, no models).

The splitter is deliberately simple: a period, question or exclamation mark followed by
space and an upper-case letter, digit or bracket ends a sentence, unless the word before
is a known abbreviation or a single letter (initials, ``i.v.``).  Entity mentions are
never cut: a boundary inside a mention is dropped, so every mention lies in one sentence.
The title is always sentence 0.  In the project the pipeline's own sentence spans can be
passed in instead.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from functools import lru_cache

_BOUNDARY = re.compile(r"[.?!][\"')\]]*\s+(?=[\[(\"']?[A-Z0-9])")
_ABBREV = frozenset({
    "e.g", "i.e", "vs", "etc", "al", "fig", "figs", "ref", "refs", "dr", "mr", "mrs", "ms", "no", "nos", "approx",
    "ca", "cf", "eq", "st", "vol", "resp", "incl", "i.v", "i.p", "i.m", "s.c", "p.o", "b.i.d", "t.i.d", "q.i.d",
    "sp", "spp", "var", "inc", "ltd", "co", "jr", "sr", "prof"
})
_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+(?:\.[0-9]+)?|[^\sA-Za-z0-9]")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the period at ``dot`` ends an abbreviation rather than a sentence."""
    if text[dot] != ".":
        return False
    j = dot
    while j > 0 and not text[j - 1].isspace() and text[j - 1] not in "([":
        j -= 1
    word = text[j:dot].lower()
    return word in _ABBREV or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, title_end: int, protected: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text``; ``title_end`` closes sentence 0.

    ``protected`` spans (entity mentions) are never split.
    """
    spans: list[tuple[int, int]] = []
    if title_end > 0:
        spans.append((0, title_end))
    start = title_end + 1 if title_end > 0 else 0
    while start < len(text) and text[start].isspace():
        start += 1
    for m in _BOUNDARY.finditer(text, start):
        dot = m.start()
        if _is_abbreviation(text, dot):
            continue
        cut = dot + 1
        if any(s < cut < e for s, e in protected):
            continue
        end = m.end()
        while end > cut and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if e > s]


def sentence_index(spans: Sequence[tuple[int, int]], offset: int) -> int:
    """Index of the sentence holding character ``offset`` (the last one starting at or before it)."""
    starts = [s for s, _ in spans]
    return max(0, bisect.bisect_right(starts, offset) - 1)


def tokenize(text: str) -> list[str]:
    """Lower-cased word, number and punctuation tokens."""
    return [t.lower() for t in _TOKEN.findall(text)]


def token_spans(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, lower-cased token) of the tokens of ``text[start:end]``, document offsets."""
    lower = text[start:end].lower()  # one lower() per sentence, not per token
    if len(lower) != end - start:  # a character whose lower case is longer ("İ"): offsets would shift
        return [(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text, start, end)]
    return [(m.start() + start, m.end() + start, m.group()) for m in _TOKEN.finditer(lower)]


_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


@lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """A crude suffix stripper: enough to merge induce/induced/induces/inducing."""
    if len(token) <= 4 or not token.isalpha():
        return token
    for suf in _SUFFIXES:
        if token.endswith(suf) and len(token) - len(suf) >= 4:
            base = token[: -len(suf)]
            return base[:-1] if base.endswith("e") else base
    return token[:-1] if token.endswith("e") else token
