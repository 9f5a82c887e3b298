"""The static embedder: distilled here from the installed all-MiniLM-L6-v2, then used by a real build.

The distillation runs once per session (about half a minute on two cores) into a
temporary models directory, exactly as ``medkg build --embedder
static-MiniLM-L6-v2`` does on first use.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medkg.pipelines.build import build_graph
from medkg.pipelines.embedding.embedder import STATIC_EMBEDDER, Embedder
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration

PAIRS = [  # (question, the one passage among these that answers it)
    ("aspirin to prevent heart attacks", "Aspirin reduced the risk of myocardial infarction in older men."),
    ("insulin doses in diabetic children", "Insulin therapy for type 1 diabetes mellitus in children."),
    ("tamoxifen for breast tumours", "Tamoxifen in the adjuvant treatment of breast cancer."),
    ("valproate and convulsions", "Seizures in patients with epilepsy treated with valproate."),
    ("asthma inhaler steroids", "Inhaled corticosteroids improve asthma control in adults."),
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def static(models_dir: Path) -> Embedder:
    return Embedder.named(STATIC_EMBEDDER, models_dir)


def test_distilled_model_is_kept_and_redone_when_its_recipe_changes(static: Embedder, models_dir: Path) -> None:
    target = models_dir / STATIC_EMBEDDER
    meta = json.loads((target / "medkg_static.json").read_text())
    assert static.name == STATIC_EMBEDDER and static.dim == meta["dims"] == 384
    weights = target / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    Embedder.named(STATIC_EMBEDDER, models_dir)
    assert weights.stat().st_mtime_ns == stamp  # reused, not distilled again
    (target / "medkg_static.json").write_text(json.dumps({**meta, "method": "an older recipe"}))
    again = Embedder.named(STATIC_EMBEDDER, models_dir)
    assert json.loads((target / "medkg_static.json").read_text())["method"] == meta["method"]
    # the recipe is deterministic: distilling again gives the same vectors
    assert np.allclose(again.encode([PAIRS[0][1]]), static.encode([PAIRS[0][1]]), atol=1e-5)


def test_static_vectors_find_the_passage_that_answers(static: Embedder) -> None:
    questions = static.encode([q for q, _ in PAIRS])
    passages = static.encode([p for _, p in PAIRS])
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    best = (questions @ passages.T).argmax(axis=1)
    assert list(best) == list(range(len(PAIRS)))


def test_graph_built_with_static_embedder_is_queried_with_it(tmp_path: Path, models_dir: Path, static: Embedder,
                                                             tiny_vocabulary) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"PMID:{i}", "text": p}) + "\n" for i, (_, p) in enumerate(PAIRS)))
    graph = tmp_path / "g"
    first = build_graph([docs], graph, vocabulary=tiny_vocabulary, embedder=STATIC_EMBEDDER, models_dir=models_dir,
                        workers=0)
    manifest = json.loads((graph / "manifest.json").read_text())
    assert (manifest["embedder"], manifest["dim"], first.added) == (STATIC_EMBEDDER, 384, len(PAIRS))
    # no --embedder on a later build: the graph keeps its own, so nothing is re-embedded
    again = build_graph([docs], graph, vocabulary=tiny_vocabulary, models_dir=models_dir, workers=0)
    assert (again.unchanged, again.replaced) == (len(PAIRS), 0)
    with KnowledgeGraph.open(graph, models_dir=models_dir) as g:
        hits = g.retrieve("tamoxifen for breast tumours", mode="vector").passages
        assert g.embedder.name == STATIC_EMBEDDER
        assert hits and hits[0].doc_id == "PMID:2"


def test_unknown_embedder_fails_before_the_graph_is_touched(tmp_path: Path, tiny_vocabulary) -> None:
    from medkg.errors import ModelNotFoundError

    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "PMID:1", "text": PAIRS[0][1]}) + "\n")
    with pytest.raises(ModelNotFoundError, match="no-such-embedder"):
        build_graph([docs], tmp_path / "g", vocabulary=tiny_vocabulary, embedder="no-such-embedder", workers=0)
    assert not (tmp_path / "g").exists()
