"""Coordinated names that share one head ("breast or ovarian cancer") become one mention."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon


def _concept(cid: str, name: str, tree: str, group: str, *synonyms: str) -> Concept:
    return Concept(cid, "MESH", name, synonyms=synonyms, tree_numbers=(tree,), semantic_types=(group,),
                   vocab_version="test")


@pytest.fixture(scope="module")
def lexicon_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    vocab = Vocabulary()
    vocab.add([
        _concept("MESH:D001943", "Breast Neoplasms", "C04.588.180", "DISO", "Breast Cancer"),
        _concept("MESH:D010051", "Ovarian Neoplasms", "C04.588.322.455", "DISO", "Ovarian Cancer"),
        _concept("MESH:D001932", "Brain Neoplasms", "C04.588.614.250.195", "DISO", "Brain Cancer"),
        _concept("MESH:D009325", "Nausea", "C23.888.821.712", "DISO"),
        _concept("MESH:D014839", "Vomiting", "C23.888.821.1000", "DISO"),
        # BC5CDR's training split names it "nausea vomiting", which makes "Nausea" look like a modifier of
        # "vomiting"; but nausea is a disease of its own
        _concept("MESH:D020250", "Postoperative Nausea and Vomiting", "C23.550.767.862", "DISO", "Nausea Vomiting"),
        _concept("MESH:D064420", "Drug-Related Side Effects and Adverse Reactions", "C25.100", "DISO", "Toxicity"),
        _concept("MESH:D003042", "Cocaine", "D03.132.436.178", "CHEM"),
        _concept("MESH:D019970", "Cocaine-Related Disorders", "F03.900.300", "DISO", "Cocaine Abuse"),
        _concept("MESH:D019969", "Amphetamine-Related Disorders", "F03.900.100", "DISO", "Amphetamine Abuse"),
    ])
    path = tmp_path_factory.mktemp("composites") / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    return path


def mentions(lexicon_path: Path, text: str, rule: bool = True) -> list[tuple[str, str]]:
    # the dictionary alone finds the last conjunct, so the rule is what decides the span
    without = frozenset({"ner", "relations"} if rule else {"ner", "relations", "composites"})
    return [(m.text, m.link.concept_id) for m in Extractor(lexicon_path, without=without).mentions(text)]


@pytest.mark.parametrize("text, composite", [
    ("Carriers have a high risk of breast or ovarian cancer.", "breast or ovarian cancer"),
    ("Carriers have a high risk of breast and/or ovarian cancer.", "breast and/or ovarian cancer"),
    ("Carriers have a high risk of breast/ovarian cancer.", "breast/ovarian cancer"),
    ("Carriers have a high risk of brain, breast, and ovarian cancer.", "brain, breast, and ovarian cancer"),
])
def test_conjuncts_that_modify_the_head_join_the_mention(lexicon_path: Path, text: str, composite: str) -> None:
    assert mentions(lexicon_path, text) == [(composite, "MESH:D010051")]  # the link of the mention it grew from
    assert mentions(lexicon_path, text, rule=False) == [("ovarian cancer", "MESH:D010051")]


@pytest.mark.parametrize("text, expected", [
    # each conjunct names a disease of its own
    ("Nausea and vomiting followed the first dose.", [("Nausea", "MESH:D009325"), ("vomiting", "MESH:D014839")]),
    # "efficacy toxicity" is no term: efficacy does not modify the head
    ("The efficacy and toxicity of the drug were compared.", [("toxicity", "MESH:D064420")]),
    # a chemical among the conjuncts keeps its own mention
    ("He had a history of cocaine or amphetamine abuse.",
     [("cocaine", "MESH:D003042"), ("amphetamine abuse", "MESH:D019969")]),
    # one modifier in the list that is not one: the list is not a coordination of the head
    ("Carriers have a high risk of brain, liver, and ovarian cancer.", [("ovarian cancer", "MESH:D010051")]),
])
def test_other_coordinations_stay_apart(lexicon_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    assert mentions(lexicon_path, text) == expected


def test_a_disease_short_form_takes_the_syndrome_after_it(tmp_path: Path) -> None:
    vocab = Vocabulary()
    vocab.add([_concept("MESH:C563273", "Hyperparathyroidism 2", "C19.642.355.480", "DISO", "HPT-JT"),
               _concept("MESH:D003042", "Cocaine", "D03.132.436.178", "CHEM", "COC")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    text = "Carriers of HPT-JT syndrome and COC disease users were seen; HPT-JT recurs."
    assert mentions(path, text) == [("HPT-JT syndrome", "MESH:C563273"), ("COC", "MESH:D003042"),
                                    ("HPT-JT", "MESH:C563273")]  # a chemical's letters take no "disease"
    assert mentions(path, text, rule=False)[0] == ("HPT-JT", "MESH:C563273")
