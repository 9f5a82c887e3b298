"""Reading a graph the way a person browses it: documents with their spans, concepts with their neighbourhoods.

These are the reads behind ``KnowledgeGraph.documents``, ``document``, ``find_concepts`` and ``concept``
(and so behind ``medkg serve``). Each runs a few named statements of :mod:`medkg.kg.cypher` that start at a
primary key, so they cost the same on both stores, and returns typed records that serialise to JSON as they
are (``dataclasses.asdict``).

A document's text is not a store property: the offsets of chunks and mentions index the text the ledger
keeps. The ledger is read when its copy is the one the view was built from (same SHA-256); while a build is
replacing that document, the text is put together from the view's chunks instead, so offsets still match.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import GraphCorruptError, NotFoundError
from medkg.kg import cypher
from medkg.kg.ledger import Ledger
from medkg.kg.records import chunk_position
from medkg.kg.store import GraphStore
from medkg.ontologies.concept import mesh_semantic_group

log = logging.getLogger(__name__)

CO_OCCURS = "co_occurs"  # the untyped relation; typed ones (TREATS, INDUCES, ...) are listed before it
MAX_PAGE = 500  # documents per page, concepts per search
MAX_MENTIONS = 2000  # mentions of one concept read to count its documents
MAX_NEIGHBOURS = 200  # broader, narrower or mapped concepts listed


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """One row of the documents list."""

    id: str
    tier: int
    kind: str
    title: str
    pmid: str
    source: str
    date: str
    chunks: int


@dataclass(frozen=True, slots=True)
class DocumentList:
    """A page of documents and how many match in all."""

    total: int
    offset: int
    documents: list[DocumentInfo]


@dataclass(frozen=True, slots=True)
class ChunkView:
    id: str
    ordinal: int
    start: int
    end: int
    section: str


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """One mention of an entity: its span (document offsets, end exclusive), its concept link and its flags."""

    entity: str
    chunk_id: str
    start: int
    end: int
    text: str
    concept_id: str
    concept_name: str
    semantic_group: str
    method: str
    score: float
    negated: bool
    uncertain: bool
    historical: bool
    family: bool


@dataclass(frozen=True, slots=True)
class RelationView:
    """A relation read in a document between two entities, with the sentence span it was read in."""

    source: str
    target: str
    source_concept: str
    source_name: str
    target_concept: str
    target_name: str
    type: str
    score: float
    method: str
    chunk_id: str
    start: int
    end: int
    negated: bool
    speculative: bool


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document as the reader sees it: text, chunks, entity spans, relations (typed ones first)."""

    id: str
    tier: int
    kind: str
    title: str
    pmid: str
    source: str
    date: str
    text: str
    text_source: str  # "ledger" (the stored document) or "chunks" (put together from the view)
    chunks: list[ChunkView]
    entities: list[EntitySpan]
    relations: list[RelationView]


@dataclass(frozen=True, slots=True)
class ConceptHit:
    """A concept found by name, synonym or id, with how often the documents mention it."""

    id: str
    name: str
    vocab: str
    semantic_group: str
    mentions: int
    matched: str  # the name or synonym that matched


@dataclass(frozen=True, slots=True)
class ConceptLink:
    """A neighbouring concept in the vocabulary (broader, narrower, mapped)."""

    id: str
    name: str
    semantic_group: str
    source: str = ""  # MAPS_TO: where the mapping comes from


@dataclass(frozen=True, slots=True)
class ConceptDocument:
    """A document that mentions a concept: how often, how often negated, and its first mention's span."""

    doc_id: str
    title: str
    pmid: str
    tier: int
    mentions: int
    negated: int
    first_start: int
    first_end: int


@dataclass(frozen=True, slots=True)
class ConceptRelation:
    """Relations between a concept and another, over all documents, per type and direction."""

    type: str
    direction: str  # "out": this concept is the source; "in": the target; "both": co-occurrence (no direction)
    other: str
    other_name: str
    other_group: str
    count: int
    negated: int
    speculative: int
    best_score: float
    example_doc: str
    example_start: int
    example_end: int


@dataclass(frozen=True, slots=True)
class ConceptView:
    """One concept with its vocabulary neighbourhood, its mentions per tier, its documents and relations."""

    id: str
    name: str
    vocab: str
    vocab_version: str
    semantic_group: str
    definition: str
    synonyms: list[str]
    tree_numbers: list[str]
    broader: list[ConceptLink]
    narrower: list[ConceptLink]
    mapped: list[ConceptLink]
    mentions_by_tier: dict[str, int]
    documents_by_tier: dict[str, list[ConceptDocument]]
    relations: list[ConceptRelation]
    graph: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # nodes and edges for drawing


# -- documents -------------------------------------------------------------------------------------------------

def list_documents(store: GraphStore, *, tier: int | None = None, text: str = "", offset: int = 0,
                   limit: int = 50) -> DocumentList:
    """A page of documents (by tier, then id), optionally only one tier or those whose id or title contain
    ``text`` (case-insensitive)."""
    params = {"tier": int(tier or 0), "text": text.strip().lower()}
    total = int(store.query(cypher.DOCUMENTS_COUNT, params)[0]["n"])
    rows = store.query(cypher.DOCUMENTS_PAGE, {**params, "skip": max(0, offset),
                                               "limit": max(1, min(limit, MAX_PAGE))})
    chunks = {r["id"]: int(r["n"]) for r in store.query(cypher.CHUNK_COUNTS_OF_DOCUMENTS,
                                                         {"ids": [r["id"] for r in rows]})} if rows else {}
    docs = [DocumentInfo(id=r["id"], tier=int(r["tier"]), kind=r["kind"] or "", title=r["title"] or "",
                         pmid=r["pmid"] or "", source=r["source"] or "", date=r["date"] or "",
                         chunks=chunks.get(r["id"], 0)) for r in rows]
    return DocumentList(total=total, offset=max(0, offset), documents=docs)


def read_document(store: GraphStore, ledger_path: Path, doc_id: str) -> DocumentView:
    """Everything the view holds about one document, with its text (see the module docstring)."""
    rows = store.query(cypher.DOCUMENT_BY_ID, {"id": doc_id})
    if not rows:
        raise NotFoundError(f"no document {doc_id!r} in the graph")
    d = rows[0]
    chunk_rows = store.query(cypher.CHUNKS_OF_DOCUMENT, {"id": doc_id})
    text, source = _document_text(ledger_path, doc_id, d["sha256"] or "", chunk_rows)
    ids = [c["id"] for c in chunk_rows]
    entities = [EntitySpan(entity=r["entity"], chunk_id=r["chunk_id"], start=int(r["start"]), end=int(r["end_"]),
                           text=r["text"] or "", concept_id=r["concept_id"], concept_name=r["concept_name"] or "",
                           semantic_group=r["semantic_group"] or "", method=r["method"] or "",
                           score=float(r["score"] or 0.0), negated=bool(r["negated"]),
                           uncertain=bool(r["uncertain"]), historical=bool(r["historical"]),
                           family=bool(r["family"]))
                for r in store.query(cypher.MENTIONS_OF_CHUNKS, {"ids": ids})] if ids else []
    entities.sort(key=lambda e: (e.start, -e.end, e.entity))
    relations = [RelationView(source=r["source"], target=r["target"], source_concept=r["source_concept"],
                              source_name=r["source_name"] or "", target_concept=r["target_concept"],
                              target_name=r["target_name"] or "", type=r["type"] or CO_OCCURS,
                              score=float(r["score"] or 0.0), method=r["method"] or "", chunk_id=r["chunk_id"] or "",
                              start=int(r["start"] or 0), end=int(r["end_"] or 0), negated=bool(r["negated"]),
                              speculative=bool(r["speculative"]))
                 for r in store.query(cypher.RELATIONS_OF_CHUNKS, {"ids": ids})] if ids else []
    relations.sort(key=lambda r: (r.type == CO_OCCURS, r.start, -r.score, r.source, r.target))
    return DocumentView(id=d["id"], tier=int(d["tier"]), kind=d["kind"] or "", title=d["title"] or "",
                        pmid=d["pmid"] or "", source=d["source"] or "", date=d["date"] or "", text=text,
                        text_source=source,
                        chunks=[ChunkView(c["id"], int(c["ordinal"]), int(c["start"]), int(c["end_"]),
                                          c["section"] or "") for c in chunk_rows],
                        entities=entities, relations=relations)


def _document_text(ledger_path: Path, doc_id: str, sha256: str, chunks: list[dict[str, Any]]) -> tuple[str, str]:
    """The document's text from the ledger when it is the version the view holds, else from its chunks."""
    try:
        with Ledger(ledger_path) as ledger:
            record = next(ledger.records([doc_id]), None)
    except GraphCorruptError as e:
        log.warning("reading %s from the ledger failed (%s); using its chunks", doc_id, e)
        record = None
    if record is not None and (not sha256 or record.document.sha256 == sha256):
        return record.document.text, "ledger"
    end = max((int(c["end_"]) for c in chunks), default=0)
    buf = [" "] * end  # the gaps between chunks (blank lines, headings outside any sentence) become spaces
    for c in chunks:
        buf[int(c["start"]) : int(c["end_"])] = list(c["text"])
    return "".join(buf), "chunks"


# -- concepts --------------------------------------------------------------------------------------------------

def group_of(row: dict[str, Any]) -> str:
    """A concept row's semantic group: its first semantic type, else one derived from MeSH tree numbers."""
    types = row.get("semantic_types") or []
    return str(types[0]) if types else mesh_semantic_group(list(row.get("tree_numbers") or []))


def find_concepts(store: GraphStore, text: str, limit: int = 20) -> list[ConceptHit]:
    """Concepts whose id is ``text`` or whose name or a synonym contains it (case-insensitive).

    Ranked as a person expects: an exact id, name or synonym first, then names that start with the text, names
    that contain it, synonyms that start with it, synonyms that contain it; within each, the most mentioned
    first, then by name.
    """
    needle = text.strip()
    if not needle:
        return []
    low = needle.lower()
    rows = store.query(cypher.CONCEPTS_MATCHING, {"id": needle, "text": low, "limit": MAX_PAGE * 4})
    counts = {r["id"]: int(r["n"]) for r in store.query(cypher.MENTION_COUNTS_OF_CONCEPTS,
                                                         {"ids": [r["id"] for r in rows]})} if rows else {}
    hits = []
    for r in rows:
        names = [r["name"] or "", *(r.get("synonyms") or [])]
        matched = next((n for n in names if low in n.lower()), r["name"] or "")
        hits.append(ConceptHit(id=r["id"], name=r["name"] or "", vocab=r["vocab"] or "", semantic_group=group_of(r),
                               mentions=counts.get(r["id"], 0), matched=matched))

    def rank(h: ConceptHit) -> tuple[int, int, str]:
        name, matched = h.name.lower(), h.matched.lower()
        if low in (h.id.lower(), name, matched):
            tier = 0
        elif low in name:
            tier = 1 if name.startswith(low) else 2
        else:
            tier = 3 if matched.startswith(low) else 4
        return (tier, -h.mentions, name)

    return sorted(hits, key=rank)[: max(1, min(limit, MAX_PAGE))]


def read_concept(store: GraphStore, concept_id: str, *, max_related: int = 40) -> ConceptView:
    """One concept with its broader, narrower and mapped concepts, its documents per tier and its relations."""
    rows = store.query(cypher.CONCEPT_BY_ID, {"id": concept_id})
    if not rows:
        raise NotFoundError(f"no concept {concept_id!r} in the graph")
    c = rows[0]
    p = {"id": concept_id, "limit": MAX_NEIGHBOURS}
    broader = _links(store.query(cypher.BROADER_OF_CONCEPT, p))
    narrower = _links(store.query(cypher.NARROWER_OF_CONCEPT, p))
    mapped = _links(store.query(cypher.MAPS_TO_OF_CONCEPT, p) + store.query(cypher.MAPPED_FROM_CONCEPT, p))
    mentions = store.query(cypher.MENTIONS_OF_CONCEPT, {"id": concept_id, "limit": MAX_MENTIONS})
    by_tier = Counter(str(m["tier"]) for m in mentions)
    documents = _concept_documents(store, mentions)
    relations = _concept_relations(store, concept_id)[:max_related]
    view = ConceptView(id=c["id"], name=c["name"] or "", vocab=c["vocab"] or "", vocab_version=c["vocab_version"] or "",
                       semantic_group=group_of(c), definition=c["definition"] or "",
                       synonyms=list(c["synonyms"] or []), tree_numbers=list(c["tree_numbers"] or []),
                       broader=broader, narrower=narrower, mapped=mapped,
                       mentions_by_tier=dict(sorted(by_tier.items())), documents_by_tier=documents, relations=relations)
    view.graph.update(neighbourhood(view))
    return view


def _links(rows: list[dict[str, Any]]) -> list[ConceptLink]:
    return [ConceptLink(r["id"], r["name"] or "", group_of(r), r.get("source") or "") for r in rows]


def _concept_documents(store: GraphStore, mentions: list[dict[str, Any]]) -> dict[str, list[ConceptDocument]]:
    """Per tier, the documents that mention the concept, most mentions first, each with its first span."""
    per_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in mentions:
        per_doc[m["doc_id"]].append(m)
    titles = {r["id"]: r for r in store.query(cypher.TITLES_OF_DOCUMENTS, {"ids": list(per_doc)})} if per_doc else {}
    out: dict[str, list[ConceptDocument]] = defaultdict(list)
    for doc_id, ms in per_doc.items():
        first = min(ms, key=lambda m: int(m["start"]))
        t = titles.get(doc_id, {})
        out[str(first["tier"])].append(ConceptDocument(
            doc_id=doc_id, title=t.get("title") or "", pmid=t.get("pmid") or "", tier=int(first["tier"]),
            mentions=len(ms), negated=sum(1 for m in ms if m["negated"]), first_start=int(first["start"]),
            first_end=int(first["end_"])))
    return {tier: sorted(docs, key=lambda d: (-d.mentions, d.doc_id)) for tier, docs in sorted(out.items())}


def _concept_relations(store: GraphStore, concept_id: str) -> list[ConceptRelation]:
    """Relations of the concept's entities, summed per (type, direction, other concept); typed ones first.

    Co-occurrence is symmetric (which entity is the source is an accident of the text), so both directions
    count together.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    p = {"id": concept_id, "limit": MAX_MENTIONS}
    for direction, stmt in (("out", cypher.RELATIONS_FROM_CONCEPT), ("in", cypher.RELATIONS_TO_CONCEPT)):
        for r in store.query(stmt, p):
            rtype = r["type"] or CO_OCCURS
            if r["other"] != concept_id:
                groups[(rtype, "both" if rtype == CO_OCCURS else direction, r["other"])].append(r)
    out = []
    for (rtype, direction, other), rs in groups.items():
        best = max(rs, key=lambda r: float(r["score"] or 0.0))
        out.append(ConceptRelation(
            type=rtype, direction=direction, other=other, other_name=best["other_name"] or "",
            other_group=best["other_group"] or "", count=len(rs), negated=sum(1 for r in rs if r["negated"]),
            speculative=sum(1 for r in rs if r["speculative"]), best_score=round(float(best["score"] or 0.0), 4),
            example_doc=chunk_position(best["chunk_id"] or "")[0], example_start=int(best["start"] or 0),
            example_end=int(best["end_"] or 0)))
    return sorted(out, key=lambda r: (r.type == CO_OCCURS, -r.count, -r.best_score, r.other_name))


def neighbourhood(view: ConceptView, max_per_kind: int = 12) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges around a concept for a graph drawing: its vocabulary neighbours and related concepts.

    Each kind is capped (a MeSH branch can have hundreds of children); the lists in the view are complete.
    """
    nodes: dict[str, dict[str, Any]] = {view.id: {"id": view.id, "label": view.name, "group": view.semantic_group,
                                                  "role": "focus"}}
    edges: list[dict[str, Any]] = []

    def add(cid: str, name: str, group: str, role: str) -> None:
        nodes.setdefault(cid, {"id": cid, "label": name, "group": group, "role": role})

    for link in view.broader[:max_per_kind]:
        add(link.id, link.name, link.semantic_group, "broader")
        edges.append({"source": view.id, "target": link.id, "type": "BROADER", "label": "broader", "directed": True})
    for link in view.narrower[:max_per_kind]:
        add(link.id, link.name, link.semantic_group, "narrower")
        edges.append({"source": link.id, "target": view.id, "type": "BROADER", "label": "broader", "directed": True})
    for link in view.mapped[:max_per_kind]:
        add(link.id, link.name, link.semantic_group, "mapped")
        edges.append({"source": view.id, "target": link.id, "type": "MAPS_TO", "label": "maps to", "directed": True})
    for rel in view.relations[: max_per_kind * 2]:
        add(rel.other, rel.other_name, rel.other_group, "related")
        src, dst = (rel.other, view.id) if rel.direction == "in" else (view.id, rel.other)
        times = f"×{rel.count}" if rel.count > 1 else ""
        label = times if rel.type == CO_OCCURS else f"{rel.type} {times}".strip()
        label += " (negated)" if rel.negated else ""
        edges.append({"source": src, "target": dst, "type": rel.type, "label": label, "count": rel.count,
                      "negated": rel.negated, "directed": rel.direction != "both"})
    return {"nodes": list(nodes.values()), "edges": edges}
