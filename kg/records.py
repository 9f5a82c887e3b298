"""Typed records passed between pipeline stages.

Offsets are character offsets into ``Document.text``, end exclusive, so any
span can be checked with ``doc.text[start:end] == quote``.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass, field, fields

TIER_REPORT = 1  # the user's own documents (may hold PHI)
TIER_LITERATURE = 2
TIER_VOCABULARY = 3


@dataclass(frozen=True, slots=True)
class Section:
    """A labelled span of a document (``BACKGROUND``, ``RESULTS``, ``HPI``)."""

    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Document:
    """An input document: its stable id, text (what every offset indexes), tier, kind and sections."""

    id: str
    text: str
    tier: int = TIER_LITERATURE
    kind: str = "abstract"
    title: str = ""
    source: str = ""
    date: str = ""
    pmid: str = ""
    sections: tuple[Section, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def content_key(self) -> str:
        """A hash of everything extraction reads (text, tier, kind, title, date, pmid, sections; not the file
        name): a build re-extracts a document when it changes."""
        parts = [self.text, str(self.tier), self.kind, self.title, self.date, self.pmid,
                 ";".join(f"{s.label}:{s.start}:{s.end}" for s in self.sections)]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of whole sentences of a document, with its character offsets (end exclusive)."""

    id: str
    doc_id: str
    tier: int
    ordinal: int
    start: int
    end: int
    text: str
    section: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A mention's concept link: the chosen concept and the next best candidates."""

    concept_id: str
    score: float
    method: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of a chunk that names a concept (offsets are document offsets)."""

    start: int
    end: int
    text: str
    link: Link
    semantic_group: str
    sentence: int = 0
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False  # about someone other than the patient


@dataclass(slots=True)
class Entity:
    """One distinct thing in one chunk's meta-graph, with every mention of it there."""

    id: str
    chunk_id: str
    tier: int
    name: str
    semantic_group: str
    link: Link
    mentions: list[Mention] = field(default_factory=list)

    @property
    def negated(self) -> bool:
        return all(m.negated for m in self.mentions)

    @property
    def uncertain(self) -> bool:
        return all(m.uncertain for m in self.mentions) and not self.negated

    @property
    def historical(self) -> bool:
        return all(m.historical for m in self.mentions)

    @property
    def family(self) -> bool:
        return all(m.family for m in self.mentions)


# relation types: what one concept does to another, as the relation stage classifies it
INDUCES = "INDUCES"  # a chemical induces (causes) a disease: BioCreative V CDR's CID
TREATS = "TREATS"  # a chemical (or procedure) is used to treat, prevent or relieve a disease
CO_OCCURS = "co_occurs"  # named in one sentence, nothing more known: the weakest type


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation between two entities of one document, with the span that evidences it.

    ``start``/``end`` are document offsets of the sentence (or sentences) that state it; ``chunk_id`` is the
    chunk where that evidence starts. ``method`` names how the edge was found (``sentence_cooccurrence``, or
    the relation model and its version); ``score`` is its probability or strength. A typed relation the text
    states as negated is not asserted at all; ``negated`` marks the rare co-occurrence inside a negated
    statement, ``speculative`` a hedged one ("may induce").
    """

    source: str
    target: str
    type: str
    chunk_id: str
    start: int
    end: int
    score: float
    method: str
    negated: bool = False
    speculative: bool = False


@dataclass(slots=True)
class ChunkGraph:
    """Everything extracted from one chunk: its meta-graph."""

    chunk: Chunk
    entities: list[Entity]
    relations: list[Relation]


def content_id(text: str, prefix: str = "DOC") -> str:
    """A stable id from content, for documents that carry no source id."""
    return f"{prefix}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


# -- pickling -------------------------------------------------------------------------------------------------
# Records cross process boundaries (extraction workers -> the build) and rest in the ledger as pickles. A slotted
# dataclass pickles through dataclasses' generic __getstate__/__setstate__, a Python loop per object: for a
# batch of 320 abstracts 0.3 s to dump and 0.8 s to load, a tenth of extracting it, paid by the parent that
# also embeds. Reducing to (field names, values) makes that 0.1 s each. The names travel with the values (the
# pickle memo stores the tuple once per payload), so a ledger written before a field was added still loads.

def _restore(cls: type, names: tuple[str, ...], values: tuple) -> object:
    if names == cls._PICKLE_NAMES:  # type: ignore[attr-defined]
        return cls(*values)
    known = set(cls._PICKLE_NAMES)  # type: ignore[attr-defined]
    return cls(**{n: v for n, v in zip(names, values) if n in known})


def _fast_pickle(cls: type) -> None:
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)
    cls._PICKLE_NAMES = names  # type: ignore[attr-defined]

    def __reduce__(self):
        return _restore, (cls, names, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]


for _cls in (Section, Document, Chunk, Link, Mention, Entity, Relation, ChunkGraph):
    _fast_pickle(_cls)


def chunk_id(doc_id: str, ordinal: int) -> str:
    """A chunk's id: its document's id and its position in it (``PMID:123#c2``)."""
    return f"{doc_id}#c{ordinal}"


def chunk_position(cid: str) -> tuple[str, int]:
    """(document id, ordinal) of an id made by :func:`chunk_id`."""
    doc, _, ordinal = cid.rpartition("#c")
    return (doc, int(ordinal)) if doc and ordinal.isdigit() else (cid, 0)
