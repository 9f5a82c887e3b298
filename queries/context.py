"""What every retrieval mode shares: settings, the question analysis, and context packing.

All modes (U-Retrieve and the baselines) hand over a ranked list of chunks;
:func:`pack_passages` turns it into numbered passages under one token budget,
so that comparisons between modes are fair: the same question analysis, the
same prompt, the same budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medkg.kg import cypher
from medkg.kg.store import GraphStore
from medkg.pipelines.records import chunk_position
from medkg.queries.records import ConceptRef, Passage

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """About four characters a token for English prose (used before a model is loaded)."""
    return max(1, len(text) // 4)


@dataclass
class RetrievalSettings:
    beam: int = 3
    top_chunks: int = 4
    hops: int = 1
    max_references: int = 2
    budget_tokens: int = 160  # sized for a 1.5B model on 2 CPU cores (p50 < 10 s); raise it on a GPU
    # weights chosen on the PubMedQA development split (retrieval recall@5, all 500 questions)
    dense_weight: float = 0.7
    bm25_weight: float = 0.2
    tag_weight: float = 0.1
    min_relevance: float = 0.3  # below this best chunk score, the graph holds no evidence
    findings_first: bool = True  # U-Retrieve: the best document's findings sections lead the context
    refine: bool = False  # bottom-up refinement with the chosen summaries
    calibrate: bool = True  # options: divide out the model's prior (medkg.queries.choice)
    evidence_weight: float = 1.0  # options with evidence: strength of context-aware decoding (0: calibration)
    max_refine_calls: int = 2


@dataclass
class QuestionAnalysis:
    concepts: list[ConceptRef]
    tags: set[str]
    vector: np.ndarray


@dataclass
class Retrieval:
    passages: list[Passage]
    concepts: list[ConceptRef]
    background: list[str] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)  # document ids, best first (for recall@k)
    summaries: list[str] = field(default_factory=list)  # summary texts a refinement may climb
    path: dict[str, Any] = field(default_factory=dict)
    mode: str = ""

    @property
    def empty(self) -> bool:
        return not self.passages


def rank_documents(chunk_ids: list[str], depth: int = 10) -> list[str]:
    """Document ids in the order their first chunk appears in a chunk ranking."""
    out: list[str] = []
    for cid in chunk_ids:
        doc = chunk_position(cid)[0]
        if doc not in out:
            out.append(doc)
            if len(out) == depth:
                break
    return out


def pack_passages(store: GraphStore, picked: list[tuple[str, float, str]], budget_tokens: int,
                  count: TokenCounter = approx_tokens) -> list[Passage]:
    """Fetch ``(chunk_id, score, reason)`` in order and number them until the token budget is spent.

    The first passage is always kept, even when it alone exceeds the budget.
    """
    rows = {r["id"]: r for r in store.query(cypher.CHUNKS_BY_ID, {"ids": [c for c, _, _ in picked]})}
    out: list[Passage] = []
    used = 0
    for chunk_id, score, reason in picked:
        r = rows.get(chunk_id)
        if r is None:
            continue
        cost = count(r["text"])
        if out and used + cost > budget_tokens:
            continue
        used += cost
        out.append(Passage(cid=len(out) + 1, chunk_id=chunk_id, doc_id=r["doc_id"], pmid=r["pmid"] or "",
                           tier=int(r["tier"]), start=int(r["start"]), end=int(r["end_"]), text=r["text"],
                           section=r["section"] or "", score=round(score, 4), reason=reason))
    return out
