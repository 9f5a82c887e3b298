"""Every prompt medkg sends to an LLM, in one place and versioned.

Bump ``PROMPT_VERSION`` when a text changes: answers record it, so results of
two evaluations are only compared when they used the same prompts.
"""

from __future__ import annotations

PROMPT_VERSION = "answer-v1"

SYSTEM = (
    "You are a careful medical research assistant. Answer the question using only the numbered passages. "
    "Cite the numbers of the passages that support your answer. If the passages do not contain the answer, "
    "say that the sources do not answer the question."
)

USER = """Passages:
{passages}

Question: {question}

Reply in JSON with "answer" (one or two sentences), "citations" (passage numbers) and "confidence" (0 to 1)."""

PASSAGE = "[{cid}] ({doc}) {text}"
