"""The reads behind ``medkg serve`` on both stores: the embedded store and a real Bolt server (ArcadeDB).

``KnowledgeGraph.documents``, ``document``, ``find_concepts``, ``concept`` and ``refresh`` run the named
statements of ``kg/cypher.py`` on each backend, and the app serves the same answers over either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from medkg.app import ServeConfig, create_app
from medkg.errors import NotFoundError, QueryError
from medkg.pipelines.build import build_graph
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration

DOCS = {
    "PMID:1": "Type 2 diabetes and pneumonia in older patients. RESULTS: Pneumonia was more frequent.",
    "PMID:2": "Anaemia in AIDS. Patients with AIDS had anaemia more often than controls.",
    "report:n1": "Denies chest pain. History of type 2 diabetes. Possible pneumonia.",
}


def build(tmp_path: Path, docs: dict[str, str], store: str, opts: dict[str, Any], vocabulary, embedder) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": k, "text": v, "tier": 1 if k.startswith("report") else 2}) + "\n"
                            for k, v in docs.items()), encoding="utf-8")
    build_graph([path], tmp_path / "g", vocabulary=vocabulary, embedder=embedder, store=store, store_options=opts,
                workers=0)
    return tmp_path / "g"


def test_documents_concepts_and_relations_read_alike_on_both_stores(tmp_path: Path, backend, embedder,
                                                                    tiny_vocabulary) -> None:
    store, opts = backend
    g_dir = build(tmp_path, DOCS, store, opts, tiny_vocabulary, embedder)
    with KnowledgeGraph.open(g_dir, store_options=opts) as g:
        page = g.documents()
        assert page.total == 3 and [d.id for d in page.documents] == ["report:n1", "PMID:1", "PMID:2"]
        assert g.documents(tier=2, text="pmid:2").total == 1
        report = g.document("report:n1")
        assert report.text == DOCS["report:n1"] and report.text_source == "ledger"
        spans = {e.text.lower(): e for e in report.entities}
        assert spans["chest pain"].negated and spans["chest pain"].concept_id == "MESH:D002637"
        assert spans["pneumonia"].uncertain and spans["type 2 diabetes"].historical
        assert all(report.text[e.start : e.end] == e.text for e in report.entities)
        paper = g.document("PMID:1")
        pairs = {frozenset((r.source_name, r.target_name)) for r in paper.relations}
        assert frozenset(("Diabetes Mellitus, Type 2", "Pneumonia")) in pairs
        with pytest.raises(NotFoundError):
            g.document("PMID:404")

        hits = g.find_concepts("diabetes")
        assert [h.id for h in hits][:2] == ["MESH:D003924", "MESH:D003920"]  # mentioned first, then its parent
        assert hits[0].mentions == 2 and g.find_concepts("niddm")[0].matched == "NIDDM"
        pneumonia = g.concept("MESH:D011014")
        assert pneumonia.mentions_by_tier == {"1": 1, "2": 2}
        assert [d.doc_id for d in pneumonia.documents_by_tier["2"]] == ["PMID:1"]
        assert pneumonia.documents_by_tier["2"][0].mentions == 2
        diabetes = g.concept("MESH:D003920")
        assert [c.id for c in diabetes.narrower] == ["MESH:D003924"]
        assert [c.id for c in g.concept("MESH:D003924").broader] == ["MESH:D003920"]
        with pytest.raises(NotFoundError):
            g.concept("MESH:D000000")
        rows = g.cypher("MATCH (d:Document) RETURN count(d) AS n", timeout_s=5)
        assert rows == [{"n": 3}]

    config = ServeConfig(graph=g_dir, store_options=opts)
    with TestClient(create_app(config), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/documents").json()["total"] == 3
        assert c.get("/api/documents/report:n1").json()["entities"]
        assert c.get("/api/concepts/MESH:D011014").json()["name"] == "Pneumonia"
        r = c.post("/api/cypher", json={"query": "MATCH (c:Chunk) RETURN c.id AS id ORDER BY id", "limit": 2})
        assert r.status_code == 200 and r.json()["truncated"] is True
        assert c.post("/api/cypher", json={"query": "MATCH (c:Concept) DETACH DELETE c"}).status_code == 400


def test_typed_relations_come_before_co_occurrence(tmp_path: Path, backend, embedder, tiny_vocabulary) -> None:
    store, opts = backend
    g_dir = build(tmp_path, DOCS, store, opts, tiny_vocabulary, embedder)
    with KnowledgeGraph.open(g_dir, store_options=opts, write=True) as g:
        ids = {e.text.lower(): e.entity for e in g.document("PMID:2").entities}
        g.cypher("MATCH (x:Entity {id: $a}), (y:Entity {id: $b}) CREATE (x)-[:RELATED {type: 'INDUCES', "
                 "chunk_id: $c, start: 0, `end`: 15, score: 0.9, method: 'test', negated: false, "
                 "speculative: true}]->(y)",
                 {"a": ids["aids"], "b": ids["anaemia"], "c": "PMID:2#c0"})
        doc = g.document("PMID:2")
        types = [r.type for r in doc.relations]
        assert "INDUCES" in types and "co_occurs" in types
        assert types == sorted(types, key=lambda t: t == "co_occurs")  # every typed relation before co-occurrence
        assert any(r.type == "INDUCES" and r.speculative for r in doc.relations)
        aids = g.concept("MESH:D000163")
        kinds = [r.type for r in aids.relations]
        induces = next(r for r in aids.relations if r.type == "INDUCES" and r.other == "MESH:D000740")
        assert induces.direction == "out" and induces.speculative >= 1
        assert kinds.index("INDUCES") < kinds.index("co_occurs")
        edge = next(e for e in aids.graph["edges"] if e["type"] == "INDUCES" and e["target"] == "MESH:D000740")
        assert (edge["source"], edge["directed"], edge["label"].split()[0]) == ("MESH:D000163", True, "INDUCES")


def test_refresh_moves_to_a_new_view_and_keeps_the_models(tmp_path: Path, embedder, tiny_vocabulary) -> None:
    g_dir = build(tmp_path, DOCS, "embedded", {}, tiny_vocabulary, embedder)
    with KnowledgeGraph.open(g_dir) as g:
        loaded = g.embedder
        assert g.refresh() is False
        build(tmp_path, {**DOCS, "PMID:3": "Pneumonia and anaemia in older patients."}, "embedded", {},
              tiny_vocabulary, embedder)
        assert g.documents().total == 3  # still the view it opened
        assert g.refresh() is True
        assert g.documents().total == 4 and g.document("PMID:3").entities
        assert g.embedder is loaded  # same embedder: not loaded again
        assert g.retrieve("pneumonia and anaemia").passages


def test_a_slow_cypher_statement_is_stopped_at_its_time_limit(tmp_path: Path, embedder, tiny_vocabulary) -> None:
    g_dir = build(tmp_path, DOCS, "embedded", {}, tiny_vocabulary, embedder)
    slow = "UNWIND range(1, 100000000) AS i WITH i WHERE i % 7 = 3 RETURN count(i) AS n"
    with KnowledgeGraph.open(g_dir) as g:
        with pytest.raises(QueryError, match="time limit of 0.3 s"):
            g.cypher(slow, timeout_s=0.3)
        assert g.cypher("MATCH (d:Document) RETURN count(d) AS n", timeout_s=0.3) == [{"n": 3}]  # reset after
