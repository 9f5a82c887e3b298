"""The trained NER model: reproducible training, and the shipped model in the extraction pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.pipelines.extractor import Extractor
from medkg.pipelines.ner.model import NER_MODEL_DIR, load_ner, ner_fingerprint
from medkg.pipelines.ner.training import train_ner

pytestmark = pytest.mark.integration


def test_training_twice_reproduces_the_model_byte_for_byte(fixtures: Path, tmp_path: Path) -> None:
    files = [fixtures / "ncbi_disease_2docs.pubtator"]
    reports = [train_ner(files, tmp_path / name, max_epochs=2, patience=2, heldout_fraction=0.5)
               for name in ("a", "b")]
    a, b = (tmp_path / "a" / "ner" / "model").read_bytes(), (tmp_path / "b" / "ner" / "model").read_bytes()
    assert a == b
    assert reports[0].train_documents == 1 and reports[0].heldout_documents == 1
    meta = json.loads((tmp_path / "a" / "training.json").read_text())
    assert meta["files"][0]["name"] == "ncbi_disease_2docs.pubtator" and len(meta["files"][0]["sha256"]) == 64
    assert load_ner(tmp_path / "a").pipe_names == ["ner"]


def test_the_shipped_model_is_small_and_documented() -> None:
    size = sum(p.stat().st_size for p in NER_MODEL_DIR.rglob("*") if p.is_file())
    assert size < 6_000_000
    meta = json.loads((NER_MODEL_DIR / "training.json").read_text())
    assert {f["name"] for f in meta["files"]} == {"CDR_TrainingSet.PubTator.txt", "NCBItrainset_corpus.txt"}
    assert len(ner_fingerprint()) == 16


@pytest.fixture(scope="module")
def extractor(tiny_lexicon_path: Path) -> Extractor:
    return Extractor(tiny_lexicon_path)


def test_the_shipped_model_finds_chemicals_and_diseases_in_the_pipeline(sample_graph: Path) -> None:
    # the bundled vocabulary's lexicon, as builds run it: the model reads its matches as features
    bundled = Extractor(sample_graph / "lexicon.pkl")
    text = "Cisplatin-induced nephrotoxicity and severe hypotension were seen in rats given haloperidol."
    with bundled.nlp.select_pipes(disable=["medkg_mentions", "medkg_abbreviations", "medkg_context"]):
        raw = {(e.text, e.label_) for e in bundled.nlp(text).ents}
    assert {("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease"), ("hypotension", "Disease"),
            ("haloperidol", "Chemical")} <= raw
    assert not any(label not in ("Chemical", "Disease") for _, label in raw)


def test_ner_mentions_are_linked_and_the_rest_of_the_dictionary_kept(extractor: Extractor) -> None:
    got = {m.text: m for m in extractor.mentions("Pneumonia and chest pain in patients with beta-catenin mutations.")}
    assert got["Pneumonia"].link.concept_id == "MESH:D011014" and got["Pneumonia"].semantic_group == "DISO"
    assert got["chest pain"].link.concept_id == "MESH:D002637"
    assert got["beta-catenin"].link.concept_id == "MESH:D051176"
    assert "patients" not in got  # a generic word, never a mention


def test_without_the_model_the_pipeline_still_runs(tiny_lexicon_path: Path) -> None:
    plain = Extractor(tiny_lexicon_path, without=frozenset({"ner"}))
    assert "ner" not in plain.nlp.pipe_names and "medkg_lexicon_tags" not in plain.nlp.pipe_names
    assert {m.text for m in plain.mentions("Pneumonia and chest pain.")} == {"Pneumonia", "chest pain"}
