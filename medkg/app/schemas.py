"""Request bodies of the API (pydantic, so that the OpenAPI document describes them) and their conversions.

Bounds are generous for real use and refuse only what would tie up the server: a beam of 1,000 or a
100,000-token budget cannot help a 4,096-token model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medkg.app.asking import Question
from medkg.queries.api import MAX_QUESTION_CHARS
from medkg.queries.settings import AnswerSettings, RetrievalSettings

Mode = Literal["uretrieve", "llm-only", "vector", "bm25", "hybrid"]


class RetrievalKnobs(BaseModel):
    """How evidence is found (``RetrievalSettings``); a field left out keeps its default."""

    model_config = ConfigDict(extra="forbid")

    beam: int | None = Field(default=None, ge=1, le=20, description="U-Retrieve: topics to descend into (default 3)")
    top_chunks: int | None = Field(default=None, ge=1, le=50,
                                   description="passages from the chosen summaries (default 4)")
    hops: int | None = Field(default=None, ge=0, le=3,
                             description="graph hops through REFERENCES and concepts (default 1)")
    max_references: int | None = Field(default=None, ge=0, le=20, description="literature passages through REFERENCES")
    budget_tokens: int | None = Field(default=None, ge=16, le=8192,
                                      description="context budget in LLM tokens (default 160)")
    dense_weight: float | None = Field(default=None, ge=0, le=1)
    bm25_weight: float | None = Field(default=None, ge=0, le=1)
    tag_weight: float | None = Field(default=None, ge=0, le=1)
    min_relevance: float | None = Field(default=None, ge=0, le=1,
                                        description="below this best score the answer abstains")
    findings_first: bool | None = Field(default=None, description="U-Retrieve: the best document's findings lead")
    document_budget_tokens: int | None = Field(default=None, ge=16, le=8192,
                                               description="context budget of a question scoped to a document "
                                                           "(default 480)")

    def settings(self) -> RetrievalSettings:
        return RetrievalSettings(**self.model_dump(exclude_none=True)).check()


class AnswerKnobs(BaseModel):
    """How the answer is made (``AnswerSettings``); a field left out keeps its default."""

    model_config = ConfigDict(extra="forbid")

    refine: bool | None = Field(default=None, description="bottom-up refinement over the chosen summaries")
    max_refine_calls: int | None = Field(default=None, ge=0, le=5)
    calibrate: bool | None = Field(default=None, description="options: divide out the model's prior")
    evidence_weight: float | None = Field(default=None, ge=0, le=5,
                                          description="options: context-aware decoding strength")

    def settings(self) -> AnswerSettings:
        return AnswerSettings(**self.model_dump(exclude_none=True)).check()


class AskBody(BaseModel):
    """A question, optionally with answers to choose from, a retrieval mode and the knobs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Are leukocyte count and CRP useful to diagnose acute appendicitis?",
         "options": ["yes", "no", "maybe"], "mode": "uretrieve", "retrieval": {"top_chunks": 4}}]})

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    options: list[str] | None = Field(default=None, min_length=1, max_length=12,
                                      description="answers to choose from, e.g. yes, no, maybe")
    mode: Mode = "uretrieve"
    retrieval: RetrievalKnobs = Field(default_factory=RetrievalKnobs)
    answer: AnswerKnobs = Field(default_factory=AnswerKnobs)
    document: str | None = Field(default=None, min_length=1, max_length=500,
                                 description="scope the question to one document (e.g. report:note-01-abdominal-pain): "
                                             "its passages, its findings and the literature its entities reference; "
                                             "an unknown id is a 404")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the question is empty")
        return v

    @field_validator("options")
    @classmethod
    def _options(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not o.strip() or len(o) > 200 for o in v):
            raise ValueError("each option must be 1 to 200 characters, not blank")
        return v

    def question_record(self) -> Question:
        """The checked question (settings that no retrieval can use raise ``QueryError`` here, a 400)."""
        return Question(text=self.question, settings=self.retrieval.settings(),
                        answer_settings=self.answer.settings(), mode=self.mode,
                        options=[o.strip() for o in self.options] if self.options else None,
                        document=self.document.strip() if self.document else None)


class CypherBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "MATCH (c:Concept)<-[:IS_A]-(e:Entity) RETURN c.name AS concept, count(e) AS mentions "
                  "ORDER BY mentions DESC LIMIT 5"}]})

    query: str = Field(min_length=1, max_length=20_000)
    params: dict[str, Any] = Field(default_factory=dict, description="query parameters ($name)")
    limit: int | None = Field(default=None, ge=1, description="rows to return (at most the server's limit)")


class SparqlBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                  "SELECT ?c ?label WHERE { ?c skos:prefLabel ?label } LIMIT 5"}]})

    query: str = Field(min_length=1, max_length=20_000)
    limit: int | None = Field(default=None, ge=1, description="rows to return (at most the server's limit)")


class DeleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=1000, description="document ids, e.g. PMID:123")


class QueryResult(BaseModel):
    """Rows of a Cypher or SPARQL query; ``truncated`` when the row limit cut it."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    seconds: float


class JobOut(BaseModel):
    """A build (``add``) or delete running in the background; follow it at ``/api/jobs/{id}``."""

    id: str
    kind: str
    subject: str
    state: Literal["queued", "running", "done", "failed"]
    stage: str
    done: int
    total: int
    created: float
    started: float | None
    finished: float | None
    error: str
    result: dict[str, Any]
    ids: list[str]
