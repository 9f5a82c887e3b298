"""Vocabularies loaded into the library join the bundled MeSH (needs the whole bundled MeSH: integration)."""

from __future__ import annotations

import pytest

from medkg.ontologies.library import VocabularyLibrary
from medkg.pipelines.linking.lexicon import Lexicon

pytestmark = pytest.mark.integration


def test_loaded_vocabulary_links_text_and_maps_to_mesh(tmp_path, fixtures):
    lib = VocabularyLibrary(tmp_path / "vocab")
    lib.load("obo", fixtures / "doid_4terms.obo")
    vocab = lib.vocabulary()
    assert "MESH:D003924" in vocab.concepts and "DOID:9352" in vocab.concepts  # bundled MeSH + loaded DOID
    assert set(vocab.versions) == {"MESH", "DOID names", "DOID"}  # the bundled names DOID gives MeSH, then DOID
    lexicon = Lexicon.from_vocabulary(vocab)
    (start, end, candidates, _), = list(lexicon.find("Patients with NIDDM were enrolled."))[:1]
    assert "DOID:9352" in {cid for cid, _ in candidates}
    assert "MESH:D003924" in vocab.get("DOID:9352").mappings


def test_the_bundled_doid_names_link_to_mesh_and_stay_apart_from_its_synonyms():
    from medkg.ontologies.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    aki = "MESH:D058186"  # Acute Kidney Injury; MeSH's bundled terms lack "acute kidney failure"
    assert "acute kidney failure" in vocab.crossref_names[aki]
    assert "acute kidney failure" not in {t.lower() for t in vocab.concepts[aki].terms}
    lexicon = Lexicon.from_vocabulary(vocab, approximate=False)
    text = "She developed acute kidney failure after cisplatin."
    found = {text[s:e]: [cid for cid, _ in cands] for s, e, cands, _ in lexicon.find(text)}
    assert found["acute kidney failure"] == [aki]
