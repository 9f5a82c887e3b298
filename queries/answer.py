"""From retrieved passages to a checked, cited ``Answer``.

Free-text questions: one constrained LLM call whose output schema allows only
the passage numbers that were shown. Multiple-choice and yes/no/maybe
questions: the options are scored by calibrated likelihood and the citations
generated under a grammar of the shown passage numbers
(:mod:`medkg.queries.choice`). Either way a small model can neither cite
outside the context nor answer off the menu. An optional bottom-up
refinement climbs the summaries U-Retrieve descended through, one bounded
call each.

The check afterwards is independent of the model: each citation's quote must
be exactly the text of its chunk in the store at its offsets; citations that
fail are dropped, and an answer left without any valid citation abstains.
In ``llm-only`` mode there is no context to cite, so the answer carries none
and says so in its retrieval path.
"""

from __future__ import annotations

import logging
from typing import Any

from medkg.kg import cypher
from medkg.kg.store import GraphStore
from medkg.queries import prompts
from medkg.queries.choice import OptionChooser, Prior
from medkg.queries.llm import Generation, LocalLLM
from medkg.queries.records import Answer, Citation, Passage
from medkg.queries.retrieval import Retrieval
from medkg.queries.settings import AnswerSettings

log = logging.getLogger(__name__)

NO_EVIDENCE = prompts.ABSTAIN  # kept under its old name for callers that compare answers with it


def answer_schema(passages: list[Passage], options: list[str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"type": "string", "enum": options} if options else {"type": "string",
                                                                                    "maxLength": 400}
    props: dict[str, Any] = {"answer": answer, "confidence": {"type": "number"}}
    required = ["answer", "confidence"]
    if passages:
        props["citations"] = {"type": "array", "items": {"type": "integer", "enum": [p.cid for p in passages]},
                              "minItems": 1, "maxItems": min(3, len(passages))}
        required.insert(1, "citations")
    return {"type": "object", "properties": props, "required": required}


def render_prompt(question: str, retrieval: Retrieval, options: list[str] | None = None) -> tuple[str, str]:
    hint, opts = prompts.answer_hint(options), prompts.options_line(options)
    if not retrieval.passages:
        return prompts.SYSTEM_NO_CONTEXT, prompts.USER_NO_CONTEXT.format(question=question, options=opts,
                                                                         answer_hint=hint)
    parts = [prompts.PASSAGE.format(cid=p.cid, text=" ".join(p.text.split())) for p in retrieval.passages]
    if retrieval.background:
        parts.append(prompts.BACKGROUND.format(items="; ".join(retrieval.background)))
    return prompts.SYSTEM, _user(question, "\n".join(parts), options)


def _user(question: str, passages: str, options: list[str] | None) -> str:
    return prompts.USER.format(passages=passages, question=question, options=prompts.options_inline(options),
                               reply=prompts.reply(options))


def _follow_up(answer: str, summary: str, question: str, options: list[str] | None) -> str:
    """The refinement turn: the current answer and a higher-level summary; keep or revise."""
    return prompts.REFINE.format(answer=answer, summary=summary, question=question,
                                 options=prompts.options_line(options), answer_hint=prompts.answer_hint(options))


def evidence_free_prompt(question: str, options: list[str] | None) -> tuple[str, str]:
    """The prompt with the question but no evidence: what the model believes before reading the passages.

    It has the same template as :func:`render_prompt`, so the two share their prefix (the system prompt and
    the question) and the second costs only the tokens after it.
    """
    return prompts.SYSTEM, _user(question, prompts.NO_EVIDENCE, options)


def content_free_prompt(retrieval: Retrieval, options: list[str] | None) -> tuple[str, str]:
    """The prompt shape of ``retrieval`` with "N/A" as question and passage (for contextual calibration)."""
    blank_text = prompts.CONTENT_FREE
    dummy = [Passage(cid=1, chunk_id="", doc_id=blank_text, pmid="", tier=2, start=0, end=len(blank_text),
                     text=blank_text)]
    blank = Retrieval(dummy if retrieval.passages else [], [], mode=retrieval.mode)
    return render_prompt(prompts.CONTENT_FREE, blank, options)


def generate_answer(question: str, retrieval: Retrieval, llm: LocalLLM, store: GraphStore,
                    options: list[str] | None = None, settings: AnswerSettings | None = None,
                    chooser: OptionChooser | None = None) -> Answer:
    """Answer from ``retrieval``; questions with ``options`` are answered by :mod:`medkg.queries.choice`.

    ``settings`` supplies refinement (``refine``, ``max_refine_calls``) and option scoring (``calibrate``,
    ``evidence_weight``); ``chooser`` keeps cached priors between questions.
    """
    st = settings or AnswerSettings()
    refine_calls = st.max_refine_calls if st.refine else 0
    llm_only = retrieval.mode == "llm-only"
    if retrieval.empty and not llm_only:
        return Answer(question=question, answer=NO_EVIDENCE, citations=[], confidence=0.0, abstained=True,
                      concepts=retrieval.concepts, retrieval_path=retrieval.path, model=llm.name,
                      mode=retrieval.mode)
    system, user = render_prompt(question, retrieval, options)
    refine = retrieval.summaries[:refine_calls] if retrieval.passages else []
    if options and llm.can_score:
        prior = _prior(question, retrieval, options, st.evidence_weight) if st.calibrate else None
        data, tokens = _choose(chooser or OptionChooser(llm), system, user, question, retrieval, options,
                               refine, prior)
    else:
        data, tokens = _generate(llm, system, user, question, retrieval, options, refine)
    by_cid = {p.cid: p for p in retrieval.passages}
    cited = [by_cid[c] for c in dict.fromkeys(data.get("citations", [])) if c in by_cid]
    citations = verify_citations([Citation(id=p.cid, doc_id=p.doc_id, pmid=p.pmid, chunk_id=p.chunk_id,
                                           start=p.start, end=p.end, quote=p.text, tier=p.tier) for p in cited],
                                 store)
    text = str(data.get("answer", "")).strip()
    abstained = not text or (not citations and not llm_only)
    confidence = min(max(float(data.get("confidence", 0.0) or 0.0), 0.0), 1.0)
    return Answer(question=question, answer=NO_EVIDENCE if abstained else text, citations=citations,
                  confidence=0.0 if abstained else confidence, abstained=abstained, concepts=retrieval.concepts,
                  retrieval_path=retrieval.path, model=llm.name, tokens=tokens, mode=retrieval.mode,
                  probabilities={} if abstained else data.get("probabilities", {}))


def _prior(question: str, retrieval: Retrieval, options: list[str], evidence_weight: float) -> Prior:
    """With evidence: the same question without it (context-aware decoding); without: content-free calibration."""
    if retrieval.passages and evidence_weight > 0:
        return Prior.context_aware(evidence_free_prompt(question, options), evidence_weight)
    return Prior(content_free_prompt(retrieval, options), cache=True)


def _choose(chooser: OptionChooser, system: str, user: str, question: str, retrieval: Retrieval,
            options: list[str], refine: list[str], prior: Prior | None) -> tuple[dict[str, Any], dict[str, int]]:
    """Options by likelihood against ``prior``; each refinement step re-scores with a higher summary appended."""
    ids = [p.cid for p in retrieval.passages]
    choice = chooser.choose(system, user, options, ids, prior)
    tokens = {"prompt": choice.prompt_tokens, "completion": choice.completion_tokens, "calls": 1}
    for summary in refine:
        follow = _follow_up(choice.option, summary, question, options)
        choice = chooser.choose(system, f"{user}\n\n{follow}", options, ids, prior)
        tokens["prompt"] += choice.prompt_tokens
        tokens["completion"] += choice.completion_tokens
        tokens["calls"] += 1
    data = {"answer": choice.option, "citations": choice.citations,
            "confidence": choice.probabilities[choice.option], "probabilities": choice.probabilities}
    return data, tokens


def _generate(llm: LocalLLM, system: str, user: str, question: str, retrieval: Retrieval,
              options: list[str] | None, refine: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """One schema-constrained completion, plus bounded refinement."""
    schema = answer_schema(retrieval.passages, options)
    gen = llm.generate_json(system, user, schema)
    tokens = {"prompt": gen.prompt_tokens, "completion": gen.completion_tokens, "calls": 1}
    for summary in refine:
        gen = _refine(llm, system, user, gen, summary, question, options, schema)
        tokens["prompt"] += gen.prompt_tokens
        tokens["completion"] += gen.completion_tokens
        tokens["calls"] += 1
    return gen.data, tokens


def _refine(llm: LocalLLM, system: str, user: str, gen: Generation, summary: str, question: str,
            options: list[str] | None, schema: dict[str, Any]) -> Generation:
    """One bottom-up step: show the current answer and a higher-level summary; keep or revise."""
    follow = _follow_up(str(gen.data.get("answer", "")), summary, question, options)
    return llm.generate_json(system, f"{user}\n\n{follow}", schema)


def verify_citations(citations: list[Citation], store: GraphStore) -> list[Citation]:
    """Keep only citations whose quote is exactly the stored chunk text at the cited offsets."""
    if not citations:
        return []
    rows = {r["id"]: r for r in store.query(cypher.CHUNKS_BY_ID, {"ids": [c.chunk_id for c in citations]})}
    valid = []
    for c in citations:
        r = rows.get(c.chunk_id)
        ok = (r is not None and r["doc_id"] == c.doc_id and int(r["start"]) <= c.start <= c.end <= int(r["end_"])
              and r["text"][c.start - int(r["start"]) : c.end - int(r["start"])] == c.quote)
        if ok:
            valid.append(c)
        else:
            log.warning("dropped citation %d: quote not found at %s[%d:%d]", c.id, c.doc_id, c.start, c.end)
    return valid
