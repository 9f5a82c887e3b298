"""The knobs of a question: how evidence is retrieved, and how the answer is made from it.

Both are plain records with the defaults the evaluation chose; the CLI, the
Python API and the evaluation harness pass them unchanged, and every mode
(U-Retrieve and the baselines) reads the same :class:`RetrievalSettings`, so
a comparison of modes differs only in retrieval.
"""

from __future__ import annotations

from dataclasses import dataclass

from medkg.errors import QueryError

MODES = ("uretrieve", "llm-only", "vector", "bm25", "hybrid")  # U-Retrieve and the baselines beside it


# the range of each whole-number knob: beyond these a question fills no context better, only slower (a budget
# larger than any local model's context window, a beam over every summary, hops past the graph's depth)
LIMITS: dict[str, tuple[int, int]] = {"beam": (1, 100), "top_chunks": (1, 200), "hops": (0, 3),
                                      "max_references": (0, 50), "budget_tokens": (1, 131_072),
                                      "relations": (0, 50), "document_budget_tokens": (1, 131_072)}


@dataclass(frozen=True)
class RetrievalSettings:
    """How evidence is found and packed into the prompt."""

    beam: int = 3  # U-Retrieve: top-level summaries to descend into
    top_chunks: int = 4  # passages taken from the chosen summaries
    hops: int = 1  # graph hops through REFERENCES and concepts (0 = none)
    max_references: int = 2
    budget_tokens: int = 160  # sized for a 1.5B model on 2 CPU cores (p50 < 10 s); raise it on a GPU
    # weights chosen on the PubMedQA development split (retrieval recall@5, all 500 questions)
    dense_weight: float = 0.7
    bm25_weight: float = 0.2
    tag_weight: float = 0.1
    min_relevance: float = 0.3  # below this best chunk score, the graph holds no evidence
    findings_first: bool = True  # U-Retrieve: the best document's findings sections lead the context
    relations: int = 2  # U-Retrieve: evidence passages of typed relations at the question's concepts (0: none)
    # a question scoped to one document (ask(..., document=ID)): its passages, the findings read in them and the
    # literature their entities REFERENCE share this budget instead of budget_tokens (a report and two abstracts)
    document_budget_tokens: int = 480

    def check(self) -> RetrievalSettings:
        """Refuse values no retrieval can use, naming the setting; returns ``self``."""
        for name, (least, most) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise QueryError(f"{name} must be a whole number (got {value!r})")
            if not least <= value <= most:
                raise QueryError(f"{name} must be between {least} and {most:,} (got {value:,})")
        for name in ("dense_weight", "bm25_weight", "tag_weight", "min_relevance"):
            if not 0 <= getattr(self, name) <= 1:
                raise QueryError(f"{name} must be between 0 and 1 (got {getattr(self, name)})")
        return self


@dataclass(frozen=True)
class AnswerSettings:
    """How the LLM answers from the retrieved passages."""

    refine: bool = False  # bottom-up refinement with the chosen summaries
    max_refine_calls: int = 2
    calibrate: bool = True  # options: divide out the model's prior (medkg.queries.choice)
    evidence_weight: float = 1.0  # options with evidence: strength of context-aware decoding (0: calibration)

    def check(self) -> AnswerSettings:
        """Refuse values no answer can use, naming the setting; returns ``self``."""
        if not 0 <= self.evidence_weight <= 100:
            raise QueryError(f"evidence_weight must be between 0 and 100 (got {self.evidence_weight})")
        if not 0 <= self.max_refine_calls <= 10:
            raise QueryError(f"max_refine_calls must be between 0 and 10 (got {self.max_refine_calls})")
        return self
