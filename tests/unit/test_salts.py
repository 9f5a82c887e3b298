"""A drug named with its salt ("bupropion HCl") is one chemical mention, linked to the drug."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon


@pytest.fixture(scope="module")
def lexicon_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def chemical(cid: str, name: str, tree: str) -> Concept:
        return Concept(cid, "MESH", name, tree_numbers=(tree,), semantic_types=("CHEM",), vocab_version="test")

    vocab = Vocabulary()
    vocab.add([chemical("MESH:D016642", "Bupropion", "D02.065.063.121"),
               chemical("MESH:D005279", "Fenoprofen", "D02.455.426.559.389.657.410.305"),
               chemical("MESH:D002118", "Calcium", "D01.268.556.134"),
               chemical("MESH:D004095", "Dihydropyridines", "D03.383.725.203")])
    path = tmp_path_factory.mktemp("salts") / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    return path


def mentions(lexicon_path: Path, text: str, rule: bool = True) -> list[tuple[str, str]]:
    without = frozenset({"ner", "relations"} if rule else {"ner", "relations", "salts"})  # the dictionary alone
    return [(m.text, m.link.concept_id) for m in Extractor(lexicon_path, without=without).mentions(text)]


def test_a_salt_joins_the_drugs_name(lexicon_path: Path) -> None:
    text = "She took bupropion HCl for a year."
    assert mentions(lexicon_path, text) == [("bupropion HCl", "MESH:D016642")]
    assert mentions(lexicon_path, text, rule=False) == [("bupropion", "MESH:D016642")]


def test_a_cation_salt_replaces_its_own_mention(lexicon_path: Path) -> None:
    text = "Fenoprofen calcium was stopped."
    assert mentions(lexicon_path, text) == [("Fenoprofen calcium", "MESH:D005279")]
    assert mentions(lexicon_path, text, rule=False) == [("Fenoprofen", "MESH:D005279"), ("calcium", "MESH:D002118")]


def test_a_cation_that_names_something_else_is_no_salt(lexicon_path: Path) -> None:
    text = "Dihydropyridines calcium antagonists lower the blood pressure."
    assert mentions(lexicon_path, text) == [("Dihydropyridines", "MESH:D004095"), ("calcium", "MESH:D002118")]
