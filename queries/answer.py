"""From retrieved passages to a checked, cited ``Answer``.

One constrained LLM call: the output schema allows only the passage numbers
that were shown, and for multiple-choice and yes/no/maybe questions only the
given options, so a small model can neither cite outside the context nor
answer off the menu. An optional bottom-up refinement climbs the summaries
U-Retrieve descended through, one bounded call each.

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
from medkg.queries.context import Retrieval
from medkg.queries.llm import Generation, LocalLLM
from medkg.queries.records import Answer, Citation, Passage

log = logging.getLogger(__name__)

NO_EVIDENCE = "The indexed sources hold no evidence that answers this question."


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
    parts = [prompts.PASSAGE.format(cid=p.cid, doc=p.pmid and f"PMID {p.pmid}" or p.doc_id,
                                    text=" ".join(p.text.split())) for p in retrieval.passages]
    if retrieval.background:
        parts.append("Vocabulary: " + "; ".join(retrieval.background))
    return prompts.SYSTEM, prompts.USER.format(passages="\n".join(parts), question=question, options=opts,
                                               answer_hint=hint)


def generate_answer(question: str, retrieval: Retrieval, llm: LocalLLM, store: GraphStore,
                    options: list[str] | None = None, refine_calls: int = 0) -> Answer:
    llm_only = retrieval.mode == "llm-only"
    if retrieval.empty and not llm_only:
        return Answer(question=question, answer=NO_EVIDENCE, citations=[], confidence=0.0, abstained=True,
                      concepts=retrieval.concepts, retrieval_path=retrieval.path, model=llm.name,
                      mode=retrieval.mode)
    system, user = render_prompt(question, retrieval, options)
    schema = answer_schema(retrieval.passages, options)
    gen = llm.generate_json(system, user, schema)
    tokens = {"prompt": gen.prompt_tokens, "completion": gen.completion_tokens, "calls": 1}
    if retrieval.passages:
        for summary in retrieval.summaries[:refine_calls]:
            gen = _refine(llm, system, user, gen, summary, question, options, schema)
            tokens["prompt"] += gen.prompt_tokens
            tokens["completion"] += gen.completion_tokens
            tokens["calls"] += 1
    by_cid = {p.cid: p for p in retrieval.passages}
    cited = [by_cid[c] for c in dict.fromkeys(gen.data.get("citations", [])) if c in by_cid]
    citations = verify_citations([Citation(id=p.cid, doc_id=p.doc_id, pmid=p.pmid, chunk_id=p.chunk_id,
                                           start=p.start, end=p.end, quote=p.text, tier=p.tier) for p in cited],
                                 store)
    text = str(gen.data.get("answer", "")).strip()
    abstained = not text or (not citations and not llm_only)
    confidence = min(max(float(gen.data.get("confidence", 0.0) or 0.0), 0.0), 1.0)
    return Answer(question=question, answer=NO_EVIDENCE if abstained else text, citations=citations,
                  confidence=0.0 if abstained else confidence, abstained=abstained, concepts=retrieval.concepts,
                  retrieval_path=retrieval.path, model=llm.name, tokens=tokens, mode=retrieval.mode)


def _refine(llm: LocalLLM, system: str, user: str, gen: Generation, summary: str, question: str,
            options: list[str] | None, schema: dict[str, Any]) -> Generation:
    """One bottom-up step: show the current answer and a higher-level summary; keep or revise."""
    follow = prompts.REFINE.format(answer=gen.data.get("answer", ""), summary=summary, question=question,
                                   options=prompts.options_line(options), answer_hint=prompts.answer_hint(options))
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
