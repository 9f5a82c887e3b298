"""Negation and speculation cues (word lists over lower-cased tokens).

Scope is approximated by position: a cue between the two mentions of a pair, or in
the few tokens before the first of them ("no X-induced Y", "X did not cause Y").
Cue words are also model features, so the classifier learns how much they matter;
these functions only set the output flags.
"""

from __future__ import annotations

from collections.abc import Sequence

NEGATION = frozenset({
    "not", "no", "without", "neither", "nor", "absence", "absent", "lack", "lacked", "lacking", "none", "never",
    "fail", "failed", "fails", "unlikely", "t", "cannot", "nothing", "free"
})
SPECULATION = frozenset({
    "may", "might", "could", "possible", "possibly", "possibility", "suggest", "suggests", "suggested",
    "suggesting", "suggestive", "likely", "probably", "probable", "potential", "potentially", "appear", "appears",
    "appeared", "seem", "seems", "seemed", "hypothesis", "hypothesize", "hypothesized", "whether", "putative",
    "perhaps", "speculate", "speculated", "presumably", "presumed", "suspected", "suspect", "question",
    "questionable", "uncertain", "unclear"
})
PRE_WINDOW = 3


def has_cue(tokens: Sequence[str], cues: frozenset[str]) -> bool:
    return any(t in cues for t in tokens)


def scoped_tokens(sentence: Sequence[str], first: int, last: int) -> Sequence[str]:
    """Tokens between positions ``first`` and ``last`` plus a short window before ``first``."""
    return sentence[max(0, first - PRE_WINDOW) : last]


def is_negated(sentence: Sequence[str], first: int, last: int) -> bool:
    return has_cue(scoped_tokens(sentence, first, last), NEGATION)


def is_speculative(sentence: Sequence[str]) -> bool:
    """Hedging anywhere in the sentence counts ("These results suggest that X induces Y")."""
    return has_cue(sentence, SPECULATION)
