"""The graph schema of DESIGN.md, one definition for every backend.

Tables are described as data (name, columns and their types) so that the
embedded store derives its DDL and its bulk-load files from the same lists,
and the Neo4j backend its constraints. Column order here is the order of the
staged rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeTable:
    """A node label with its typed properties; the first column is the key."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, type); the first column is the primary key


@dataclass(frozen=True)
class RelTable:
    """An edge type between two node labels, with its typed properties."""

    name: str
    source: str
    target: str
    columns: tuple[tuple[str, str], ...] = ()
    keys: tuple[str, ...] = ()  # columns that, with source and target, identify a row (MERGE matches on them)


NODE_TABLES: tuple[NodeTable, ...] = (
    NodeTable("Document", (("id", "STRING"), ("tier", "INT64"), ("kind", "STRING"), ("title", "STRING"),
                           ("source", "STRING"), ("date", "STRING"), ("sha256", "STRING"), ("pmid", "STRING"))),
    NodeTable("Chunk", (("id", "STRING"), ("doc_id", "STRING"), ("tier", "INT64"), ("ordinal", "INT64"),
                        ("start", "INT64"), ("end", "INT64"), ("section", "STRING"), ("text", "STRING"))),
    NodeTable("Entity", (("id", "STRING"), ("name", "STRING"), ("semantic_group", "STRING"), ("tier", "INT64"),
                         ("chunk_id", "STRING"), ("concept_id", "STRING"), ("negated", "BOOLEAN"),
                         ("uncertain", "BOOLEAN"), ("historical", "BOOLEAN"), ("family", "BOOLEAN"))),
    NodeTable("Concept", (("id", "STRING"), ("vocab", "STRING"), ("name", "STRING"), ("synonyms", "STRING[]"),
                          ("semantic_types", "STRING[]"), ("definition", "STRING"), ("tree_numbers", "STRING[]"),
                          ("vocab_version", "STRING"))),
    NodeTable("Summary", (("id", "STRING"), ("level", "INT64"), ("tags", "STRING[]"), ("text", "STRING"),
                          ("size", "INT64"))),
)

REL_TABLES: tuple[RelTable, ...] = (
    RelTable("HAS_CHUNK", "Document", "Chunk"),
    RelTable("NEXT", "Chunk", "Chunk"),
    RelTable("MENTIONS", "Chunk", "Entity", (("start", "INT64"), ("end", "INT64"), ("text", "STRING")),
             keys=("start",)),
    RelTable("RELATED", "Entity", "Entity", (("type", "STRING"), ("chunk_id", "STRING"), ("start", "INT64"),
                                             ("end", "INT64"), ("score", "DOUBLE"), ("method", "STRING"),
                                             ("negated", "BOOLEAN"), ("speculative", "BOOLEAN")),
             keys=("type",)),
    RelTable("IS_A", "Entity", "Concept", (("score", "DOUBLE"), ("method", "STRING"),
                                           ("alternatives", "STRING[]"))),
    RelTable("REFERENCES", "Entity", "Entity", (("score", "DOUBLE"),)),
    RelTable("BROADER", "Concept", "Concept"),
    RelTable("MAPS_TO", "Concept", "Concept", (("source", "STRING"),)),
    RelTable("SUMMARIZES", "Summary", "Chunk"),
    RelTable("CHILD_OF", "Summary", "Summary"),
)

NODES = {t.name: t for t in NODE_TABLES}
RELS = {t.name: t for t in REL_TABLES}
