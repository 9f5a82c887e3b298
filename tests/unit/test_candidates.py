"""Approximate (character 3-gram TF-IDF) candidates and how links are chosen from them."""

from __future__ import annotations

import pickle
from pathlib import Path

from medkg.pipelines.linking.candidates import Candidate
from medkg.pipelines.linking.choose import approximate_link, choose_link
from medkg.pipelines.linking.lexicon import Lexicon


def test_misspelt_and_reworded_terms_find_their_concept(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary)
    assert lex.candidates is not None
    got = lex.candidates(["diabetis melitus", "pneumonias", "skin neoplasma"], k=5)
    assert got[0][0].concept_id == "MESH:D003920"
    assert got[1][0].concept_id == "MESH:D011014" and got[1][0].similarity > 0.99  # plural folds to the term
    assert got[2][0].concept_id == "MESH:D012878"
    assert all(0.0 < c.similarity <= 1.0 for cands in got for c in cands)
    assert [c.similarity for c in got[0]] == sorted((c.similarity for c in got[0]), reverse=True)


def test_only_chemicals_and_diseases_are_indexed(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary)
    ids = {c.concept_id for cands in lex.candidates(["patients", "patient"]) for c in cands}
    assert "MESH:D010361" not in ids  # 'Patients' is LIVB: the NER model never asks for it


def test_text_without_any_known_trigram_has_no_candidates(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary)
    assert lex.candidates(["qqq", ""]) == [[], []]


def test_the_index_survives_the_lexicon_pickle(tiny_vocabulary, tmp_path: Path) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary)
    lex.candidates(["anemia"])  # builds the nmslib index, which is not picklable
    path = tmp_path / "lexicon.pkl"
    lex.save(path)
    again = Lexicon.load(path)
    assert again.candidates(["anaemias"])[0][0].concept_id == "MESH:D000740"
    assert pickle.loads(pickle.dumps(again)).candidates is not None


def test_approximate_link_respects_group_and_threshold(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    cands = [Candidate("MESH:D051176", 0.93, "beta catenin"), Candidate("MESH:D000740", 0.91, "anemia")]
    chem = approximate_link(cands, lex, "CHEM")
    assert chem is not None and chem.concept_id == "MESH:D051176" and chem.method == "tfidf" and chem.score == 0.93
    dis = approximate_link(cands, lex, "DISO")
    assert dis is not None and dis.concept_id == "MESH:D000740"
    assert approximate_link(cands, lex, "DISO", threshold=0.95) is None
    assert approximate_link(cands, lex, "ANAT") is None


def test_a_supplementary_record_is_never_an_approximate_link() -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:C109909", "MESH", "5-hydroxymethyl tolterodine", semantic_types=("CHEM",),
                       vocab_version="test"),
               Concept("MESH:D000068557", "MESH", "Tolterodine Tartrate", tree_numbers=("D02.033.100",),
                       semantic_types=("CHEM",), vocab_version="test")])
    lex = Lexicon.from_vocabulary(vocab, approximate=False)
    record = [Candidate("MESH:C109909", 0.93, "5 hydroxymethyl tolterodine")]
    assert approximate_link(record, lex, "CHEM") is None  # a different compound spelt alike
    descriptor = [Candidate("MESH:D000068557", 0.85, "tolterodine tartrate")]
    assert approximate_link(record + descriptor, lex, "CHEM") is None  # the record is the nearest: no link
    link = approximate_link(descriptor, lex, "CHEM")
    assert link is not None and link.concept_id == "MESH:D000068557"


def test_exact_candidates_prefer_the_ner_group(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    cands = (("MESH:D000740", True), ("MESH:D051176", True))
    assert choose_link(cands, lex, False).concept_id == "MESH:D000740"  # disorders first without a group
    link = choose_link(cands, lex, False, group="CHEM")
    assert link.concept_id == "MESH:D051176" and link.alternatives == ("MESH:D000740",)


def test_a_name_spelt_as_written_beats_its_plural_class() -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D010659", "MESH", "Phenylhydrazines", tree_numbers=("D02.092.471.683",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:C030299", "MESH", "phenylhydrazine", semantic_types=("CHEM",), vocab_version="test")])
    lex = Lexicon.from_vocabulary(vocab, approximate=False)
    found = lex.lookup("phenylhydrazine")
    assert found is not None and {c for c, _ in found[0]} == {"MESH:D010659", "MESH:C030299"}  # one key, both
    assert choose_link(found[0], lex, found[1], text="Phenylhydrazine").concept_id == "MESH:C030299"
    assert choose_link(found[0], lex, found[1], text="phenylhydrazines").concept_id == "MESH:D010659"
    assert choose_link(found[0], lex, found[1]).concept_id == "MESH:D010659"  # no text: descriptors first


def test_an_alias_with_a_word_the_mention_lacks_is_no_approximate_link(tiny_vocabulary) -> None:
    from medkg.pipelines.linking.choose import _words_covered

    lex = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    swapped = [Candidate("MESH:D002637", 0.91, "chest pain")]  # 3-grams of "pain" and "Chest" are close
    assert approximate_link(swapped, lex, "DISO").concept_id == "MESH:D002637"
    assert approximate_link(swapped, lex, "DISO", text="back pain") is None
    assert approximate_link(swapped, lex, "DISO", text="chest pains").concept_id == "MESH:D002637"
    assert _words_covered("sinus thrombosis", "cerebral venous sinus thrombosis")  # the mention may say more
    assert _words_covered("diabetes mellitus", "diabetis melitus")  # misspelt words are still counterparts
    assert _words_covered("hepatitis", "hepatic inflammation")  # the same stem
    assert not _words_covered("hearing impairment", "renal impairment")
