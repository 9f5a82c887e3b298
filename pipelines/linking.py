"""Choose one concept for a dictionary match and keep the runners-up.

A term often names several concepts ("cold" the disease and the temperature,
a drug's descriptor and its supplementary record). The first version ranks
candidates by evidence available without a model: a match on the preferred
name beats a synonym, a MeSH descriptor beats a supplementary record, and
clinically central groups (disorders, chemicals, anatomy) beat the rest.
Context-aware disambiguation and approximate (TF-IDF) candidates come with the
vocabulary issue; the record already carries score, method and alternatives.
"""

from __future__ import annotations

from medkg.pipelines.lexicon import Lexicon
from medkg.pipelines.records import Link

GROUP_PRIORITY = {"DISO": 0, "CHEM": 1, "ANAT": 2, "PROC": 3, "PHYS": 4, "LIVB": 5}


def choose_link(candidates: tuple[tuple[str, bool], ...], lexicon: Lexicon, exact_case: bool) -> Link:
    """Rank ``(concept_id, preferred)`` candidates and return the best as a ``Link``."""

    def rank(c: tuple[str, bool]) -> tuple[int, int, int, str]:
        cid, preferred = c
        group = lexicon.concepts.get(cid, ("", "UNKN", ()))[1]
        return (0 if preferred else 1, 0 if cid.startswith("MESH:D") else 1, GROUP_PRIORITY.get(group, 9), cid)

    ranked = sorted(candidates, key=rank)
    best, preferred = ranked[0]
    score = 1.0 if preferred else 0.95
    if len(ranked) > 1:
        score *= 0.9  # ambiguous surface form
    method = "dictionary:acronym" if exact_case else ("dictionary:preferred" if preferred else "dictionary:synonym")
    return Link(concept_id=best, score=round(score, 3), method=method,
                alternatives=tuple(cid for cid, _ in ranked[1:6]))
