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

# what the model reads in place of a passage's sentences addressed to it (medkg.queries.injection); prompts without
# such sentences are unchanged, so PROMPT_VERSION was not bumped
QUARANTINED = "[text addressed to the model removed]"

# the answer medkg gives when a free-text reply repeats what such a sentence wanted said
ABSTAIN_INJECTED = ("The answer was withheld: it repeated text that a passage addressed to the model instead of "
                    "drawing on the evidence.")

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

# -- questions scoped to one document (medkg.queries.scoped: ``medkg ask --document ID``) ------------------------
# Their prompts differ from the others only where the scope needs it: this system prompt, a source label on each
# passage, and the findings read in the report before the passages; ``Answer.prompt_version`` is then
# "<PROMPT_VERSION>+<DOCUMENT_PROMPT_VERSION>".
DOCUMENT_PROMPT_VERSION = "document-v1"

SYSTEM_DOCUMENT = (
    "You are a careful medical assistant. The question is about one document, a patient's report or a paper. "
    "Answer it using only the numbered evidence passages: the document's own passages, and literature passages "
    "linked to the findings of a report. Cite the numbers of the passages that support your answer: the "
    "document's passages for what it says, literature passages for what the literature adds. A finding "
    "mentioned as absent (\"no X\", \"denies X\", \"X was ruled out\") is mentioned by the report, as absent; one "
    "not mentioned does not appear in it; a suspected one is not confirmed. If the passages do not "
    "contain the answer, say that they do not."
)

# the reply of a free-text question about a report with literature in its context: what the report says and what
# the literature adds are separate fields, each with its own citations, so a statement drawn from the literature
# always cites it (medkg.queries.answer joins the two into the answer)
REPLY_DOCUMENT = ('"answer" (the answer from the report, one or two short sentences), "citations" (their passage '
                  'numbers), "literature" (what the literature passages add to it, one short sentence in your own '
                  'words; "" if they do not bear on the question), "literature_citations" (their passage numbers) '
                  'and "confidence" (0 to 1)')

PASSAGE_SOURCED = "[{cid}] ({source}) {text}"
SOURCE_REPORT = "this report"  # the scoped document, when it is a report (tier 1)
SOURCE_PAPER = "this paper"  # the scoped document, when it is literature
SOURCE_SECTION = "{source}, {section}"
SOURCE_LITERATURE = "literature, PMID {pmid}"
SOURCE_OTHER = "literature, {doc_id}"  # a literature document without a PMID

# the findings of the scoped report, generated from the graph's mention flags, before its passages: what the
# question asks about as whole sentences first (a small model copies a sentence more reliably than it reads a
# list), then the other findings as a list
FINDING_ASKED = {"present": "This report mentions {name} [{passages}].",
                 "absent": "This report does mention {name}, and says it is absent [{passages}].",
                 "possible": "This report mentions {name} as suspected, not confirmed [{passages}].",
                 "history": "This report mentions {name} in the past history [{passages}].",
                 "family": "This report mentions {name} in the family history [{passages}].",
                 "not mentioned": "This report does not mention {name}."}
FINDINGS = "Findings read in this report: {items}."
FINDINGS_OTHER = "Other findings read in this report: {items}."
FINDING = "{name}: {status} [{passages}]"
FINDING_UNSEEN = "{name}: {status}"
FINDING_NAME = "{text} ({concept})"  # when the report words a finding otherwise than its concept's name
FINDING_STATUS = {"present": "present", "absent": "mentioned as absent", "possible": "suspected",
                  "history": "past history", "family": "family history", "not mentioned": "not mentioned"}

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
