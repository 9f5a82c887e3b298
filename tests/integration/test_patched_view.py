"""A small change patches the previous view with MERGE; the result must be what a full build makes.

The sample graph (real vocabulary and embedder) is copied, changed by one build
(a changed abstract, a new abstract, a new report) and one delete, each of
which patches the view. The reference is a full view rebuilt from the same
ledger. Everything must match but topic membership, which a patch assigns
locally and a full build re-clusters; topics are checked for what U-Retrieve
relies on instead (every chunk in exactly one topic, tags the union of the
children's).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import medkg.kg.view.patch as patch
from medkg.kg.graphdir import GraphDir
from medkg.kg.schema import NODE_TABLES, REL_TABLES
from medkg.kg.store import open_store
from medkg.pipelines.build import build_graph, delete_documents, sample_paths
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration

CHANGES = [
    {"id": "PMID:23860049", "tier": 2, "title": "Ultrasound and CRP in suspected appendicitis in children",
     "text": "Children with suspected acute appendicitis underwent ultrasound. RESULTS: C-reactive protein above "
             "40 mg/L and leukocytosis predicted perforation; ultrasound missed appendicitis in obese children."},
    {"id": "PMID:990001", "tier": 2, "title": "Leukocyte count in appendicitis",
     "text": "Leukocyte count and C-reactive protein in children with acute appendicitis and abdominal pain. "
             "CONCLUSIONS: Normal values make appendicitis unlikely."},
    {"id": "report:new-note", "tier": 1, "title": "",
     "text": "ASSESSMENT: Type 2 diabetes with recurrent hypoglycemia. Denies chest pain. Family history of stroke."},
]
DELETED = "PMID:10078749"  # the GCH1 / dystonia abstract: concepts no other document links to


@pytest.fixture(scope="module")
def vocab():
    from medkg.ontologies.vocabulary import load_vocabulary

    return load_vocabulary("mesh-bundled")


def _inputs(tmp_path: Path) -> list[Path]:
    extra = tmp_path / "changes.jsonl"
    extra.write_text("".join(json.dumps(d) + "\n" for d in CHANGES), encoding="utf-8")
    return [extra, *sample_paths()]  # first copy of an id wins: the changed abstract replaces the sample's


def _snapshot(graph: Path) -> dict:
    """Every row of every table (topics aside), and the search index by chunk id."""
    gd = GraphDir(graph)
    out: dict = {}
    with open_store("embedded", gd.store_path) as st:
        for t in NODE_TABLES:
            cols = ", ".join(f"n.`{n}` AS `{n}`" for n, _ in t.columns)
            where = " WHERE n.level = 0" if t.name == "Summary" else ""
            rows = st.query(f"MATCH (n:{t.name}){where} RETURN {cols}")
            out[t.name] = sorted(map(repr, (tuple(r.values()) for r in rows)))
        for r in REL_TABLES:
            if r.name == "CHILD_OF":
                continue
            cols = "".join(f", e.`{n}` AS `{n}`" for n, _ in r.columns)
            rows = st.query(f"MATCH (a)-[e:{r.name}]->(b) RETURN a.id AS a, b.id AS b{cols}")
            out[r.name] = sorted(map(repr, (tuple(x.values()) for x in rows)))
    ids = json.loads((gd.index_dir / "chunk_ids.json").read_text())
    vectors = np.load(gd.index_dir / "chunk_vectors.npy")
    out["vectors"] = {cid: vectors[i] for i, cid in enumerate(ids)}
    out["chunk_order"] = ids  # the row order too: ties in retrieval break by it
    out["tag_df"] = json.loads((gd.index_dir / "tag_df.json").read_text())
    return out


def _check_topics(graph: Path) -> None:
    gd = GraphDir(graph)
    members = json.loads((gd.index_dir / "summary_members.json").read_text())
    order = json.loads((gd.index_dir / "summary_ids.json").read_text())
    chunks = json.loads((gd.index_dir / "chunk_ids.json").read_text())
    placed = [c for sid in order for c in members[sid]]
    assert sorted(placed) == sorted(chunks) and len(placed) == len(set(placed))
    assert np.load(gd.index_dir / "summary_vectors.npy").shape[0] == len(order)
    with open_store("embedded", gd.store_path) as st:
        topics = {r["id"]: set(r["tags"]) for r in st.query("MATCH (s:Summary) WHERE s.level = 1 "
                                                              "RETURN s.id AS id, s.tags AS tags")}
        assert set(topics) == set(order)
        kids = st.query("MATCH (k:Summary)-[:CHILD_OF]->(s:Summary) WHERE s.level = 1 "
                        "RETURN s.id AS s, k.tags AS tags, k.id AS k")
    assert sorted(r["k"] for r in kids) == sorted(f"S0:{c}" for c in chunks)
    union: dict[str, set[str]] = {}
    for r in kids:
        union.setdefault(r["s"], set()).update(r["tags"])
    assert union == topics
    themes = json.loads((gd.index_dir / "themes.json").read_text())  # level 2: every topic under one theme
    assert sorted(t for ts in themes.values() for t in ts) == sorted(order)
    assert np.load(gd.index_dir / "theme_vectors.npy").shape[0] == len(themes)
    with open_store("embedded", gd.store_path) as st:
        rows = st.query("MATCH (t:Summary)-[:CHILD_OF]->(h:Summary) WHERE h.level = 2 "
                        "RETURN h.id AS h, t.id AS t, h.tags AS tags, t.tags AS topic_tags")
    assert {r["h"]: set(r["tags"]) for r in rows} == {
        h: set().union(*(topics[t] for t in ts)) for h, ts in themes.items()}
    assert sorted(r["t"] for r in rows) == sorted(order)


def test_a_small_change_patches_the_view_to_what_a_full_build_makes(tmp_path: Path, sample_graph: Path,
                                                                    vocab) -> None:
    g = tmp_path / "g"
    shutil.copytree(sample_graph, g)
    before = GraphDir(g).read_manifest()["view"]

    report = build_graph(_inputs(tmp_path), g, vocabulary=vocab, workers=0)
    assert (report.added, report.replaced, report.view_patched) == (2, 1, True)
    assert GraphDir(g).read_manifest()["view_kind"] == "patch" and GraphDir(g).read_manifest()["view"] != before
    removed, report = delete_documents([DELETED], g, vocabulary=vocab)
    assert removed == 1 and report.view_patched

    again = build_graph(_inputs(tmp_path)[:1], g, vocabulary=vocab, workers=0)
    assert (again.unchanged, again.view_rebuilt) == (3, False)

    ref = tmp_path / "ref"  # the same ledger, its view rebuilt in full
    shutil.copytree(g, ref)
    (ref / "manifest.json").unlink()
    full = build_graph(_inputs(tmp_path)[:1], ref, vocabulary=vocab, workers=0)
    assert not full.view_patched and full.view_rebuilt

    patched, reference = _snapshot(g), _snapshot(ref)
    assert patched["vectors"].keys() == reference["vectors"].keys()
    assert all(np.array_equal(v, reference["vectors"][k]) for k, v in patched.pop("vectors").items())
    reference.pop("vectors")
    for table in reference:
        assert patched[table] == reference[table], table
    assert report.counts["Summary"] - report.counts["Chunk"] > 0  # topics exist
    assert any("PMID:990001" in row for row in patched["Document"])
    assert not any(DELETED in row for row in patched["Document"] + patched["Chunk"])
    assert any("report:new-note" in row for row in patched["REFERENCES"])
    _check_topics(g)

    with KnowledgeGraph.open(g) as kg:
        r = kg.retrieve("Do leukocyte count and C-reactive protein rule out appendicitis in children?")
        assert {"PMID:990001", "PMID:23860049"} & {p.doc_id for p in r.passages}


def test_a_patch_that_fails_falls_back_to_a_full_view_and_an_interrupted_one_leaves_the_previous(
        tmp_path: Path, sample_graph: Path, vocab, monkeypatch) -> None:
    g = tmp_path / "g"
    shutil.copytree(sample_graph, g)
    gd = GraphDir(g)
    before, views = gd.read_manifest()["view"], gd.views()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the patch

    monkeypatch.setattr(patch, "_patch_references", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_graph(_inputs(tmp_path)[:1], g, vocabulary=vocab, workers=0)
    assert GraphDir(g).read_manifest()["view"] == before and GraphDir(g).views() == views  # no half view left
    with KnowledgeGraph.open(g) as kg:
        assert kg.cypher("MATCH (d:Document) WHERE d.id = 'PMID:990001' RETURN count(d) AS n")[0]["n"] == 0

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the patch")

    monkeypatch.setattr(patch, "_patch_references", broken)
    report = build_graph(_inputs(tmp_path)[:1], g, vocabulary=vocab, workers=0)  # extraction was committed
    assert (report.added, report.unchanged, report.view_rebuilt, report.view_patched) == (0, 3, True, False)
    assert GraphDir(g).read_manifest()["view_kind"] == "full"
    with KnowledgeGraph.open(g) as kg:
        assert kg.cypher("MATCH (d:Document) WHERE d.id = 'PMID:990001' RETURN count(d) AS n")[0]["n"] == 1
    _check_topics(g)
