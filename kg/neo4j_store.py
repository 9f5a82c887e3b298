"""The Neo4j backend: the same schema on any Bolt server (Neo4j 5, or ArcadeDB for the tests).

Writes use only the portable subset of Cypher (``UNWIND $rows ... MERGE``,
uniqueness constraints, plain indexes), so the same code runs on Neo4j and on
ArcadeDB's Bolt plugin. Full-text and vector indexes are created only where
the server accepts them (medkg's own search index does retrieval either way;
the native ones are for users' own Cypher: ``db.index.fulltext.queryNodes``
over ``medkg_chunk_text``, ``db.index.vector.queryNodes`` over
``medkg_chunk_embedding``, whose ``Chunk.embedding`` vectors are written only
when the server accepted the index).

A build does not wipe the server: ``replace_contents`` compares the
documents on the server with the build's (id and a hash of all their rows),
deletes what is gone or changed, and merges what is new, one batch of
documents per transaction, marking each document complete last. A sync killed
half-way is finished by the next one; running it twice changes nothing.
Corpus-wide parts (summaries, REFERENCES, the concept closure) are replaced
as a whole, as on the embedded store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any

from medkg.errors import StoreError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.guard import check_cypher
from medkg.kg.schema import NODE_TABLES, REL_TABLES
from medkg.kg.store import ROWS_PER_STATEMENT, GraphStore

log = logging.getLogger(__name__)

DOCS_PER_TX = 200


class Neo4jStore(GraphStore):
    """The server store: a Neo4j 5 (or any Bolt server speaking Cypher) through the official driver."""

    def __init__(self, path: Path | None = None, *, read_only: bool = True, create: bool = False,
                 uri: str = "", username: str = "", password: str = "", database: str = "") -> None:
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable

        if not uri:
            raise StoreError("the neo4j store needs a server address (NEO4J_URI, e.g. bolt://localhost:7687)")
        self.uri, self.database = uri, database or None
        self.read_only = read_only and not create
        from neo4j.exceptions import ConfigurationError

        self._driver: neo4j.Driver | None = None
        self._timeout: float | None = None  # seconds a statement may run (the server's transaction timeout)
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=(username, password) if username else None)
            self._driver.verify_connectivity()
        except ServiceUnavailable as e:
            self.close()
            raise StoreError(f"cannot reach the graph server at {uri} ({e}); is it running?") from e
        except AuthError as e:
            self.close()
            raise StoreError(f"the graph server at {uri} refused the credentials of {username!r}") from e
        except (ValueError, ConfigurationError) as e:
            self.close()
            raise StoreError(f"bad server address {uri!r} ({e})") from e

    # -- running statements -----------------------------------------------------
    def _run(self, stmt: str, params: dict[str, Any] | None = None, *, read: bool = False,
             max_rows: int | None = None) -> list[dict[str, Any]]:
        """One statement in its own transaction: a read transaction (the server refuses writes in it) when
        ``read``; at most ``max_rows + 1`` records are fetched when ``max_rows`` is given."""
        import neo4j
        from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

        if self._driver is None:
            raise StoreError(f"the connection to {self.uri} is closed")

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            result = tx.run(stmt, params or {})
            rows = [_plain(r.data()) for r in islice(result, None if max_rows is None else max_rows + 1)]
            result.consume()
            return rows

        timed = neo4j.unit_of_work(timeout=self._timeout)(work) if self._timeout else work
        try:
            with self._driver.session(database=self.database,
                                      default_access_mode=neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS) as s:
                return s.execute_read(timed) if read else s.execute_write(timed)
        except (ServiceUnavailable, SessionExpired) as e:
            raise StoreError(f"lost the graph server at {self.uri} ({e})") from e
        except Neo4jError as e:
            raise StoreError(f"query failed: {e.message or e}") from e

    def query(self, cypher_text: str, params: dict[str, Any] | None = None, *,
              max_rows: int | None = None) -> list[dict[str, Any]]:
        if self.read_only:
            check_cypher(cypher_text)
        return self._run(cypher_text, params, read=self.read_only, max_rows=max_rows)

    def _write(self, cypher_text: str, params: dict[str, Any]) -> None:
        self._run(cypher_text, params)

    def set_query_timeout(self, seconds: float | None) -> None:
        """Sent as the transaction timeout; a server that ignores it (ArcadeDB) runs statements to the end."""
        self._timeout = seconds or None

    # -- schema -------------------------------------------------------------------
    def create_schema(self) -> None:
        for t in NODE_TABLES:
            self._run(cypher.NEO4J_UNIQUE_ID.format(label=t.name))
        for label, prop in (("Chunk", "doc_id"), ("Entity", "chunk_id"), ("Entity", "concept_id")):
            self._run(cypher.NEO4J_INDEX.format(label=label, prop=prop))
        try:
            self._run(cypher.NEO4J_FULLTEXT_CHUNKS)
        except StoreError as e:
            log.info("the server has no full-text indexes (%s); medkg's own BM25 index serves retrieval", e)

    # -- writing --------------------------------------------------------------------
    def bulk_load(self, batch: GraphBatch) -> None:
        for t in NODE_TABLES:
            self.merge(t.name, batch.nodes.get(t.name, []))
        for r in REL_TABLES:
            self.merge(r.name, batch.rels.get(r.name, []))

    def replace_contents(self, batch: GraphBatch) -> None:
        """Synchronise the server's graph with ``batch`` (see the module docstring).

        Each document's rows are hashed; the hash is written on its ``Document`` node by the last statement
        of its transaction, so a document is complete on the server exactly when its hash is there and
        equal. Documents on the server with another hash, or none (chunks left by a sync that died), are
        deleted first; the rest are merged.
        """
        self.create_schema()
        parts = _split_by_document(batch, {row[0] for row in batch.nodes["Document"]})
        wanted = {d: document_digest(p) for d, p in parts.items()}
        on_server = {r["id"]: r["digest"] for r in self._run(cypher.DOCUMENT_DIGESTS)}
        on_server.update({r["doc_id"]: None for r in self._run(cypher.CHUNK_DOC_IDS) if r["doc_id"] not in on_server})
        stale = sorted(d for d, h in on_server.items() if wanted.get(d) != h)
        fresh = sorted(d for d, h in wanted.items() if on_server.get(d) != h)
        log.info("server sync: %d documents to remove or replace, %d to write", len(stale), len(fresh))
        for i in range(0, len(stale), DOCS_PER_TX):
            self.delete_documents(stale[i : i + DOCS_PER_TX])
        self._run(cypher.DELETE_SUMMARIES)
        self._run(cypher.DELETE_REFERENCES)
        self._sync_concepts(batch)
        for i in range(0, len(fresh), DOCS_PER_TX):
            ids = fresh[i : i + DOCS_PER_TX]
            part = _merge_parts(parts[d] for d in ids)
            for t in ("Chunk", "Entity", "Document"):
                self.merge(t, part.nodes[t])
            for r in ("HAS_CHUNK", "NEXT", "MENTIONS", "RELATED", "IS_A"):
                self.merge(r, part.rels[r])
            self._run(cypher.SET_DOCUMENT_DIGESTS, {"rows": [{"id": d, "digest": wanted[d]} for d in ids]})
        self.merge("Summary", batch.nodes["Summary"])
        for r in ("SUMMARIZES", "CHILD_OF", "REFERENCES"):
            self.merge(r, batch.rels[r])

    def add_chunk_vectors(self, ids: list[str], vectors: Any) -> int:
        """Embeddings on ``Chunk.embedding`` under a native vector index, if the server has one (Neo4j 5.13+;
        ArcadeDB's Bolt plugin refuses the statement, which is logged). Only chunks without one are written,
        so a re-sync after a small change writes only the new chunks."""
        if not len(ids):
            return 0
        try:
            self._run(cypher.NEO4J_VECTOR_INDEX.format(dim=int(vectors.shape[1])))
        except StoreError as e:
            log.info("the server has no vector index (%s); chunk embeddings stay in medkg's own index", e)
            return 0
        row = {cid: i for i, cid in enumerate(ids)}
        missing = [r["id"] for r in self._run(cypher.CHUNKS_WITHOUT_EMBEDDING) if r["id"] in row]
        for i in range(0, len(missing), ROWS_PER_STATEMENT):
            rows = [{"id": c, "v": [float(x) for x in vectors[row[c]]]} for c in missing[i : i + ROWS_PER_STATEMENT]]
            self._run(cypher.SET_CHUNK_EMBEDDINGS, {"rows": rows})
        return len(missing)

    def _sync_concepts(self, batch: GraphBatch) -> None:
        wanted = {row[0] for row in batch.nodes["Concept"]}
        gone = [r["id"] for r in self._run(cypher.CONCEPT_IDS) if r["id"] not in wanted]
        for i in range(0, len(gone), ROWS_PER_STATEMENT):
            self._run(cypher.DELETE_CONCEPTS, {"ids": gone[i : i + ROWS_PER_STATEMENT]})
        self.merge("Concept", batch.nodes["Concept"])
        for r in ("BROADER", "MAPS_TO"):
            self.merge(r, batch.rels[r])

    # -- reading --------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {t.name: self._run(cypher.COUNT_NODES.format(table=t.name))[0]["n"] for t in NODE_TABLES}
        out.update({r.name: self._run(cypher.COUNT_RELS.format(table=r.name))[0]["n"] for r in REL_TABLES})
        return out

    def close(self) -> None:
        driver = getattr(self, "_driver", None)
        self._driver = None
        if driver is not None:
            driver.close()


def _plain(value: Any) -> Any:
    """Driver values to plain Python: nodes and relationships become property dicts."""
    from neo4j.graph import Node, Relationship

    if isinstance(value, (Node, Relationship)):
        return dict(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _split_by_document(batch: GraphBatch, doc_ids: set[str]) -> dict[str, GraphBatch]:
    """The per-document rows (documents, chunks, entities and their edges) of each of ``doc_ids``."""
    owner = {row[0]: row[1] for row in batch.nodes["Chunk"] if row[1] in doc_ids}
    owner.update({row[0]: owner[row[4]] for row in batch.nodes["Entity"] if row[4] in owner})
    owner.update({d: d for d in doc_ids})
    parts: dict[str, GraphBatch] = {d: GraphBatch() for d in doc_ids}
    for table in ("Document", "Chunk", "Entity"):
        key = 1 if table == "Chunk" else 0
        for row in batch.nodes[table]:
            if row[key] in owner:
                parts[owner[row[key]]].nodes[table].append(row)
    for name in ("HAS_CHUNK", "NEXT", "MENTIONS", "RELATED", "IS_A"):
        for row in batch.rels[name]:
            if row[0] in owner:
                parts[owner[row[0]]].rels[name].append(row)
    return parts


def document_digest(part: GraphBatch) -> str:
    h = hashlib.sha256()
    for table in (*part.nodes.values(), *part.rels.values()):
        for row in sorted(map(repr, table)):
            h.update(row.encode("utf-8"))
        h.update(b"|")
    return h.hexdigest()[:32]


def _merge_parts(parts: Iterable[GraphBatch]) -> GraphBatch:
    out = GraphBatch()
    for p in parts:
        for k, rows in p.nodes.items():
            out.nodes[k].extend(rows)
        for k, rows in p.rels.items():
            out.rels[k].extend(rows)
    return out
