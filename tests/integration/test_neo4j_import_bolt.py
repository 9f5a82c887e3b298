"""``medkg export neo4j-import`` on the sample graph, loaded into a real Bolt server, then updated by MERGE.

``neo4j-admin`` cannot run here (no Neo4j distribution on this machine), so the test stands in for it: it
reads the written files as the importer's documented format says (tests/neo4j_import_files.py) and creates
the same nodes and relationships on the Bolt test server (ArcadeDB, or the Neo4j of ``NEO4J_URI``) with
batched ``UNWIND ... CREATE`` statements built from each header. Then medkg opens that database as its Neo4j
store: the counts and medkg's own read queries must match the embedded view, and a ``medkg build --store
neo4j`` of the same graph must find every document complete (the ``medkg_digest`` of the files) and write
only a new one.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bolt_server import ArcadeDB, neo4j_options_from_env
from neo4j_import_files import id_spaces, parse_header, records

from medkg.errors import StoreError
from medkg.kg import cypher
from medkg.kg.neo4j_import import FileSet, ImportFiles, schema_statements
from medkg.kg.store import GraphStore, open_store
from medkg.pipelines.build import build_graph, sample_paths
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration
BATCH = 1000


@pytest.fixture
def server(bolt_server: ArcadeDB | None) -> Iterator[dict[str, Any]]:
    """An empty database on the Bolt test server (a fresh ArcadeDB one, or NEO4J_URI's, emptied after)."""
    if bolt_server is not None:
        name = f"imp{secrets.token_hex(4)}"
        bolt_server.create_database(name)
        yield bolt_server.options(name)
        return
    opts = neo4j_options_from_env() or {}
    with open_store("neo4j", None, read_only=True, **opts) as st:
        if any(st.counts().values()):
            pytest.skip("the Neo4j database of NEO4J_URI is not empty; the test needs an empty one")
    yield opts
    with open_store("neo4j", None, read_only=False, **opts) as st:
        st.query("MATCH (n) DETACH DELETE n")


def _props_map(fs: FileSet) -> str:
    names = [f.name for f in parse_header(fs.header) if f.name and f.kind not in ("START_ID", "END_ID")]
    return "{" + ", ".join(f"`{n}`: row.props.`{n}`" for n in names) + "}"


def load_like_neo4j_admin(files: ImportFiles, st: GraphStore) -> None:
    """Create every row of the files on ``st``, as ``neo4j-admin database import full`` would, in batches."""
    for stmt in schema_statements():  # the schema.cypher the docs tell users to run; ArcadeDB lacks full-text
        try:
            st.query(stmt)
        except StoreError:
            assert "FULLTEXT" in stmt
    for fs in files.file_sets:
        rows = list(records(fs))
        if fs.kind == "nodes":
            stmt = f"UNWIND $rows AS row CREATE (n:{id_spaces(fs)['ID']} {_props_map(fs)})"
        else:
            spaces = id_spaces(fs)
            stmt = (f"UNWIND $rows AS row MATCH (a:{spaces['START_ID']} {{id: row.src}}) "
                    f"MATCH (b:{spaces['END_ID']} {{id: row.dst}}) CREATE (a)-[r:{fs.table} {_props_map(fs)}]->(b)")
        for i in range(0, len(rows), BATCH):
            st.query(stmt, {"rows": rows[i : i + BATCH]})


def _sorted(rows: list[dict[str, Any]]) -> list[str]:
    """Rows in a comparable form: no store promises an order of rows, or of a collect()ed list."""
    return sorted(json.dumps({k: sorted(v) if isinstance(v, list) else v for k, v in r.items()}, sort_keys=True)
                  for r in rows)


def test_the_import_files_load_into_a_bolt_server_and_medkg_goes_on_with_merge(
        sample_graph: Path, server: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with KnowledgeGraph.open(sample_graph) as g:
        files = g.export_neo4j_import(tmp_path / "import", compress=True)
        embedded = g.store.counts()
        assert files.counts() == embedded and files.digests == embedded["Document"]
        typed = g.cypher("MATCH (a:Entity)-[r:RELATED]->(:Entity) WHERE r.type = 'INDUCES' "
                         "RETURN a.concept_id AS id, count(r) AS n ORDER BY n DESC, id LIMIT 1")[0]["id"]
        mentioned = g.cypher("MATCH (:Chunk)-[:MENTIONS]->(e:Entity) RETURN e.concept_id AS id, count(*) AS n "
                             "ORDER BY n DESC, id LIMIT 1")[0]["id"]
        reads = [(cypher.TYPED_RELATIONS_FROM_CONCEPT, {"id": typed, "types": ["INDUCES", "TREATS"], "limit": 100}),
                 (cypher.MENTIONS_OF_CONCEPT, {"id": mentioned, "limit": 1000}),
                 (cypher.CHUNKS_OF_DOCUMENT, {"id": _first_document(g)}),
                 (cypher.CONCEPT_WITH_BROADER, {"id": typed}), (cypher.CONCEPT_WITH_BROADER, {"id": mentioned})]
        want = [_sorted(g.store.query(q, p)) for q, p in reads]
    assert all(want), "the sample graph should answer every read"

    with open_store("neo4j", None, read_only=False, **server) as st:
        load_like_neo4j_admin(files, st)
    with open_store("neo4j", None, read_only=True, **server) as st:  # medkg's Neo4j store on the imported data
        assert st.counts() == embedded
        assert [_sorted(st.query(q, p)) for q, p in reads] == want
        digests = st.query("MATCH (d:Document) RETURN count(d.medkg_digest) AS n")[0]["n"]
        assert digests == embedded["Document"]

    # the same graph, switched to the server: every document is found complete, only a new one is written
    copy = tmp_path / "graph"
    shutil.copytree(sample_graph, copy)
    with caplog.at_level(logging.INFO, logger="medkg.kg.neo4j_store"):
        report = build_graph(sample_paths(), copy, store="neo4j", store_options=server)
    assert "server sync: 0 documents to remove or replace, 0 to write" in caplog.text
    assert report.counts == embedded
    with KnowledgeGraph.open(copy, store_options=server) as g:  # U-Retrieve over the server's graph
        # CSV import leaves empty lists unset; the build merged summaries and concepts again, with their lists
        assert g.cypher("MATCH (s:Summary) WHERE s.tags IS NULL RETURN count(s) AS n")[0]["n"] == 0
        assert g.retrieve("Which drugs induce liver injury?").passages
    new_doc = tmp_path / "new.jsonl"
    new_doc.write_text(json.dumps({"id": "PMID:999", "text": "Cisplatin induced nephrotoxicity in two patients.",
                                   "tier": 2}) + "\n", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="medkg.kg.neo4j_store"):
        report = build_graph([new_doc], copy, store_options=server)
    assert report.added == 1 and "0 documents to remove or replace, 1 to write" in caplog.text
    with open_store("neo4j", None, read_only=True, **server) as st:
        assert st.counts()["Document"] == embedded["Document"] + 1
        assert st.query("MATCH (d:Document {id: 'PMID:999'})-[:HAS_CHUNK]->(c:Chunk) RETURN count(c) AS n")[0]["n"]


def _first_document(g: KnowledgeGraph) -> str:
    return str(g.cypher("MATCH (d:Document) RETURN d.id AS id ORDER BY id LIMIT 1")[0]["id"])


def test_the_cli_writes_the_files_and_refuses_a_non_empty_directory(sample_graph: Path, tmp_path: Path) -> None:
    out = tmp_path / "imp"
    run = subprocess.run([sys.executable, "-m", "medkg", "export", "neo4j-import", "--out", str(out),
                          "--graph", str(sample_graph)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "neo4j-admin database import full" in run.stdout and f"--nodes={out}/nodes-Document.header.csv" in run.stdout
    assert (out / "schema.cypher").exists() and (out / "nodes-Chunk-000.csv").exists()
    again = subprocess.run([sys.executable, "-m", "medkg", "export", "neo4j-import", "--out", str(out),
                            "--graph", str(sample_graph)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and again.stderr.strip().splitlines() == [
        f"medkg: error: {out}: not empty; give a new or empty directory for the import files"]
