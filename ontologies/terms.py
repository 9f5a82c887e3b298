"""Term normalisation shared by exact look-up and approximate candidates.

A term and a stretch of running text are compared through the same normal
form: alphanumeric tokens, lower-cased, with British spellings and regular
plurals folded ("Tumours" -> "tumor").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN_RE = re.compile(r"[A-Za-z0-9]+")

_BRITISH = (("tumour", "tumor"), ("aem", "em"), ("oed", "ed"), ("oes", "es"), ("paed", "ped"), ("haem", "hem"),
            ("sulph", "sulf"))


def singular(token: str) -> str:
    """Crude normal form of a lower-cased token, for matching only.

    'tumours' -> 'tumor', 'anaemia' -> 'anemia', 'glass' stays 'glass'.
    """
    for gb, us in _BRITISH:
        if gb in token:
            token = token.replace(gb, us)
    if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is", "ys")):
        return token[:-1]
    return token


def normalise(text: str) -> str:
    return " ".join(singular(t.lower()) for t in TOKEN_RE.findall(text))


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a term or a text, with its character offsets."""

    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
