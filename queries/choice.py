"""Answers to questions with fixed options: option likelihood, contextual calibration, then citations.

Letting a small model *write* an option under a grammar gives the option whose
first token it finds most likely, and small models carry a strong prior for
some options whatever the context says: SmolLM2-135M answers "yes" to nearly
every PubMedQA question, with or without passages. The answer then tells more
about the model than about the evidence.

So the prompt is rendered with the model's own chat template and evaluated
once, and every option is scored by its log-likelihood as the value of
``"answer"`` in the JSON reply (all of its tokens and the closing quote); then
the model's prior is divided out:

- With evidence, *context-aware decoding* (Shi et al., 2023, "Trusting Your
  Evidence"): the same prompt with no evidence gives ``p(o | q)``, what the
  model believes before reading, and the answer is the argmax of
  ``(1 + a) log p(o | q, E) - a log p(o | q)`` (``a`` =
  ``AnswerSettings.evidence_weight``): the option the evidence moved the
  model towards. The two prompts share their prefix (system prompt and
  question come first), so the prior costs only the tokens after it.
- Without evidence (``llm-only``), *contextual calibration* (Zhao et al.,
  2021, "Calibrate before use"): the option probabilities of a content-free
  prompt ("N/A" as question) are divided out; they are computed once per
  model, prompt and option set, and cached.

Nothing is fitted on labelled data. The resulting probability of the chosen
option is the answer's confidence. On the first 60 PubMedQA dev questions
(where the choice was made; docs/benchmarks.md has the figures),
Qwen2.5-1.5B with findings-first context answered mostly "maybe" from its raw
scores; context-aware decoding is what made it follow the evidence.

The reply then continues from ``{"answer": "<chosen>", "citations": [`` under a
grammar that admits only the numbers of the passages shown (one to three of
them), so the model still says which passages support the answer, and the
citation check of :mod:`medkg.queries.answer` verifies their quotes.
All of this reuses the KV cache of the prompt: the options and the citations
cost a few tokens each, not another prompt evaluation.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from medkg.queries import prompts
from medkg.queries.llm import LocalLLM

log = logging.getLogger(__name__)

ANSWER_PREFIX = prompts.ANSWER_PREFIX
CITATIONS_PREFIX = prompts.CITATIONS_PREFIX
MAX_CITATIONS = 3


@dataclass(frozen=True)
class Choice:
    """The chosen option, every option's probability, and the passages cited for it."""

    option: str
    probabilities: dict[str, float]  # calibrated (or raw, when calibration is off), summing to 1 over the options
    citations: list[int]
    prompt_tokens: int
    completion_tokens: int


class OptionChooser:
    """Choose among options by likelihood against a prior; cite passages under a grammar."""

    def __init__(self, llm: LocalLLM) -> None:
        self.llm = llm
        self._cached_priors: dict[tuple[str, tuple[str, ...]], list[float]] = {}

    def choose(self, system: str, user: str, options: list[str], passage_ids: list[int],
               prior: Prior | None = None) -> Choice:
        """Score ``options`` for the chat turn (system, user) and divide out ``prior`` (None: raw scores)."""
        # the prior first: the answer prompt extends its prefix, and the citations extend the answer prompt,
        # so each step reuses the KV cache of the one before
        base = self._prior(prior, options) if prior is not None else None
        scores, prompt_tokens = self._score(system, user, options)
        if prior is not None and base is not None:
            scores = _normalise([s - prior.weight * b for s, b in zip(scores, base)])
        best = max(range(len(options)), key=lambda i: scores[i])
        probabilities = {o: round(math.exp(s), 4) for o, s in zip(options, scores)}
        completion = len(options)
        citations: list[int] = []
        if passage_ids:
            cont = self.llm.chat_tokens(system, user, ANSWER_PREFIX + options[best] + CITATIONS_PREFIX)
            gen = self.llm.continue_with_grammar(cont, citation_grammar(passage_ids), max_tokens=4 * MAX_CITATIONS)
            citations = [int(n) for n in re.findall(r"\d+", gen.data["text"])]
            completion += gen.completion_tokens
        return Choice(option=options[best], probabilities=probabilities, citations=citations,
                      prompt_tokens=prompt_tokens, completion_tokens=completion)

    def _score(self, system: str, user: str, options: list[str]) -> tuple[list[float], int]:
        prompt = self.llm.chat_tokens(system, user, ANSWER_PREFIX)
        return _normalise(self.llm.option_logprobs(prompt, options, suffix='"')), len(prompt)

    def _prior(self, prior: Prior, options: list[str]) -> list[float]:
        if not prior.cache:
            return self._score(*prior.prompt, options)[0]
        key = ("\n".join(prior.prompt), tuple(options))
        if key not in self._cached_priors:
            self._cached_priors[key] = self._score(*prior.prompt, options)[0]
            log.debug("content-free option probabilities %s",
                      {o: round(math.exp(s), 3) for o, s in zip(options, self._cached_priors[key])})
        return self._cached_priors[key]


@dataclass(frozen=True)
class Prior:
    """A prompt whose option scores are divided out, with what weight, and whether it can be cached.

    Contextual calibration: the content-free prompt, weight 1, cached (it does not depend on the question).
    Context-aware decoding with strength ``alpha``: the same question without evidence, weight
    ``alpha / (1 + alpha)`` (the argmax of ``(1 + alpha) log p(o|q,E) - alpha log p(o|q)``), not cached.
    """

    prompt: tuple[str, str]
    weight: float = 1.0
    cache: bool = False

    @classmethod
    def context_aware(cls, evidence_free: tuple[str, str], alpha: float) -> Prior:
        return cls(evidence_free, alpha / (1.0 + alpha))


def citation_grammar(passage_ids: list[int]) -> str:
    """GBNF for the rest of a citation list: 1 to MAX_CITATIONS shown passage numbers, then ``]``."""
    cid = " | ".join(f'"{n}"' for n in sorted(set(passage_ids)))
    more = ' ("," " "? cid)?' * (min(MAX_CITATIONS, len(set(passage_ids))) - 1)
    return f'root ::= cid{more} "]"\ncid ::= {cid}\n'


def _normalise(logprobs: list[float]) -> list[float]:
    """Log-softmax over the options only."""
    top = max(logprobs)
    total = top + math.log(sum(math.exp(x - top) for x in logprobs))
    return [x - total for x in logprobs]
