"""What every retrieval mode shares: the question analysis, the ``Retriever`` protocol, and context packing.

All modes (U-Retrieve and the baselines) hand over a ranked list of chunks;
:func:`pack_passages` turns it into numbered passages under one token budget,
so that comparisons between modes are fair: the same question analysis, the
same prompt, the same budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from medkg.kg import cypher
from medkg.kg.records import chunk_position
from medkg.kg.store import GraphStore
from medkg.queries.records import ConceptRef, Finding, Passage
from medkg.queries.settings import RetrievalSettings

__all__ = ["QuestionAnalysis", "Retrieval", "Retriever", "RetrievalSettings", "TokenCounter", "approx_tokens",
           "pack_passages", "rank_documents"]

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """About four characters a token for English prose (used before a model is loaded)."""
    return max(1, len(text) // 4)


@dataclass
class QuestionAnalysis:
    """A question read by the extraction pipeline: its concepts, their tags, and its embedding."""

    concepts: list[ConceptRef]
    tags: set[str]
    vector: np.ndarray
    # concepts the question names under a negation ("no fever?"): kept out of retrieval's ranking, but a question
    # scoped to a report asks about them all the same
    negated: list[ConceptRef] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # semantic group of each concept above (DISO, CHEM...)


@dataclass
class Retrieval:
    """What a retriever found: numbered passages, the question's concepts, and how it got there (``path``)."""

    passages: list[Passage]
    concepts: list[ConceptRef]
    background: list[str] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)  # document ids, best first (for recall@k)
    summaries: list[str] = field(default_factory=list)  # summary texts a refinement may climb
    path: dict[str, Any] = field(default_factory=dict)
    mode: str = ""
    scope: str = ""  # the document a scoped question is about (medkg.queries.scoped); empty: the whole graph
    scope_tier: int = 0
    findings: list[Finding] = field(default_factory=list)  # what the graph read in that document, with flags

    @property
    def empty(self) -> bool:
        return not self.passages


class Retriever(Protocol):
    """One retrieval mode: U-Retrieve (:mod:`medkg.queries.uretrieve`) or a baseline (:mod:`medkg.queries.baselines`).

    Every mode takes the same question analysis and returns passages packed under the same token budget
    (:func:`pack_passages`), so modes differ only in what they retrieve.
    """

    name: str

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        """Evidence for ``question`` (read as ``q``); no passages when nothing is relevant enough."""
        ...


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
