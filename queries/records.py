"""Typed records of query time: context passages, citations and the answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of context the LLM may cite: a chunk span of a document."""

    cid: int  # the citation number shown to the LLM, 1-based
    chunk_id: str
    doc_id: str
    pmid: str
    tier: int
    start: int
    end: int
    text: str
    section: str = ""
    score: float = 0.0
    reason: str = ""  # how retrieval reached it: "summary S1:3", "references from ..."


@dataclass(frozen=True, slots=True)
class Citation:
    """A cited passage: the document, chunk and character span (end exclusive) whose text is ``quote``."""

    id: int
    doc_id: str
    pmid: str
    chunk_id: str
    start: int
    end: int
    quote: str
    tier: int
    # rules of medkg.queries.injection that found text addressed to the model in the passage (it was quarantined
    # in the prompt; the quote is the stored text); empty: none
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlaggedPassage:
    """A passage of the context that carries instructions to the model (:mod:`medkg.queries.injection`).

    ``flags`` names the rules that fired; ``spans`` are the document character spans (end exclusive) of the
    sentences replaced in the prompt by a marker, ``removed`` their text. The passage is still cited, with its
    stored text, when the answer rests on it.
    """

    id: int  # the citation number of the passage
    doc_id: str
    pmid: str
    chunk_id: str
    flags: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    removed: str


@dataclass(frozen=True, slots=True)
class Finding:
    """What one report says of one concept, read from the graph's mention flags (a scoped question's context).

    ``status`` is ``present``, ``absent`` (negated: "denies", "no ..."), ``possible`` (uncertain), ``history``
    (past history), ``family`` (family history) or ``not mentioned`` (a disorder the question names that no
    mention of the report links to, nor to a narrower concept). ``passages`` are the citation numbers of the
    passages it was read in; ``chunk_id``, ``start`` and ``end`` locate its first mention in the document.
    """

    concept_id: str
    name: str  # the concept's name
    text: str  # as the document words it (the first mention); empty when not mentioned
    status: str
    passages: tuple[int, ...] = ()
    chunk_id: str = ""
    start: int = 0
    end: int = 0
    asked: bool = False  # the question names this concept, or a broader one


@dataclass(frozen=True, slots=True)
class ConceptRef:
    """A concept named in a question or an answer: its CURIE and name."""

    id: str
    name: str


@dataclass
class Answer:
    """An answer with its citations, confidence, the concepts read, how retrieval went, and its cost."""

    question: str
    answer: str
    citations: list[Citation]
    confidence: float
    abstained: bool = False
    concepts: list[ConceptRef] = field(default_factory=list)
    retrieval_path: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    model: str = ""
    mode: str = "uretrieve"
    prompt_version: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)  # per option, when options were given
    flagged: list[FlaggedPassage] = field(default_factory=list)  # context passages with instructions to the model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
