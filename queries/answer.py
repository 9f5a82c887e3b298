"""From retrieved passages to a checked, cited ``Answer``.

One constrained LLM call: the output schema allows only the passage numbers
that were shown, so a citation can never point outside the context. The check
afterwards is independent of the model: each citation's quote must be exactly
the text of its chunk in the store at its offsets; citations that fail are
dropped, and an answer left without any valid citation abstains.
"""

from __future__ import annotations

import logging
from typing import Any

from medkg.kg import cypher
from medkg.kg.store import GraphStore
from medkg.queries import prompts
from medkg.queries.llm import LocalLLM
from medkg.queries.records import Answer, Citation, Passage
from medkg.queries.retrieve import Retrieval

log = logging.getLogger(__name__)

NO_EVIDENCE = "The indexed sources hold no evidence that answers this question."


def answer_schema(passages: list[Passage]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": 400},
            "citations": {"type": "array", "items": {"type": "integer", "enum": [p.cid for p in passages]},
                          "minItems": 1, "maxItems": min(3, len(passages))},
            "confidence": {"type": "number"},
        },
        "required": ["answer", "citations", "confidence"],
    }


def render_prompt(question: str, retrieval: Retrieval) -> str:
    parts = [prompts.PASSAGE.format(cid=p.cid, doc=p.pmid and f"PMID {p.pmid}" or p.doc_id,
                                    text=" ".join(p.text.split())) for p in retrieval.passages]
    if retrieval.background:
        parts.append("Vocabulary: " + "; ".join(retrieval.background))
    return prompts.USER.format(passages="\n".join(parts), question=question)


def generate_answer(question: str, retrieval: Retrieval, llm: LocalLLM, store: GraphStore) -> Answer:
    if retrieval.empty:
        return Answer(question=question, answer=NO_EVIDENCE, citations=[], confidence=0.0, abstained=True,
                      concepts=retrieval.concepts, retrieval_path=retrieval.path, model=llm.name)
    gen = llm.generate_json(prompts.SYSTEM, render_prompt(question, retrieval), answer_schema(retrieval.passages))
    by_cid = {p.cid: p for p in retrieval.passages}
    cited = [by_cid[c] for c in dict.fromkeys(gen.data.get("citations", [])) if c in by_cid]
    citations = verify_citations([Citation(id=p.cid, doc_id=p.doc_id, pmid=p.pmid, chunk_id=p.chunk_id,
                                           start=p.start, end=p.end, quote=p.text, tier=p.tier) for p in cited],
                                 store)
    text = str(gen.data.get("answer", "")).strip()
    abstained = not citations or not text
    confidence = min(max(float(gen.data.get("confidence", 0.0) or 0.0), 0.0), 1.0)
    return Answer(question=question, answer=NO_EVIDENCE if abstained else text, citations=citations,
                  confidence=0.0 if abstained else confidence, abstained=abstained, concepts=retrieval.concepts,
                  retrieval_path=retrieval.path, model=llm.name,
                  tokens={"prompt": gen.prompt_tokens, "completion": gen.completion_tokens})


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
