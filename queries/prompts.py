"""Every prompt medkg sends to an LLM, in one place and versioned.

Bump ``PROMPT_VERSION`` when a text changes: answers record it, so results of
two evaluations are only compared when they used the same prompts.
"""

from __future__ import annotations

PROMPT_VERSION = "answer-v3"  # v3: options scored by calibrated likelihood, not generated

SYSTEM = (
    "You are a careful medical research assistant. Answer the question using only the numbered evidence "
    "passages. Cite the numbers of the passages that support your answer. If the passages do not contain the "
    "answer, say that the sources do not answer the question."
)

# The question and the instruction come first, the evidence last. On pairs of supporting and contradicting
# findings written for the purpose, Qwen2.5-1.5B answered 4 of 8 right with the passages first and 8 of 8 this way
# (context-aware scoring). And the prompt without evidence (medkg.queries.answer.evidence_free_prompt) then
# shares all but its last tokens with this one, so the model's prior costs a few tokens, not a second prompt.
USER = """Question: {question}
According to the evidence below, what is the answer to the question? {options}
Reply in JSON with {reply}.

Evidence:
{passages}"""

# what the JSON reply holds: option answers are scored, so their confidence is not asked for (fewer prompt tokens)
REPLY_OPTIONS = '"answer" and "citations" (passage numbers)'
REPLY_FREE = '"answer" (one or two sentences), "citations" (passage numbers) and "confidence" (0 to 1)'

NO_EVIDENCE = "(none)"  # the evidence of the evidence-free prompt (context-aware decoding's prior)

# the answer medkg gives, without asking the model, when retrieval found nothing relevant
ABSTAIN = "The indexed sources hold no evidence that answers this question."

# what the vocabulary adds after the passages (definitions, broader concepts)
BACKGROUND = "Vocabulary: {items}"

# contextual calibration: a content-free question and passage
CONTENT_FREE = "N/A"

# option scoring continues the JSON reply the model would write (medkg.queries.choice)
ANSWER_PREFIX = '{"answer": "'
CITATIONS_PREFIX = '", "citations": ['

SYSTEM_NO_CONTEXT = "You are a careful medical research assistant. Answer the question from what you know."

USER_NO_CONTEXT = """Question: {question}
{options}
Reply in JSON with "answer"{answer_hint} and "confidence" (0 to 1)."""

PASSAGE = "[{cid}] {text}"

OPTIONS = "Choose one of: {options}."

REFINE = """Current answer: {answer}

More context, a summary of related literature: {summary}

Keep or revise the answer. Question: {question}
{options}
Reply in JSON with "answer"{answer_hint}, "citations" (passage numbers from before) and "confidence"."""


# `medkg summaries rewrite`: one sentence per topic or theme (medkg.queries.summary_rewrite)
SUMMARY_SYSTEM = (
    "You label groups of medical passages for a knowledge-graph index. In one sentence of at most 30 words, "
    "name the subject the passages share: the diseases, drugs, tests or procedures they study. Do not report "
    "results, numbers or conclusions.")
SUMMARY_USER = "Index entry: {extractive}\n{evidence}One sentence:"
SUMMARY_EVIDENCE = "- {text}\n"

# `medkg models verify`: a few constrained tokens to time a model
VERIFY_SYSTEM = "Answer briefly."
VERIFY_USER = "Is aspirin a drug? Reply in JSON with answer yes or no."


def answer_hint(options: list[str] | None) -> str:
    return " (one of the options)" if options else " (one or two sentences)"


def options_line(options: list[str] | None) -> str:
    return OPTIONS.format(options=", ".join(options)) + "\n" if options else ""


def reply(options: list[str] | None) -> str:
    return REPLY_OPTIONS if options else REPLY_FREE


def options_inline(options: list[str] | None) -> str:
    return OPTIONS.format(options=", ".join(options)) if options else ""
