"""The embedded store (real LadybugDB) and the graph directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.errors import GraphCorruptError, GraphNotFoundError, QueryError, StoreError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.graphdir import GraphDir
from medkg.kg.records import Document
from medkg.kg.store import open_store
from medkg.pipelines.extractor import Extractor
from medkg.queries.answer import verify_citations
from medkg.queries.records import Citation

TEXT = 'He said "no chest pain",\nthen: pneumonia, type 2 diabetes. His mother had anaemia.'


@pytest.fixture
def store(tmp_path: Path, tiny_lexicon_path: Path, tiny_vocabulary):
    doc = Document(id="report:q", text=TEXT, tier=1, kind="report")
    graphs = Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"})).extract(doc)
    batch = GraphBatch()
    batch.add_document(doc, graphs)
    batch.add_concepts(tiny_vocabulary)
    st = open_store("embedded", tmp_path / "store.lbug", read_only=False, create=True)
    st.create_schema()
    st.bulk_load(batch)
    yield st
    st.close()


def test_bulk_load_round_trips_text_lists_and_flags(store) -> None:
    (row,) = store.query(cypher.CHUNKS_BY_ID, {"ids": ["report:q#c0"]})
    assert row["text"] == TEXT[: row["end_"]]  # quotes, commas and the newline survive CSV staging
    ents = store.query_each(cypher.ENTITIES_OF_CHUNK, ["report:q#c0", "report:q#c0"])  # the same chunk once
    by_name = {e["name"]: e for e in ents}
    assert by_name["Chest Pain"]["negated"] is True
    assert by_name["Pneumonia"]["negated"] is False
    assert by_name["Anemia"]["family"] is True and by_name["Pneumonia"]["family"] is False
    assert by_name["Anemia"]["historical"] is False
    (c,) = store.query("MATCH (c:Concept) WHERE c.id = $id RETURN c.synonyms AS s", {"id": "MESH:D003924"})
    assert "Diabetes Mellitus, Non-Insulin-Dependent" in c["s"]  # a comma inside a list item
    (b,) = store.query_each(cypher.CONCEPT_WITH_BROADER, ["MESH:D003924"])
    assert b["broader"] == ["Diabetes Mellitus"]
    counts = store.counts()
    assert counts["Document"] == 1 and counts["IS_A"] == counts["Entity"] == 4


def test_read_only_store_refuses_writes(store, tmp_path: Path) -> None:
    store.close()
    ro = open_store("embedded", tmp_path / "store.lbug", read_only=True)
    with pytest.raises(QueryError, match="read-only"):  # the guard (kg/guard.py) refuses it first
        ro.query("MATCH (c:Concept) DELETE c")
    with pytest.raises(StoreError, match="read-only"):  # and the engine would too
        ro._exec("MATCH (c:Concept) DELETE c")
    assert ro.counts()["Concept"] == 9  # nothing lost
    with pytest.raises(StoreError, match="query failed"):
        ro.query("MATCH (x RETURN")
    ro.close()


def test_citation_check_drops_quotes_not_at_their_span(store) -> None:
    (row,) = store.query(cypher.CHUNKS_BY_ID, {"ids": ["report:q#c0"]})
    good = Citation(1, "report:q", "", "report:q#c0", row["start"], row["end_"], row["text"], 1)
    shifted = Citation(2, "report:q", "", "report:q#c0", row["start"] + 1, row["end_"], row["text"], 1)
    forged = Citation(3, "report:q", "", "report:q#c0", row["start"], row["end_"], "Pneumonia is cured.", 1)
    assert verify_citations([good, shifted, forged], store) == [good]


def test_missing_and_corrupt_graph_directories(tmp_path: Path) -> None:
    with pytest.raises(GraphNotFoundError, match="build one first"):
        GraphDir(tmp_path / "nothing").read_manifest()
    d = tmp_path / "g"
    d.mkdir()
    with pytest.raises(GraphCorruptError, match="manifest.json missing"):
        GraphDir(d).read_manifest()
    (d / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(GraphCorruptError, match="damaged manifest"):
        GraphDir(d).read_manifest()
    (d / "manifest.json").write_text(json.dumps({"format": "medkg-graph", "format_version": 3}), encoding="utf-8")
    with pytest.raises(GraphCorruptError, match="graph format 3 but this medkg reads 5; run 'medkg build"):
        GraphDir(d).read_manifest()
    (d / "manifest.json").write_text(json.dumps({"format": "medkg-graph", "format_version": 5, "view": "view-000001"}),
                                     encoding="utf-8")
    with pytest.raises(GraphCorruptError, match="view-000001/lexicon.pkl is missing"):
        GraphDir(d).read_manifest()
    (d / "store.lbug").write_bytes(b"garbage" * 100)
    with pytest.raises(GraphCorruptError, match="cannot open the graph store"):
        open_store("embedded", d / "store.lbug")


def test_a_view_becomes_current_only_when_the_manifest_says_so(tmp_path: Path) -> None:
    gd = GraphDir(tmp_path / "graph")
    gd.root.mkdir()
    (gd.root / "lexicon.pkl").write_bytes(b"lexicon")
    first = gd.new_view()
    gd.switch_to(first, {"documents": 1})
    half_built = gd.new_view()  # a build that crashes before switching leaves this behind
    (half_built / "store.lbug").write_bytes(b"partial")
    assert GraphDir(gd.root).peek_manifest() is None  # the view has no index: not a usable graph
    assert json.loads(gd.manifest_path.read_text())["view"] == first.name
    second = gd.new_view()
    assert second.name == "view-000003"
    gd.switch_to(second, {"documents": 2})
    # the current view and the one it replaced stay (a reader may still use it); the half-built one goes
    assert gd.views() == [first.name, second.name]
    third = gd.new_view()
    gd.switch_to(third, {"documents": 3})
    assert gd.views() == [second.name, third.name]
    assert json.loads(gd.manifest_path.read_text())["documents"] == 3


def test_copy_keeps_quoted_lists_that_first_appear_late_in_the_file(tmp_path: Path) -> None:
    """The engine's CSV sniffing looks at the first rows only; a quoted list after them once failed a build."""
    batch = GraphBatch()
    for i in range(3000):
        batch.nodes["Entity"].append((f"e{i}", "x", "DISO", 2, "c", "MESH:D1", False, False, False, False))
    batch.nodes["Concept"].append(("MESH:D1", "MESH", "x", [], [], "", [], "t"))
    batch.rels["IS_A"] = [(f"e{i}", "MESH:D1", 1.0, "dictionary", []) for i in range(2999)]
    batch.rels["IS_A"].append(("e2999", "MESH:D1", 0.9, "dictionary", ["MESH:D2", "MESH:D3"]))
    with open_store("embedded", tmp_path / "s.lbug", read_only=False, create=True) as st:
        st.create_schema()
        st.bulk_load(batch)
        (row,) = st.query("MATCH (e:Entity)-[r:IS_A]->() WHERE e.id = 'e2999' RETURN r.alternatives AS a")
    assert row["a"] == ["MESH:D2", "MESH:D3"]
