"""Training examples for the NER model: gold spans, missing labels for what a corpus did not annotate."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.errors import InputError, MedKGError
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.ner.model import load_ner
from medkg.pipelines.ner.training import blank_ner, examples_from_pubtator, train_ner

# written for the tests: a title and an abstract with one chemical and one disease annotated
CDR_LIKE = (
    "1|t|Cisplatin nephrotoxicity.\n"
    "1|a|Cisplatin caused acute renal failure in two patients given G6PD.\n"
    "1\t0\t9\tCisplatin\tChemical\tD002945\n"
    "1\t10\t24\tnephrotoxicity\tDisease\tD007674\n"
    "1\t26\t35\tCisplatin\tChemical\tD002945\n"
    "1\t43\t62\tacute renal failure\tDisease\tD058186\n\n"
)


@pytest.fixture(scope="module")
def chem_lexicon() -> Lexicon:
    v = Vocabulary()
    v.add([Concept("MESH:D005954", "MESH", "Glucosephosphate Dehydrogenase",
                   synonyms=("glucose-6-phosphate dehydrogenase",), tree_numbers=("D08.811.682.047.436",),
                   semantic_types=("CHEM",), vocab_version="test"),
           Concept("MESH:D002945", "MESH", "Cisplatin", tree_numbers=("D01.210.375",), semantic_types=("CHEM",),
                   vocab_version="test")])
    return Lexicon.from_vocabulary(v, approximate=False)


def tags_of(example) -> list[tuple[str, str]]:
    ref = example.reference
    tags = ["O"] * len(ref)
    missing = {t.i for t in ref if t.ent_iob_ == ""}
    for i in missing:
        tags[i] = "-"
    for ent in ref.ents:
        for i in range(ent.start, ent.end):
            tags[i] = ent.label_
    return [(t.text, tag) for t, tag in zip(ref, tags)]


def test_gold_spans_become_entities(tmp_path: Path, chem_lexicon: Lexicon) -> None:
    path = tmp_path / "cdr.pubtator"
    path.write_text(CDR_LIKE, encoding="utf-8")
    [(doc_id, ex)] = examples_from_pubtator(path, blank_ner(), chem_lexicon)
    assert doc_id == "PMID:1"
    assert [(e.text, e.label_) for e in ex.reference.ents] == [
        ("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease"), ("Cisplatin", "Chemical"),
        ("acute renal failure", "Disease")]
    assert all(tag == "O" for text, tag in tags_of(ex) if text in ("caused", "patients"))


def test_chemicals_are_missing_not_outside_in_a_disease_only_corpus(fixtures: Path, chem_lexicon: Lexicon) -> None:
    examples = dict(examples_from_pubtator(fixtures / "ncbi_disease_2docs.pubtator", blank_ner(), chem_lexicon))
    tags = tags_of(examples["PMID:8808605"])
    title = tags[: [t for t, _ in tags].index(".") + 1]
    # the title's enzyme is a chemical the corpus did not annotate: no gradient either way
    words = [text for text, _ in title]
    enzyme = title[words.index("glucose"): words.index("dehydrogenase") + 1]
    assert len(enzyme) > 2 and {tag for _, tag in enzyme} == {"-"}
    assert ("deficiency", "Disease") in title and ("selection", "O") in title
    # inside a gold disease span the same words are the disease
    ents = [e.text for e in examples["PMID:8808605"].reference.ents]
    assert "glucose-6-phosphate dehydrogenase (G6PD) deficiency" in ents


def test_a_corpus_that_annotates_chemicals_keeps_them_outside(tmp_path: Path, chem_lexicon: Lexicon) -> None:
    path = tmp_path / "cdr.pubtator"
    path.write_text(CDR_LIKE.replace("two patients given G6PD", "glucose-6-phosphate dehydrogenase"),
                    encoding="utf-8")
    [(_, ex)] = examples_from_pubtator(path, blank_ner(), chem_lexicon)
    assert "-" not in {tag for _, tag in tags_of(ex)}


def test_training_needs_documents_on_both_sides(fixtures: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="held-out"):
        train_ner([fixtures / "ncbi_disease_2docs.pubtator"], tmp_path / "m", heldout_fraction=0.0, max_epochs=1)
    with pytest.raises(InputError, match="no training files"):
        train_ner([], tmp_path / "m")


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MedKGError, match="no trained NER model"):
        load_ner(tmp_path)


def test_lexicon_features_carry_the_group_and_mesh_branches(chem_lexicon: Lexicon, tmp_path: Path) -> None:
    path = tmp_path / "cdr.pubtator"
    path.write_text(CDR_LIKE.replace("two patients given G6PD", "glucose-6-phosphate dehydrogenase"),
                    encoding="utf-8")
    [(_, ex)] = examples_from_pubtator(path, blank_ner(lexicon_features=True), chem_lexicon, lexicon_features=True)
    tags = {t.text: t.tag_ for t in ex.predicted}
    assert tags["Cisplatin"] == "B-CHEM:D01"
    # an enzyme: a chemical by group, but D08 tells the model it is one annotators rarely mark
    assert [t.tag_ for t in ex.predicted if t.idx >= ex.predicted.text.index("glucose")][:3] == [
        "B-CHEM:D08", "I-CHEM:D08", "I-CHEM:D08"]


def test_a_model_trained_with_older_lexicon_tags_is_refused(tmp_path: Path) -> None:
    blank_ner(lexicon_features=True).to_disk(tmp_path)
    (tmp_path / "training.json").write_text('{"lexicon_features": true, "format": 1}', encoding="utf-8")
    with pytest.raises(MedKGError, match="lexicon tags of format 1.*re-run 'medkg train ner'"):
        load_ner(tmp_path)
    (tmp_path / "training.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(MedKGError, match="training.json: not readable"):
        load_ner(tmp_path)
