"""Typed records of the relation stage.

The relation model reads a text with its linked chemical and disease mentions
(:class:`AnnotatedText`) and returns document-level relations between concepts
(:class:`ConceptRelation`). Offsets are character offsets into ``text``, end
exclusive, as everywhere in medkg; for a PubTator abstract the text is
``title + " " + abstract`` and the title is the first sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHEMICAL = "Chemical"
DISEASE = "Disease"


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One mention of one or more concepts (composite mentions carry several ids)."""

    start: int
    end: int
    text: str
    type: str  # CHEMICAL or DISEASE
    ids: tuple[str, ...]  # MeSH ids without prefix (``D001234`` / ``C012345``); empty if unlinkable


@dataclass(slots=True)
class AnnotatedText:
    """A document's text with its entity mentions and, for training, its gold relations.

    ``title_end`` closes sentence 0 when the text starts with a title (PubTator, PubMed: ``title + " " +
    abstract``); 0 when there is none. ``relations`` holds the (chemical, disease) pairs of the relation type
    being trained, when known.
    """

    doc_id: str
    text: str
    title_end: int = 0
    mentions: list[EntityMention] = field(default_factory=list)
    relations: set[tuple[str, str]] = field(default_factory=set)
    # where a labelled relation is stated (start, end of its evidence sentence), when the labels say so
    evidence: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConceptRelation:
    """A relation between two concepts of one document, as the model found it.

    ``start``/``end`` delimit the evidence: the sentence (or the run of sentences) holding the best-scoring
    mention pair, whose mentions start at ``chemical_at`` and ``disease_at``. A relation whose every
    statement is negated is not asserted (``negated`` records come back only on request); ``speculative``
    marks hedged evidence ("may induce").
    """

    doc_id: str
    chemical_id: str
    disease_id: str
    type: str
    score: float
    method: str
    start: int
    end: int
    chemical_at: int = -1
    disease_at: int = -1
    negated: bool = False
    speculative: bool = False
