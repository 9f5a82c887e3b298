"""The end-to-end slice on the bundled sample: real vocabulary, embedder, store and GGUF model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.errors import InputError, QueryError
from medkg.pipelines.build import build_graph, sample_paths
from medkg.pipelines.reading.documents import read_documents

pytestmark = pytest.mark.integration

APPENDICITIS = "Are leukocyte count and CRP useful to diagnose acute appendicitis?"


def source_texts() -> dict[str, str]:
    return {d.id: d.text for d in read_documents(sample_paths())}


def test_sample_graph_has_all_three_tiers_and_links(graph) -> None:
    c = graph.stats()["counts"]
    assert c["Document"] == 38 and c["Chunk"] > 100
    tiers = {r["tier"]: r["n"] for r in graph.cypher("MATCH (d:Document) RETURN d.tier AS tier, count(d) AS n")}
    assert tiers == {1: 6, 2: 32}
    assert c["Concept"] > 300 and c["BROADER"] > 300  # tier 3 with its hierarchy
    assert c["IS_A"] == c["Entity"] > 300
    assert c["REFERENCES"] > 10 and c["RELATED"] > 100
    levels = graph.cypher("MATCH (s:Summary) RETURN s.level AS level, count(s) AS n ORDER BY level")
    assert [r["level"] for r in levels] == [0, 1, 2] and levels[1]["n"] >= 3 and 1 <= levels[2]["n"] < levels[1]["n"]
    # every report entity's REFERENCES point to literature entities of the same concept
    bad = graph.cypher("MATCH (a:Entity)-[:REFERENCES]->(b:Entity) WHERE a.tier <> 1 OR b.tier <> 2 "
                       "OR a.concept_id <> b.concept_id RETURN count(*) AS n")
    assert bad[0]["n"] == 0


def test_stored_chunks_are_exact_spans_of_their_documents(graph) -> None:
    texts = source_texts()
    rows = graph.cypher("MATCH (c:Chunk) RETURN c.doc_id AS d, c.start AS s, c.`end` AS e, c.text AS t")
    assert rows and all(texts[r["d"]][r["s"] : r["e"]] == r["t"] for r in rows)
    mentions = graph.cypher("MATCH (c:Chunk)-[m:MENTIONS]->(:Entity) RETURN c.doc_id AS d, m.start AS s, "
                            "m.`end` AS e, m.text AS t")
    assert all(texts[r["d"]][r["s"] : r["e"]] == r["t"] for r in mentions)


def test_retrieval_walks_summaries_to_the_right_paper(graph) -> None:
    r = graph.retrieve(APPENDICITIS)
    assert r.passages[0].doc_id == "PMID:10340286"
    assert "MESH:D001064" in {c.id for c in r.concepts}  # appendicitis read from the question
    assert r.path["summaries"] and r.path["chunks"]


def test_ask_cites_text_that_is_really_at_the_cited_span(graph) -> None:
    answer = graph.ask(APPENDICITIS)
    assert not answer.abstained and answer.answer
    assert answer.citations
    texts = source_texts()
    for c in answer.citations:
        assert texts[c.doc_id][c.start : c.end] == c.quote
    assert "PMID:10340286" in {c.doc_id for c in answer.citations}
    assert answer.tokens["prompt"] > 0 and 0.0 <= answer.confidence <= 1.0
    json.dumps(answer.to_dict())  # the Answer is JSON-serialisable as --json prints it


def test_unrelated_question_abstains(graph) -> None:
    answer = graph.ask("What is the capital of France?")
    assert answer.abstained and not answer.citations


def test_empty_and_overlong_questions_are_refused(graph) -> None:
    with pytest.raises(QueryError, match="empty"):
        graph.ask("   ")
    with pytest.raises(QueryError, match="limit"):
        graph.ask("why " * 1000)


def test_rebuild_is_idempotent_and_refuses_foreign_directories(tmp_path: Path, sample_graph: Path, graph
                                                               ) -> None:
    target = tmp_path / "g"
    first = build_graph(sample_paths(), target)
    second = build_graph(sample_paths(), target)
    assert first.counts == second.counts == graph.stats()["counts"]
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match="not a medkg graph; refusing"):
        build_graph(sample_paths(), foreign)
    assert (foreign / "holiday.jpg").exists()
