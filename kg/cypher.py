"""Every Cypher statement medkg runs, as named, parameterised constants.

Nothing here is built from data by string formatting; the only formatted
parts are table names and file paths chosen by the code itself (schema DDL
and ``COPY`` statements in the embedded backend).
"""

from __future__ import annotations

COUNT_NODES = "MATCH (n:{table}) RETURN count(n) AS n"
COUNT_RELS = "MATCH ()-[r:{table}]->() RETURN count(r) AS n"

SUMMARIES_AT_LEVEL = "MATCH (s:Summary) WHERE s.level = $level RETURN s.id AS id, s.tags AS tags, s.text AS text, s.size AS size"

CHILD_SUMMARIES = """
MATCH (c:Summary)-[:CHILD_OF]->(p:Summary)
WHERE p.id IN $ids
MATCH (c)-[:SUMMARIZES]->(ch:Chunk)
RETURN p.id AS parent, c.id AS summary, ch.id AS chunk_id, c.tags AS tags
"""

CHUNKS_BY_ID = """
MATCH (d:Document)-[:HAS_CHUNK]->(c:Chunk)
WHERE c.id IN $ids
RETURN c.id AS id, c.doc_id AS doc_id, c.tier AS tier, c.start AS start, c.`end` AS end_,
       c.section AS section, c.text AS text, d.pmid AS pmid, d.title AS title, d.kind AS kind
"""

FINDINGS_CHUNKS_OF_DOCUMENTS = """
MATCH (d:Document)-[:HAS_CHUNK]->(c:Chunk)
WHERE d.id IN $doc_ids AND any(s IN $sections WHERE upper(c.section) CONTAINS s)
RETURN c.id AS id, c.doc_id AS doc_id, c.start AS start
ORDER BY c.doc_id, c.start
"""

ENTITIES_OF_CHUNKS = """
MATCH (c:Chunk)-[:MENTIONS]->(e:Entity)
WHERE c.id IN $ids
RETURN DISTINCT e.id AS id, e.chunk_id AS chunk_id, e.name AS name, e.concept_id AS concept_id,
       e.semantic_group AS semantic_group, e.negated AS negated, e.uncertain AS uncertain,
       e.historical AS historical, e.family AS family, e.tier AS tier
"""

REFERENCED_CHUNKS = """
MATCH (e:Entity)-[r:REFERENCES]->(t:Entity)
WHERE e.id IN $ids
RETURN e.id AS source, t.chunk_id AS chunk_id, t.concept_id AS concept_id, r.score AS score
ORDER BY r.score DESC
"""

CONCEPTS_BY_ID = """
MATCH (c:Concept)
WHERE c.id IN $ids
OPTIONAL MATCH (c)-[:BROADER]->(p:Concept)
RETURN c.id AS id, c.name AS name, c.definition AS definition, collect(p.name) AS broader
"""
