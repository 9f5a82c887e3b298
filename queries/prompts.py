"""Every prompt medkg sends to an LLM, in one place and versioned.

Bump ``PROMPT_VERSION`` when a text changes: answers record it, so results of
two evaluations are only compared when they used the same prompts.
"""

from __future__ import annotations

PROMPT_VERSION = "answer-v2"

SYSTEM = (
    "You are a careful medical research assistant. Answer the question using only the numbered passages. "
    "Cite the numbers of the passages that support your answer. If the passages do not contain the answer, "
    "say that the sources do not answer the question."
)

USER = """Passages:
{passages}

Question: {question}
{options}
Reply in JSON with "answer"{answer_hint}, "citations" (passage numbers) and "confidence" (0 to 1)."""

SYSTEM_NO_CONTEXT = "You are a careful medical research assistant. Answer the question from what you know."

USER_NO_CONTEXT = """Question: {question}
{options}
Reply in JSON with "answer"{answer_hint} and "confidence" (0 to 1)."""

PASSAGE = "[{cid}] ({doc}) {text}"

OPTIONS = "Choose one of: {options}."

REFINE = """Current answer: {answer}

More context, a summary of related literature: {summary}

Keep or revise the answer. Question: {question}
{options}
Reply in JSON with "answer"{answer_hint}, "citations" (passage numbers from before) and "confidence"."""


def answer_hint(options: list[str] | None) -> str:
    return " (one of the options)" if options else " (one or two sentences)"


def options_line(options: list[str] | None) -> str:
    return OPTIONS.format(options=", ".join(options)) + "\n" if options else ""
