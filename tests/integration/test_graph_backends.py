"""One behavioural suite for every store backend: the embedded store and a real Bolt server.

The Bolt server is ArcadeDB started by the fixture (or the Neo4j of NEO4J_URI).
Builds use a vocabulary of a few MeSH concepts and the real embedder, so each
build takes seconds while exercising the whole path: ledger, view, store sync.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bolt_server import neo4j_options_from_env

from medkg.errors import InputError, QueryError, StoreError
from medkg.kg.store import open_store
from medkg.pipelines.build import build_graph, delete_documents
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration

DOCS = {
    "PMID:1": "Type 2 diabetes and pneumonia in older patients. RESULTS: Pneumonia was more frequent.",
    "PMID:2": "Anaemia in AIDS. Patients with AIDS had anaemia more often than controls.",
    "report:n1": "Denies chest pain. History of type 2 diabetes. Possible pneumonia.",
}


def write_docs(path: Path, docs: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": k, "text": v, "tier": 1 if k.startswith("report") else 2}) + "\n"
                            for k, v in docs.items()), encoding="utf-8")
    return path


def test_build_rebuild_change_and_delete(tmp_path: Path, backend, embedder, tiny_vocabulary) -> None:
    store, opts = backend

    def build(docs: dict[str, str]):
        return build_graph([write_docs(tmp_path / "docs.jsonl", docs)], tmp_path / "g", vocabulary=tiny_vocabulary,
                           embedder=embedder, store=store, store_options=opts, workers=0)

    first = build(DOCS)
    assert (first.added, first.replaced, first.documents) == (3, 0, 3)
    assert first.counts["Document"] == 3 and first.counts["IS_A"] == first.counts["Entity"] > 5
    assert first.counts["REFERENCES"] > 0 and first.counts["Summary"] > 0

    if store == "neo4j":  # embeddings go to the server only under a native vector index (Neo4j, not ArcadeDB)
        with KnowledgeGraph.open(tmp_path / "g", store_options=opts) as g:
            n = g.cypher("MATCH (c:Chunk) WHERE c.embedding IS NOT NULL RETURN count(c) AS n")[0]["n"]
        assert n == (first.counts["Chunk"] if neo4j_options_from_env() else 0)

    again = build(DOCS)
    assert (again.added, again.unchanged, again.view_rebuilt) == (0, 3, False)
    assert again.counts == first.counts

    changed = dict(DOCS, **{"PMID:2": "Skin neoplasms and beta-catenin. No anaemia was seen."})
    third = build(changed)
    assert (third.added, third.replaced, third.unchanged) == (0, 1, 2)
    with KnowledgeGraph.open(tmp_path / "g", store_options=opts) as g:
        texts = [r["t"] for r in g.cypher("MATCH (c:Chunk) WHERE c.doc_id = 'PMID:2' RETURN c.text AS t")]
        assert " ".join(texts).startswith("Skin neoplasms")
        dup = g.cypher("MATCH (e:Entity) RETURN count(e) AS n, count(DISTINCT e.id) AS d")[0]
        assert dup["n"] == dup["d"]
        assert g.cypher("MATCH (c:Concept) WHERE c.id = 'MESH:D000163' RETURN count(c) AS n")[0]["n"] == 0  # AIDS gone
        counts_after_change = g.stats()["counts"]

    # the same final inputs built from scratch (in the embedded store) give the same graph
    fresh = build_graph([write_docs(tmp_path / "final.jsonl", changed)], tmp_path / "fresh",
                        vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    assert fresh.counts == counts_after_change

    removed, report = delete_documents(["PMID:1"], tmp_path / "g", vocabulary=tiny_vocabulary, store_options=opts)
    assert removed == 1 and report.documents == 2 and report.counts["Document"] == 2
    with KnowledgeGraph.open(tmp_path / "g", store_options=opts) as g:
        assert g.cypher("MATCH (c:Chunk) WHERE c.doc_id = 'PMID:1' RETURN count(c) AS n")[0]["n"] == 0
        stats = g.stats()
        assert stats["by_tier"]["Document"] == {"1": 1, "2": 1}
        r = g.retrieve("Is beta-catenin found in skin neoplasms?")
        assert r.passages and r.passages[0].doc_id == "PMID:2"
    with pytest.raises(InputError, match="not in the graph"):
        delete_documents(["PMID:404"], tmp_path / "g", vocabulary=tiny_vocabulary, store_options=opts)


def test_read_only_refuses_writes_and_write_mode_allows_them(tmp_path: Path, backend, embedder, tiny_vocabulary
                                                            ) -> None:
    store, opts = backend
    build_graph([write_docs(tmp_path / "docs.jsonl", DOCS)], tmp_path / "g", vocabulary=tiny_vocabulary,
                embedder=embedder, store=store, store_options=opts, workers=0)
    with KnowledgeGraph.open(tmp_path / "g", store_options=opts) as g:
        before = g.stats()["counts"]
        with pytest.raises(QueryError, match="read-only"):  # refused before the store sees it (kg/guard.py)
            g.cypher("MATCH (c:Concept) DETACH DELETE c")
        assert g.stats()["counts"] == before
    with KnowledgeGraph.open(tmp_path / "g", store_options=opts, write=True) as g:
        g.cypher("MATCH (c:Concept) WHERE c.id = $id SET c.definition = $d", {"id": "MESH:D011014", "d": "lung"})
        rows = g.cypher("MATCH (c:Concept) WHERE c.id = 'MESH:D011014' RETURN c.definition AS d")
        assert rows == [{"d": "lung"}]


def test_a_server_that_is_down_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError, match=f"cannot reach the graph server at bolt://127.0.0.1:{port}"):
        open_store("neo4j", None, uri=f"bolt://127.0.0.1:{port}", username="neo4j", password="x")


def test_a_new_vocabulary_re_extracts_stored_documents(tmp_path: Path, backend, embedder, tiny_vocabulary) -> None:
    """Documents not in this run's inputs are re-extracted from their stored text when the vocabulary changed."""
    from medkg.ontologies.vocabulary import Vocabulary

    store, opts = backend
    build_graph([write_docs(tmp_path / "a.jsonl", DOCS)], tmp_path / "g", vocabulary=tiny_vocabulary,
                embedder=embedder, store=store, store_options=opts, workers=0)
    smaller = Vocabulary()
    smaller.add(c for c in tiny_vocabulary.concepts.values() if c.id != "MESH:D011014")  # no Pneumonia
    report = build_graph([write_docs(tmp_path / "b.jsonl", {"PMID:9": "Skin neoplasms in AIDS."})], tmp_path / "g",
                         vocabulary=smaller, embedder=embedder, store=store, store_options=opts, workers=0)
    assert (report.added, report.replaced, report.documents) == (1, 3, 4)
    with KnowledgeGraph.open(tmp_path / "g", store_options=opts) as g:
        rows = g.cypher("MATCH (e:Entity) WHERE e.concept_id = 'MESH:D011014' RETURN count(e) AS n")
        assert rows[0]["n"] == 0  # no entity is left linked to the concept that is gone
        assert g.stats()["counts"]["Document"] == 4


def test_deleting_everything_is_refused_and_keeps_the_graph(tmp_path: Path, embedder, tiny_vocabulary) -> None:
    build_graph([write_docs(tmp_path / "a.jsonl", DOCS)], tmp_path / "g", vocabulary=tiny_vocabulary,
                embedder=embedder, workers=0)
    with pytest.raises(InputError, match="would leave the graph empty"):
        delete_documents(list(DOCS), tmp_path / "g", vocabulary=tiny_vocabulary)
    with KnowledgeGraph.open(tmp_path / "g") as g:
        assert g.stats()["counts"]["Document"] == 3


def test_one_build_at_a_time(tmp_path: Path, embedder, tiny_vocabulary) -> None:
    from medkg.kg.graphdir import GraphDir, graph_lock

    (tmp_path / "g").mkdir()
    with graph_lock(GraphDir(tmp_path / "g")), pytest.raises(InputError, match="is changing this graph"):
        build_graph([write_docs(tmp_path / "a.jsonl", DOCS)], tmp_path / "g", vocabulary=tiny_vocabulary,
                    embedder=embedder, workers=0)


def test_new_extraction_rules_re_extract_stored_documents(tmp_path: Path, embedder, tiny_vocabulary,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from medkg.pipelines import build

    args = ([write_docs(tmp_path / "a.jsonl", DOCS)], tmp_path / "g")
    build_graph(*args, vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    again = build_graph(*args, vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    assert (again.added, again.replaced) == (0, 0)  # nothing changed: nothing re-extracted
    monkeypatch.setattr(build, "EXTRACTION_RULES", build.EXTRACTION_RULES + 1)
    newer = build_graph(*args, vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    assert (newer.added, newer.replaced, newer.documents) == (0, 3, 3)


def test_new_report_rules_re_extract_the_reports_only(tmp_path: Path, embedder, tiny_vocabulary,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """How reports are read has a version of its own: a change re-extracts the stored reports (from the
    ledger's text when no input holds them), not the literature."""
    from medkg.pipelines import build

    everything = write_docs(tmp_path / "a.jsonl", DOCS)
    literature = write_docs(tmp_path / "lit.jsonl", {k: v for k, v in DOCS.items() if k.startswith("PMID")})
    build_graph([everything], tmp_path / "g", vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    monkeypatch.setattr(build, "REPORT_RULES", build.REPORT_RULES + 1)
    only_literature = build_graph([literature], tmp_path / "g", vocabulary=tiny_vocabulary, embedder=embedder,
                                  workers=0)
    assert (only_literature.unchanged, only_literature.replaced, only_literature.documents) == (2, 1, 3)
    again = build_graph([everything], tmp_path / "g", vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    assert (again.replaced, again.unchanged) == (0, 3)
    monkeypatch.setattr(build, "REPORT_RULES", build.REPORT_RULES + 1)
    newer = build_graph([everything], tmp_path / "g", vocabulary=tiny_vocabulary, embedder=embedder, workers=0)
    assert (newer.added, newer.replaced, newer.unchanged, newer.documents) == (0, 1, 2, 3)


# the two-step form of docs/graph-schema.md (the one-pattern form loses rows on the embedded store)
CONCEPT_QUERY = ("MATCH (a:Entity)-[r:RELATED {type: $type}]->(b:Entity) "
                 "WITH a, b, r MATCH (c:Concept)<-[:IS_A]-(a), (b)-[:IS_A]->(d:Concept) "
                 "RETURN c.name AS chemical, d.name AS disease, r.score AS score, r.method AS method, "
                 "r.start AS start, r.`end` AS end_, r.negated AS negated, r.speculative AS speculative")


def test_typed_relations_and_concept_queries_on_every_store(tmp_path: Path, backend) -> None:
    """A typed edge keeps its type, score, method, flags and evidence span, and the concept-level query of the
    docs finds it on both stores."""
    from medkg.kg.batch import GraphBatch
    from medkg.kg.records import Chunk, ChunkGraph, Document, Entity, Link, Mention, Relation
    from medkg.ontologies.concept import Concept

    store, opts = backend
    text = "Cisplatin-induced nephrotoxicity. Amifostine may protect the kidney."

    def entity(eid: str, concept: str, name: str, group: str, start: int, end: int) -> Entity:
        link = Link(concept, 1.0, "test")
        return Entity(eid, "D:1#c0", 2, name, group, link, [Mention(start, end, text[start:end], link, group)])

    ents = [entity("D:1#c0/e0", "MESH:D002945", "Cisplatin", "CHEM", 0, 9),
            entity("D:1#c0/e1", "MESH:D007674", "Kidney Diseases", "DISO", 18, 32)]
    rels = [Relation("D:1#c0/e0", "D:1#c0/e1", "INDUCES", "D:1#c0", 0, 33, 0.91, "relation-model-v1",
                     speculative=True),
            Relation("D:1#c0/e0", "D:1#c0/e1", "co_occurs", "D:1#c0", 0, 33, 0.9, "sentence_cooccurrence")]
    batch = GraphBatch()
    batch.add_document(Document("D:1", text), [ChunkGraph(Chunk("D:1#c0", "D:1", 2, 0, 0, len(text), text), ents,
                                                          rels)])
    batch.add_concepts([Concept("MESH:D002945", "MESH", "Cisplatin", tree_numbers=("D01.210",)),
                        Concept("MESH:D007674", "MESH", "Kidney Diseases", tree_numbers=("C12.777.419",))])
    with open_store(store, tmp_path / "store.lbug", read_only=False, create=True, **opts) as st:
        st.replace_contents(batch)
        rows = st.query(CONCEPT_QUERY, {"type": "INDUCES"})
        assert rows == [{"chemical": "Cisplatin", "disease": "Kidney Diseases", "score": 0.91,
                         "method": "relation-model-v1", "start": 0, "end_": 33, "negated": False,
                         "speculative": True}]
        assert [r["method"] for r in st.query(CONCEPT_QUERY, {"type": "co_occurs"})] == ["sentence_cooccurrence"]
        assert st.query(CONCEPT_QUERY, {"type": "TREATS"}) == []
