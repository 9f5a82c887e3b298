"""Names from an annotated corpus: read from PubTator gold, added to concepts, preferred by exact look-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.errors import VocabularyError
from medkg.ontologies.library import VocabularyLibrary
from medkg.ontologies.vocabulary import read_concepts
from medkg.pipelines.linking.choose import choose_link
from medkg.pipelines.linking.lexicon import Lexicon

# written for the tests, in BC5CDR's conventions: "toxicity" is a disease concept no MeSH term spells
GOLD = (
    "1|t|Toxicity of cisplatin.\n"
    "1|a|Cisplatin toxicity and anemia; anaemia again.\n"
    "1\t0\t8\tToxicity\tDisease\tD064420\n"
    "1\t12\t21\tcisplatin\tChemical\tD002945\n"
    "1\t23\t32\tCisplatin\tChemical\tD002945\n"
    "1\t33\t41\ttoxicity\tDisease\tD064420\n"
    "1\t46\t52\tanemia\tDisease\tD000740\n"
    "1\t54\t61\tanaemia\tDisease\tD000740\n\n"
    "2|t|Anemia.\n"
    "2|a|Anemia in OMIM terms, and breast and ovarian cancer.\n"
    "2\t0\t6\tAnemia\tDisease\tD003920\n"
    "2\t8\t14\tAnemia\tDisease\tOMIM:123456\n"
    "2\t34\t59\tbreast and ovarian cancer\tDisease\tD001943|D010051\n\n"
    "3|t|Hemorrhagic cystitis.\n"
    "3|a|Hemorrhagic cystitis after ifosfamide.\n"
    "3\t0\t20\tHemorrhagic cystitis\tDisease\tD006470|D003556\n"
    "3\t22\t42\tHemorrhagic cystitis\tDisease\tD006470|D003556\n\n"
)


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    path = tmp_path / "train.pubtator"
    path.write_text(GOLD, encoding="utf-8")
    return path


def test_one_concept_per_id_and_one_id_per_text(gold: Path) -> None:
    concepts = {c.id: c for c in read_concepts("pubtator", gold)}
    # "anemia" was linked to D000740 twice, to D003920 once and to OMIM once: the majority keeps the text,
    # and the ids left without a text are not concepts of this vocabulary
    assert set(concepts) == {"MESH:D064420", "MESH:D002945", "MESH:D000740", "MESH:D003556"}
    assert [t.lower() for t in concepts["MESH:D064420"].terms] == ["toxicity"]
    assert concepts["MESH:D064420"].semantic_group == "DISO"
    assert concepts["MESH:D002945"].semantic_group == "CHEM"
    assert concepts["MESH:D000740"].vocab == "ANNOTATED-train"
    # the composite mention names two concepts and teaches nothing
    assert not any("ovarian" in t for c in concepts.values() for t in c.terms)
    # one name linked to two concepts at once (no "and" between names) names one of them: the smaller id on a tie
    assert concepts["MESH:D003556"].terms == ("Hemorrhagic cystitis",)


def test_names_join_existing_concepts_and_win_exact_lookup(gold: Path, tiny_vocabulary, tmp_path: Path) -> None:
    library = VocabularyLibrary(tmp_path / "vocab")
    library.load("pubtator", gold)
    vocab = library.vocabulary(bundled=False)
    vocab.add(tiny_vocabulary)
    anemia = vocab.concepts["MESH:D000740"]
    assert anemia.vocab == "MESH" and anemia.tree_numbers  # the MeSH record is kept, not replaced
    assert "anemia" in vocab.annotated["MESH:D000740"]
    lex = Lexicon.from_vocabulary(vocab, approximate=False)
    assert lex.annotated_choice("Toxicity") == "MESH:D064420"
    found = lex.lookup("toxicity")
    assert found is not None
    link = choose_link(found[0], lex, found[1], "DISO", lex.annotated_choice("toxicity"))
    assert link.concept_id == "MESH:D064420" and link.method == "dictionary:annotated"


def test_a_file_without_gold_mentions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.pubtator"
    path.write_text("1|t|Title.\n1|a|Abstract.\n\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="no annotated mentions"):
        list(read_concepts("pubtator", path))


def test_the_ner_features_see_the_vocabularies_alone(gold: Path, tiny_vocabulary, tmp_path: Path) -> None:
    from medkg.pipelines.linking.lexicon import _vocabulary_only
    from medkg.pipelines.ner.lexicon_tags import LexiconTagger
    from medkg.pipelines.text.tokenizer import blank_english

    library = VocabularyLibrary(tmp_path / "vocab")
    library.load("pubtator", gold)
    vocab = library.vocabulary(bundled=False)
    vocab.add(tiny_vocabulary)
    lex = Lexicon.from_vocabulary(vocab, approximate=False)
    text = "Cisplatin toxicity and anemia."
    every = {text[s:e] for s, e, _, _ in lex.find(text)}
    own = {text[s:e] for s, e, _, _ in lex.find(text, vocabulary_only=True)}
    assert {"toxicity", "anemia"} <= every
    assert "anemia" in own and "toxicity" not in own  # "toxicity" is only the annotators' name
    doc = LexiconTagger(lex)(blank_english()("Cisplatin toxicity and anemia."))
    assert doc[1].tag_ == "" and doc[3].tag_.startswith("B-DISO")  # the model's features: as in training
    assert any(text[s:e] == "toxicity" for s, e, _, _ in doc._.lexicon_matches)  # the linker's: every match
    # a key annotated names extended keeps the vocabularies' candidates; one they added has none
    assert _vocabulary_only({"a": (("X", True), ("Y", False)), "b": (("Z", False),), "c": (("W", True),)},
                            {"a": 1, "c": 1}) == {"a": (("X", True),), "b": ()}


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_where_corpora_disagree_the_vocabularys_own_term_decides(tmp_path: Path, order: tuple[int, int]) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    def pain(cid: str, name: str, *synonyms: str) -> Concept:
        return Concept(cid, "MESH", name, synonyms=synonyms, tree_numbers=("C23.888.592.612",),
                       semantic_types=("DISO",), vocab_version="test")

    corpora = []
    for i, cid in enumerate(("D059352", "D063806")):  # NCBI-disease and BC5CDR linked "myalgia" differently
        path = tmp_path / f"corpus{i}.pubtator"
        path.write_text(f"{i}|t|Myalgia.\n{i}|a|Muscle ache.\n{i}\t0\t7\tMyalgia\tDisease\t{cid}\n\n", encoding="utf-8")
        corpora.append(path)
    vocab = Vocabulary()
    vocab.add([pain("MESH:D063806", "Myalgia", "Muscle Pain"), pain("MESH:D059352", "Musculoskeletal Pain")])
    for i in order:
        vocab.add(read_concepts("pubtator", corpora[i]))
    lex = Lexicon.from_vocabulary(vocab, approximate=False)
    assert lex.annotated_choice("myalgia") == "MESH:D063806"
