"""U-Retrieve over a view with an IVF index (kg/view/ivf.py), on the real sample graph.

Views get an IVF index above a million chunks; here the threshold is lowered so that the sample's view is built
with one. Probing every list must retrieve exactly what exact search retrieves (the topic cosines then come from
the members' scores and the sums' norms, which must equal the centroid product); probing the default number must
still answer with cited passages; a patched view (one new abstract) rebuilds its IVF index over the new rows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from medkg.kg.graphdir import GraphDir
from medkg.kg.view import ivf
from medkg.kg.view.files import IndexFiles
from medkg.pipelines.build import build_graph, sample_paths
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration

QUESTIONS = ["Does dexamethasone treat asthma?", "What causes hepatitis in patients treated with isoniazid?",
             "Is C-reactive protein useful in suspected appendicitis?", "Which drugs induce seizures?"]
NEW = {"id": "PMID:990002", "tier": 2, "title": "Isoniazid hepatotoxicity",
       "text": "Isoniazid induced hepatitis in 12 of 400 patients treated for latent tuberculosis."}


def _retrievals(graph: Path) -> list[tuple[list[str], list[str], list[dict]]]:
    with KnowledgeGraph.open(graph) as g:
        out = []
        for q in QUESTIONS:
            r = g.retrieve(q)
            out.append(([p.chunk_id for p in r.passages], r.ranking, r.path["summaries"]))
        return out


@pytest.fixture(scope="module")
def ivf_graph(sample_graph: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    graph = tmp_path_factory.mktemp("ivf") / "graph"
    shutil.copytree(sample_graph, graph)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ivf, "IVF_MIN_ROWS", 10)
        build_graph(sample_paths(), graph, full=True)
    return graph


def test_probing_every_list_retrieves_what_exact_search_does(sample_graph: Path, ivf_graph: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    index = GraphDir(ivf_graph).index_dir
    assert all((index / name).exists() for name in ivf.FILES)
    topics = IndexFiles(index).load_topics()
    assert topics.norms is not None and (topics.norms > 0).all()
    monkeypatch.setattr(ivf, "PROBES", 1_000_000)
    assert _retrievals(ivf_graph) == _retrievals(sample_graph)


def test_default_probes_still_answer_with_cited_passages(ivf_graph: Path) -> None:
    with KnowledgeGraph.open(ivf_graph) as g:
        assert g.index.ivf is not None and len(g.index.ivf.centroids) > ivf.PROBES // 8
        for q in QUESTIONS:
            r = g.retrieve(q)
            assert r.passages and all(p.text for p in r.passages)


def test_a_patched_view_rebuilds_its_ivf_over_the_new_rows(ivf_graph: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    graph = tmp_path / "graph"
    shutil.copytree(ivf_graph, graph)
    extra = tmp_path / "new.jsonl"
    extra.write_text(json.dumps(NEW) + "\n", encoding="utf-8")
    monkeypatch.setattr(ivf, "IVF_MIN_ROWS", 10)
    build_graph([extra, *sample_paths()], graph)
    with KnowledgeGraph.open(graph) as g:
        index = g.index
        assert index.ivf is not None and len(index.ivf.rows) == len(index.ids)
        assert np.array_equal(np.asarray(index.ivf.vectors), np.asarray(index.vectors)[index.ivf.rows])
        assert any(c.startswith(NEW["id"]) for c in index.ids)
        monkeypatch.setattr(ivf, "PROBES", 1_000_000)
        r = g.retrieve("Does isoniazid induce hepatitis?")
        assert any(p.doc_id == NEW["id"] for p in r.passages)
