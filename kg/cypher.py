"""Every Cypher statement medkg runs, as named, parameterised constants.

Nothing here is built from data by string formatting; the only formatted
parts are table names and file paths chosen by the code itself (schema DDL
and ``COPY`` statements in the embedded backend).
"""

from __future__ import annotations

from medkg.kg.schema import NODES, RELS

COUNT_NODES = "MATCH (n:{table}) RETURN count(n) AS n"
COUNT_RELS = "MATCH ()-[r:{table}]->() RETURN count(r) AS n"
COUNT_BY_TIER = "MATCH (n:{table}) RETURN n.tier AS tier, count(n) AS n"
SUMMARIES_BY_LEVEL = "MATCH (s:Summary) RETURN s.level AS level, count(s) AS n"

# -- the optional LLM rewrite of summary texts (queries/summary_rewrite.py) --------------------------------------
PASSAGES_OF_TOPIC = """
MATCH (k:Summary)-[:CHILD_OF]->(s:Summary {id: $id})
MATCH (k)-[:SUMMARIZES]->(c:Chunk)
RETURN c.text AS text ORDER BY c.id LIMIT $n
"""
TOPICS_OF_THEME = """
MATCH (t:Summary)-[:CHILD_OF]->(s:Summary {id: $id})
RETURN t.text AS text ORDER BY t.size DESC, t.id LIMIT $n
"""
SET_SUMMARY_TEXT = "MATCH (s:Summary {id: $id}) SET s.text = $text"

SUMMARIES_AT_LEVEL = "MATCH (s:Summary) WHERE s.level = $level RETURN s.id AS id, s.tags AS tags, s.text AS text, s.size AS size"

# by primary key (one index lookup per id; a relationship walk or "IN $ids" scans the table in LadybugDB)
SUMMARY_TAGS = "UNWIND $ids AS i MATCH (s:Summary {id: i}) RETURN s.id AS id, s.tags AS tags"

CHUNKS_BY_ID = """
UNWIND $ids AS i
MATCH (c:Chunk {id: i})
MATCH (d:Document {id: c.doc_id})
RETURN c.id AS id, c.doc_id AS doc_id, c.tier AS tier, c.start AS start, c.`end` AS end_,
       c.section AS section, c.text AS text, d.pmid AS pmid, d.title AS title, d.kind AS kind
"""

# One node by primary key ($id), then its edges: run once per id with GraphStore.query_each. LadybugDB 0.22 plans
# an index lookup only for a scalar parameter; with "IN $ids" or UNWIND before a relationship it scans the node
# table (at a million documents 150 ms for a question's chunks, against 0.1 ms an id).
FINDINGS_CHUNKS_OF_DOCUMENT = """
MATCH (d:Document {id: $id})-[:HAS_CHUNK]->(c:Chunk)
WHERE any(s IN $sections WHERE upper(c.section) CONTAINS s)
RETURN c.id AS id, c.doc_id AS doc_id, c.start AS start
ORDER BY c.start
"""

ENTITIES_OF_CHUNK = """
MATCH (c:Chunk {id: $id})-[:MENTIONS]->(e:Entity)
RETURN DISTINCT e.id AS id, e.chunk_id AS chunk_id, e.name AS name, e.concept_id AS concept_id,
       e.semantic_group AS semantic_group, e.negated AS negated, e.uncertain AS uncertain,
       e.historical AS historical, e.family AS family, e.tier AS tier
"""

REFERENCED_CHUNKS = """
MATCH (e:Entity {id: $id})-[r:REFERENCES]->(t:Entity)
RETURN e.id AS source, t.chunk_id AS chunk_id, t.concept_id AS concept_id, r.score AS score
"""

CONCEPT_WITH_BROADER = """
MATCH (c:Concept {id: $id})
OPTIONAL MATCH (c)-[:BROADER]->(p:Concept)
RETURN c.id AS id, c.name AS name, c.definition AS definition, collect(p.name) AS broader
"""

# -- MERGE writes, derived from the schema (both backends: Neo4j 5, ArcadeDB's Bolt plugin, LadybugDB) ---------

def merge_nodes(table: str) -> str:
    """``UNWIND $rows`` of {column: value} dicts, merged on the primary key, every other column set."""
    names = [n for n, _ in NODES[table].columns]
    sets = ", ".join(f"n.`{n}` = row.`{n}`" for n in names[1:])
    return f"UNWIND $rows AS row MERGE (n:{table} {{`{names[0]}`: row.`{names[0]}`}}) SET {sets}"


def merge_rels(table: str) -> str:
    """``UNWIND $rows`` of {src, dst, column: value} dicts, merged on the endpoints and the table's key columns."""
    spec = RELS[table]
    key_map = f" {{{', '.join(f'`{k}`: row.`{k}`' for k in spec.keys)}}}" if spec.keys else ""
    rest = [n for n, _ in spec.columns if n not in spec.keys]
    sets = (" SET " + ", ".join(f"r.`{n}` = row.`{n}`" for n in rest)) if rest else ""
    return (f"UNWIND $rows AS row MATCH (a:{spec.source} {{id: row.src}}) MATCH (b:{spec.target} {{id: row.dst}}) "
            f"MERGE (a)-[r:{table}{key_map}]->(b){sets}")


DELETE_ENTITIES_OF_DOCUMENTS = """
MATCH (c:Chunk)-[:MENTIONS]->(e:Entity)
WHERE c.doc_id IN $ids
DETACH DELETE e
"""
DELETE_CHUNKS_OF_DOCUMENTS = "MATCH (c:Chunk) WHERE c.doc_id IN $ids DETACH DELETE c"
DELETE_DOCUMENTS = "MATCH (d:Document) WHERE d.id IN $ids DETACH DELETE d"
DELETE_CONCEPTS = "MATCH (c:Concept) WHERE c.id IN $ids DETACH DELETE c"
CONCEPT_IDS = "MATCH (c:Concept) RETURN c.id AS id"

# -- reads and writes of a patched view (pipelines/patch.py) ------------------------------------------------------
CHUNK_IDS_OF_DOCUMENTS = "MATCH (c:Chunk) WHERE c.doc_id IN $ids RETURN c.id AS id"
ENTITY_CONCEPTS_OF_DOCUMENTS = """
MATCH (c:Chunk)-[:MENTIONS]->(e:Entity)
WHERE c.doc_id IN $ids
RETURN DISTINCT e.concept_id AS concept_id, e.tier AS tier
"""
LINKED_CONCEPTS = "MATCH (e:Entity) RETURN DISTINCT e.concept_id AS id"
ENTITIES_OF_CONCEPTS_IN_TIER = """
MATCH (e:Entity)
WHERE e.tier = $tier AND e.concept_id IN $ids
RETURN e.id AS id, e.chunk_id AS chunk_id, e.concept_id AS concept_id
"""
CHUNKS_OF_CONCEPTS = """
MATCH (e:Entity)
WHERE e.concept_id IN $ids AND NOT e.negated
RETURN DISTINCT e.concept_id AS concept_id, e.chunk_id AS chunk_id
"""
CHUNK_TEXTS = "MATCH (c:Chunk) RETURN c.id AS id, c.text AS text"
DELETE_SUMMARIES_BY_ID = "UNWIND $ids AS i MATCH (s:Summary {id: i}) DETACH DELETE s"
DELETE_REFERENCES_FROM = "UNWIND $ids AS i MATCH (e:Entity {id: i})-[r:REFERENCES]->(:Entity) DELETE r"

# -- writes of the Neo4j backend (portable: Neo4j 5 and ArcadeDB's Bolt plugin) --------------------------------
NEO4J_UNIQUE_ID = "CREATE CONSTRAINT medkg_{label}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
NEO4J_INDEX = "CREATE INDEX medkg_{label}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
NEO4J_FULLTEXT_CHUNKS = "CREATE FULLTEXT INDEX medkg_chunk_text IF NOT EXISTS FOR (c:Chunk) ON EACH [c.text]"
NEO4J_VECTOR_INDEX = ("CREATE VECTOR INDEX medkg_chunk_embedding IF NOT EXISTS FOR (c:Chunk) ON (c.embedding) "
                      "OPTIONS {{indexConfig: {{`vector.dimensions`: {dim:d}, `vector.similarity_function`: 'cosine'}}}}")
CHUNKS_WITHOUT_EMBEDDING = "MATCH (c:Chunk) WHERE c.embedding IS NULL RETURN c.id AS id"
SET_CHUNK_EMBEDDINGS = "UNWIND $rows AS row MATCH (c:Chunk {id: row.id}) SET c.embedding = row.v"

DOCUMENT_DIGESTS = "MATCH (d:Document) RETURN d.id AS id, d.medkg_digest AS digest"
CHUNK_DOC_IDS = "MATCH (c:Chunk) RETURN DISTINCT c.doc_id AS doc_id"
SET_DOCUMENT_DIGESTS = "UNWIND $rows AS row MATCH (d:Document {id: row.id}) SET d.medkg_digest = row.digest"
DELETE_SUMMARIES = "MATCH (s:Summary) DETACH DELETE s"
DELETE_REFERENCES = "MATCH (:Entity)-[r:REFERENCES]->(:Entity) DELETE r"

# -- the RDF view (kg/rdf.py), read page by page ----------------------------------------------------------------
RDF_CONCEPTS = """
MATCH (c:Concept) RETURN c.id AS id, c.vocab AS vocab, c.name AS name, c.synonyms AS synonyms,
c.definition AS definition ORDER BY id SKIP $skip LIMIT $limit
"""
RDF_BROADER = "MATCH (x:Concept)-[:BROADER]->(y:Concept) RETURN x.id AS a, y.id AS b ORDER BY a, b SKIP $skip LIMIT $limit"
RDF_MAPS_TO = "MATCH (x:Concept)-[:MAPS_TO]->(y:Concept) RETURN x.id AS a, y.id AS b ORDER BY a, b SKIP $skip LIMIT $limit"
RDF_DOCUMENTS = """
MATCH (d:Document) RETURN d.id AS id, d.tier AS tier, d.kind AS kind, d.title AS title, d.pmid AS pmid
ORDER BY id SKIP $skip LIMIT $limit
"""
RDF_CHUNKS = """
MATCH (c:Chunk) RETURN c.id AS id, c.doc_id AS doc_id, c.start AS start, c.`end` AS end_, c.section AS section,
c.text AS text ORDER BY id SKIP $skip LIMIT $limit
"""
RDF_NEXT = "MATCH (x:Chunk)-[:NEXT]->(y:Chunk) RETURN x.id AS a, y.id AS b ORDER BY a SKIP $skip LIMIT $limit"
RDF_ENTITIES = """
MATCH (e:Entity)-[l:IS_A]->(c:Concept)
RETURN e.id AS id, e.name AS name, e.tier AS tier, e.semantic_group AS semantic_group, e.chunk_id AS chunk_id,
       c.id AS concept_id, l.score AS score, l.method AS method, e.negated AS negated, e.uncertain AS uncertain,
       e.historical AS historical, e.family AS family
ORDER BY id SKIP $skip LIMIT $limit
"""
RDF_MENTIONS = """
MATCH (c:Chunk)-[m:MENTIONS]->(e:Entity)
RETURN e.id AS entity, c.doc_id AS doc_id, m.start AS start, m.`end` AS end_, m.text AS text
ORDER BY entity, start SKIP $skip LIMIT $limit
"""
RDF_RELATED = """
MATCH (ca:Concept)<-[:IS_A]-(x:Entity)-[r:RELATED]->(y:Entity)-[:IS_A]->(cb:Concept)
RETURN x.id AS a, y.id AS b, ca.id AS concept_a, cb.id AS concept_b, r.type AS type, r.score AS score,
       r.method AS method, r.chunk_id AS chunk_id, r.start AS start, r.`end` AS end_,
       r.negated AS negated, r.speculative AS speculative
ORDER BY a, b, type SKIP $skip LIMIT $limit
"""
RDF_REFERENCES = "MATCH (x:Entity)-[:REFERENCES]->(y:Entity) RETURN x.id AS a, y.id AS b ORDER BY a, b SKIP $skip LIMIT $limit"
RDF_SUMMARIES = """
MATCH (s:Summary) RETURN s.id AS id, s.level AS level, s.text AS text, s.tags AS tags
ORDER BY id SKIP $skip LIMIT $limit
"""
RDF_SUMMARIZES = "MATCH (x:Summary)-[:SUMMARIZES]->(y:Chunk) RETURN x.id AS a, y.id AS b ORDER BY a, b SKIP $skip LIMIT $limit"
RDF_CHILD_OF = "MATCH (x:Summary)-[:CHILD_OF]->(y:Summary) RETURN x.id AS a, y.id AS b ORDER BY a, b SKIP $skip LIMIT $limit"

# -- reads of the web app and the explorer API (queries/explore.py): documents, concepts, their neighbourhoods ----
# Every read starts at a primary key or filters one table, so it costs the same on both stores; ``end`` is a
# reserved word in LadybugDB, hence the backquotes and the ``end_`` alias.
DOCUMENTS_PAGE = """
MATCH (d:Document)
WHERE ($tier = 0 OR d.tier = $tier) AND ($text = '' OR lower(d.id) CONTAINS $text OR lower(d.title) CONTAINS $text)
RETURN d.id AS id, d.tier AS tier, d.kind AS kind, d.title AS title, d.pmid AS pmid, d.source AS source,
       d.date AS date
ORDER BY d.tier, d.id SKIP $skip LIMIT $limit
"""
DOCUMENTS_COUNT = """
MATCH (d:Document)
WHERE ($tier = 0 OR d.tier = $tier) AND ($text = '' OR lower(d.id) CONTAINS $text OR lower(d.title) CONTAINS $text)
RETURN count(d) AS n
"""
CHUNK_COUNTS_OF_DOCUMENTS = """
UNWIND $ids AS i
MATCH (d:Document {id: i})-[:HAS_CHUNK]->(c:Chunk)
RETURN d.id AS id, count(c) AS n
"""
DOCUMENT_BY_ID = """
MATCH (d:Document {id: $id})
RETURN d.id AS id, d.tier AS tier, d.kind AS kind, d.title AS title, d.pmid AS pmid, d.source AS source,
       d.date AS date, d.sha256 AS sha256
"""
CHUNKS_OF_DOCUMENT = """
MATCH (d:Document {id: $id})-[:HAS_CHUNK]->(c:Chunk)
RETURN c.id AS id, c.ordinal AS ordinal, c.start AS start, c.`end` AS end_, c.section AS section, c.text AS text
ORDER BY c.ordinal
"""
MENTIONS_OF_CHUNKS = """
UNWIND $ids AS i
MATCH (c:Chunk {id: i})-[m:MENTIONS]->(e:Entity)-[l:IS_A]->(k:Concept)
RETURN e.id AS entity, c.id AS chunk_id, m.start AS start, m.`end` AS end_, m.text AS text, k.id AS concept_id,
       k.name AS concept_name, e.semantic_group AS semantic_group, l.method AS method, l.score AS score,
       e.negated AS negated, e.uncertain AS uncertain, e.historical AS historical, e.family AS family
"""
RELATIONS_OF_CHUNKS = """
MATCH (x:Entity)-[r:RELATED]->(y:Entity)
WHERE x.chunk_id IN $ids
RETURN x.id AS source, y.id AS target, x.concept_id AS source_concept, x.name AS source_name,
       y.concept_id AS target_concept, y.name AS target_name, r.type AS type, r.score AS score,
       r.method AS method, r.chunk_id AS chunk_id, r.start AS start, r.`end` AS end_, r.negated AS negated,
       r.speculative AS speculative
"""
CONCEPTS_MATCHING = """
WITH $text AS t
MATCH (c:Concept)
WHERE c.id = $id OR lower(c.name) CONTAINS t OR any(s IN c.synonyms WHERE lower(s) CONTAINS t)
RETURN c.id AS id, c.name AS name, c.vocab AS vocab, c.semantic_types AS semantic_types,
       c.tree_numbers AS tree_numbers, c.synonyms AS synonyms
LIMIT $limit
"""
MENTION_COUNTS_OF_CONCEPTS = """
UNWIND $ids AS i
MATCH (:Chunk)-[m:MENTIONS]->(:Entity)-[:IS_A]->(c:Concept {id: i})
RETURN c.id AS id, count(m) AS n
"""
CONCEPT_BY_ID = """
MATCH (c:Concept {id: $id})
RETURN c.id AS id, c.vocab AS vocab, c.name AS name, c.synonyms AS synonyms, c.semantic_types AS semantic_types,
       c.definition AS definition, c.tree_numbers AS tree_numbers, c.vocab_version AS vocab_version
"""
BROADER_OF_CONCEPT = """
MATCH (c:Concept {id: $id})-[:BROADER]->(o:Concept)
RETURN o.id AS id, o.name AS name, o.semantic_types AS semantic_types, o.tree_numbers AS tree_numbers
ORDER BY name LIMIT $limit
"""
NARROWER_OF_CONCEPT = """
MATCH (o:Concept)-[:BROADER]->(c:Concept {id: $id})
RETURN o.id AS id, o.name AS name, o.semantic_types AS semantic_types, o.tree_numbers AS tree_numbers
ORDER BY name LIMIT $limit
"""
MAPS_TO_OF_CONCEPT = """
MATCH (c:Concept {id: $id})-[m:MAPS_TO]->(o:Concept)
RETURN o.id AS id, o.name AS name, o.semantic_types AS semantic_types, o.tree_numbers AS tree_numbers,
       m.source AS source
ORDER BY name LIMIT $limit
"""
MAPPED_FROM_CONCEPT = """
MATCH (o:Concept)-[m:MAPS_TO]->(c:Concept {id: $id})
RETURN o.id AS id, o.name AS name, o.semantic_types AS semantic_types, o.tree_numbers AS tree_numbers,
       m.source AS source
ORDER BY name LIMIT $limit
"""
MENTIONS_OF_CONCEPT = """
MATCH (e:Entity)-[:IS_A]->(k:Concept {id: $id})
MATCH (c:Chunk)-[m:MENTIONS]->(e)
RETURN c.doc_id AS doc_id, e.tier AS tier, c.id AS chunk_id, m.start AS start, m.`end` AS end_, m.text AS text,
       e.negated AS negated, e.uncertain AS uncertain, e.historical AS historical, e.family AS family
ORDER BY tier, doc_id, start LIMIT $limit
"""
TITLES_OF_DOCUMENTS = "UNWIND $ids AS i MATCH (d:Document {id: i}) RETURN d.id AS id, d.title AS title, d.pmid AS pmid"
RELATIONS_FROM_CONCEPT = """
MATCH (k:Concept {id: $id})<-[:IS_A]-(x:Entity)-[r:RELATED]->(y:Entity)
RETURN y.concept_id AS other, y.name AS other_name, y.semantic_group AS other_group, r.type AS type,
       r.negated AS negated, r.speculative AS speculative, r.score AS score, r.chunk_id AS chunk_id,
       r.start AS start, r.`end` AS end_
LIMIT $limit
"""
RELATIONS_TO_CONCEPT = """
MATCH (k:Concept {id: $id})<-[:IS_A]-(y:Entity)<-[r:RELATED]-(x:Entity)
RETURN x.concept_id AS other, x.name AS other_name, x.semantic_group AS other_group, r.type AS type,
       r.negated AS negated, r.speculative AS speculative, r.score AS score, r.chunk_id AS chunk_id,
       r.start AS start, r.`end` AS end_
LIMIT $limit
"""

# typed relations at a concept (U-Retrieve follows them from the question's concepts, one query_each per concept);
# anchored on the concept's primary key, then its entities' edges
TYPED_RELATIONS_FROM_CONCEPT = """
MATCH (c:Concept {id: $id})<-[:IS_A]-(a:Entity)-[r:RELATED]->(b:Entity)
WHERE r.type IN $types AND NOT r.negated
RETURN a.concept_id AS source_id, a.name AS source, b.concept_id AS target_id, b.name AS target, r.type AS type,
       r.score AS score, r.chunk_id AS chunk_id, r.start AS start, r.`end` AS end_, r.speculative AS speculative
ORDER BY score DESC LIMIT $limit
"""
TYPED_RELATIONS_TO_CONCEPT = """
MATCH (a:Entity)-[r:RELATED]->(b:Entity)-[:IS_A]->(c:Concept {id: $id})
WHERE r.type IN $types AND NOT r.negated
RETURN a.concept_id AS source_id, a.name AS source, b.concept_id AS target_id, b.name AS target, r.type AS type,
       r.score AS score, r.chunk_id AS chunk_id, r.start AS start, r.`end` AS end_, r.speculative AS speculative
ORDER BY score DESC LIMIT $limit
"""

# which of the concepts $ids lie under (BROADER, up to 8 steps) a concept of $asked: a question about "heart disease"
# finds a report's atrial fibrillation (queries/scoped.py)
CONCEPTS_UNDER = """
UNWIND $ids AS i
MATCH (c:Concept {id: i})-[:BROADER*1..8]->(p:Concept)
WHERE p.id IN $asked
RETURN DISTINCT c.id AS id, p.id AS asked
"""

# -- the neo4j-admin import files (kg/neo4j_import.py): every table read a page at a time -------------------------
# Node pages run by key range (``n.id > $after``, ascending, LIMIT): a seek on Neo4j's uniqueness constraint, and no
# SKIP that rereads what earlier pages read; the edges leaving a page of nodes are read by the same key range.


def import_nodes_page(table: str) -> str:
    """The next ``$limit`` nodes of ``table`` after id ``$after``, every schema column as ``c0, c1, ...``."""
    cols = ", ".join(f"n.`{n}` AS c{i}" for i, (n, _) in enumerate(NODES[table].columns))
    return f"MATCH (n:{table}) WHERE n.id > $after RETURN {cols} ORDER BY n.id LIMIT $limit"


def import_rels_from(table: str) -> str:
    """The ``table`` edges leaving the nodes whose ids lie in ``[$lo, $hi]`` (one page of
    :func:`import_nodes_page`): ``src, dst`` and every schema column as ``c0, c1, ...``. A range on the key
    (5x faster in LadybugDB than a lookup per id; an index range seek in Neo4j)."""
    spec = RELS[table]
    cols = "".join(f", r.`{n}` AS c{i}" for i, (n, _) in enumerate(spec.columns))
    return (f"MATCH (a:{spec.source}) WHERE a.id >= $lo AND a.id <= $hi MATCH (a)-[r:{table}]->(b:{spec.target}) "
            f"RETURN a.id AS src, b.id AS dst{cols}")
