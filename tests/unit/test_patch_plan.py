"""When a view is patched rather than rebuilt, and where a patch puts new chunks among the topics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from medkg.kg.view.files import IndexFiles
from medkg.kg.view.patch import PATCH_MAX_DOCS, ViewDiff, should_patch, view_diff
from medkg.kg.view.summaries import Summary, assign_topics, concept_weight, level2


def _s0(chunk: str, *concepts: str) -> Summary:
    return Summary(id=f"S0:{chunk}", level=0, tags=sorted({*concepts, "group:DISO"}), text="", chunk_ids=[chunk])


def test_view_diff_names_new_changed_and_deleted_documents(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "themes.json").write_text('{"S2:0": ["S1:0"]}')
    IndexFiles(tmp_path / "index").save_document_keys({"a": ("k1", "f"), "b": ("k2", "f"), "c": ("k3", "f")})
    diff = view_diff(tmp_path, {"a": ("k1", "f"), "b": ("k2-new", "f"), "d": ("k4", "f")})
    assert diff == ViewDiff(removed=["b", "c"], added=["b", "d"]) and diff.size == 3
    stored = json.loads((tmp_path / "index" / "documents.json").read_text())
    assert view_diff(tmp_path, {d: tuple(k) for d, k in stored.items()}) == ViewDiff([], [])
    assert view_diff(tmp_path / "elsewhere", {}) is None  # a view from before patching existed: rebuild it
    (tmp_path / "index" / "themes.json").write_text("{}")
    assert view_diff(tmp_path, {}) is None  # nor is a view without a single topic patched


def test_only_small_changes_are_patched() -> None:
    one = ViewDiff(removed=["a"], added=["a"])
    assert should_patch(one, 38) and not should_patch(one, 4)  # 1 of 4 documents is a large share
    assert not should_patch(ViewDiff([], []), 100)
    big = ViewDiff(removed=[], added=[str(i) for i in range(PATCH_MAX_DOCS + 1)])
    assert not should_patch(big, 10**6)


def test_new_chunks_join_the_topic_they_share_rare_concepts_with() -> None:
    topic_of = {"d1#c0": "S1:0", "d2#c0": "S1:0", "d3#c0": "S1:1", "d4#c0": "S1:1", "d5#c0": "S1:1"}
    chunks_of = {"MESH:rare": {"d1#c0", "d2#c0", "new#c0"}, "MESH:common": {"d3#c0", "d4#c0", "d5#c0", "new#c0"}}
    n = 100
    assert concept_weight(3, n) > concept_weight(4, n) > 0
    placed = assign_topics([_s0("new#c0", "MESH:rare", "MESH:common")], chunks_of, topic_of, n, next_topic=2)
    # two shared chunks of weight w(3) against three of w(4): 2 * 4.51 = 9.02 < 3 * 4.22 = 12.66
    assert placed == {"new#c0": "S1:1"}


def test_a_document_s_later_chunks_follow_its_first_and_unrelated_chunks_start_a_topic() -> None:
    topic_of = {"d1#c0": "S1:0", "d2#c0": "S1:0"}
    chunks_of = {"MESH:x": {"d1#c0", "d2#c0", "new#c0"}}
    new = [_s0("new#c0", "MESH:x"), _s0("new#c1"), _s0("lone#c0", "MESH:y")]
    placed = assign_topics(new, chunks_of, topic_of, 50, next_topic=7)
    assert placed == {"new#c0": "S1:0", "new#c1": "S1:0", "lone#c0": "S1:7"}
    assert topic_of["lone#c0"] == "S1:7"  # later placements see earlier ones
    assert concept_weight(1, 50) == 0 and concept_weight(61, 1000) == 0  # too rare or too common to tie chunks


def test_themes_group_topics_with_similar_centroids_the_same_way_every_time() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(8, dtype=np.float32)[:3]  # three directions; eight topics near each
    vectors = np.concatenate([a + 0.05 * rng.standard_normal((8, 8)).astype(np.float32) for a in axes])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    topics = [Summary(id=f"S1:{i}", level=1, tags=[], text="", chunk_ids=[f"d{i}#c0"]) for i in range(24)]
    groups, centroids = level2(topics, vectors)
    assert len(groups) <= 5 and sorted(i for g in groups for i in g) == list(range(24))  # k = ceil(sqrt(24))
    assert all(len({i // 8 for i in g}) == 1 for g in groups)  # no theme mixes two directions
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)
    again, _ = level2(topics, vectors)
    assert again == groups
