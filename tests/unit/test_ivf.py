"""The IVF index of large views (kg/view/ivf.py) and what retrieval derives from it.

Built small here (the threshold lowered), on clustered random vectors: the list-ordered copy must hold every
vector once, probing every list must give exact dense scores, probing fewer must be exact for the probed lists
and the centroid's score elsewhere, and the streaming build (blocks) must write the same files as the in-memory
one.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from medkg.kg.search import SearchIndex
from medkg.kg.view import ivf
from medkg.kg.view import summaries as tags
from medkg.queries.uretrieve import top_rows


def _vectors(n: int = 3000, dim: int = 16, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, dim))
    x = centres[rng.integers(0, 12, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _blocks(x: np.ndarray, size: int):
    return lambda: [(first, x[first : first + size]) for first in range(0, len(x), size)]


def test_build_writes_every_vector_once_in_list_order(tmp_path: Path) -> None:
    x = _vectors()
    ivf.build(_blocks(x, 700), len(x), x.shape[1], tmp_path)
    index = ivf.IVFIndex.load(tmp_path)
    assert index is not None and len(index.centroids) == ivf.lists_for(len(x))
    assert sorted(index.rows.tolist()) == list(range(len(x)))  # a permutation of the rows
    assert np.array_equal(np.asarray(index.vectors), x[index.rows])
    for k in range(len(index.centroids)):
        members = index.rows[index.offsets[k] : index.offsets[k + 1]]
        assert (index.assign[members] == k).all()
        assert list(members) == sorted(members)  # row order inside a list
    # each vector is in the list of its most similar centroid
    assert np.array_equal(index.assign, np.argmax(x @ index.centroids.T, axis=1))


def test_streaming_and_in_memory_builds_write_the_same_files(tmp_path: Path) -> None:
    x = _vectors()
    ivf.build(_blocks(x, 512), len(x), x.shape[1], tmp_path / "a")
    ivf.build(_blocks(x, len(x)), len(x), x.shape[1], tmp_path / "b")
    for name in ivf.FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_scores_are_exact_in_probed_lists_and_the_centroid_elsewhere(tmp_path: Path) -> None:
    x = _vectors()
    ivf.build(_blocks(x, 1000), len(x), x.shape[1], tmp_path)
    index = ivf.IVFIndex.load(tmp_path)
    q = x[17]
    exact = x @ q
    assert np.allclose(index.scores(q, probes=len(index.centroids)), exact, atol=1e-6)
    near = index.centroids @ q
    probed = set(np.argsort(-near)[:3].tolist())
    got = index.scores(q, probes=3)
    inside = np.isin(index.assign, list(probed))
    assert inside.any() and not inside.all()
    assert np.allclose(got[inside], exact[inside], atol=1e-6)
    assert np.allclose(got[~inside], near[index.assign[~inside]])
    assert np.argmax(got) == np.argmax(exact) == 17  # the question's own chunk is found


def test_search_index_writes_an_ivf_above_the_threshold_and_uses_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    x = _vectors(n=800)
    ids = [f"c{i}" for i in range(len(x))]
    texts = [f"passage {i}" for i in range(len(x))]
    SearchIndex.build(ids, texts, x).save(tmp_path / "small")
    assert not any((tmp_path / "small" / name).exists() for name in ivf.FILES)
    assert SearchIndex.load(tmp_path / "small").ivf is None
    monkeypatch.setattr(ivf, "IVF_MIN_ROWS", 500)
    monkeypatch.setattr(ivf, "PROBES", 10_000)  # every list: the scores must then be exact
    SearchIndex.build(ids, texts, x).save(tmp_path / "large")
    index = SearchIndex.load(tmp_path / "large")
    assert index.ivf is not None
    assert np.allclose(index.dense_scores(x[5]), x @ x[5], atol=1e-6)
    monkeypatch.setattr(ivf, "IVF_MIN_ROWS", 10_000)  # saved again below the threshold: an old IVF goes
    for name in ivf.FILES:
        (tmp_path / "small" / name).write_bytes((tmp_path / "large" / name).read_bytes())
    SearchIndex.build(ids, texts, x).save(tmp_path / "small")
    assert SearchIndex.load(tmp_path / "small").ivf is None


def test_ivf_rows_must_match_the_ids(tmp_path: Path) -> None:
    x = _vectors(n=300)
    ivf.build(_blocks(x, 300), len(x), x.shape[1], tmp_path)
    bm = bm25s.BM25()
    bm.index([["a"]] * 299, show_progress=False)
    with pytest.raises(Exception, match="IVF index 300 rows"):
        SearchIndex([f"c{i}" for i in range(299)], x[:299], bm, ivf.IVFIndex.load(tmp_path))


def test_a_centroid_cosine_is_the_members_cosines_over_the_norm() -> None:
    """What U-Retrieve uses instead of the centroid matrix when the view has an IVF index."""
    x = _vectors(n=400)
    group = np.random.default_rng(1).integers(0, 30, len(x))
    norms = np.empty(30, dtype=np.float32)
    unit = tags.centroids(group, 30, _blocks(x, 128), x.shape[1], norms=norms)
    q = x[3]
    from_members = np.bincount(group, weights=x @ q, minlength=30) / norms
    assert np.allclose(from_members, unit @ q, atol=1e-5)


def test_top_rows_is_a_stable_argsort_head() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        scores = rng.integers(0, 6, rng.integers(1, 40)).astype(np.float64)  # many ties
        k = int(rng.integers(0, 45))
        assert top_rows(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()
