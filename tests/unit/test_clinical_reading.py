"""Report-aware reading without a model: sections, clinical sentences, the clinical lexicon, report scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.tokens import Doc

from medkg.evaluation import reports
from medkg.kg.records import Link, Mention
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines import components as _components  # noqa: F401  (registers medkg_clinical_sentences)
from medkg.pipelines.linking.clinical import clinical_terms, derived_forms, general_heads, predicative_pattern
from medkg.pipelines.reading.reports import read_csv_reports
from medkg.pipelines.text.sections import report_sections
from medkg.pipelines.text.tokenizer import blank_english


def test_sections_in_all_three_layouts() -> None:
    text = "INDICATION: cough\nFINDINGS: clear lungs.\nImpression: normal chest."
    assert [(s.label, text[s.start:s.end].split(":")[0]) for s in report_sections(text)] == [
        ("INDICATION", "INDICATION"), ("FINDINGS", "FINDINGS"), ("IMPRESSION", "Impression")]
    joined = "SUBJECTIVE:,  She has asthma.,MEDICATIONS: , Allegra.,ALLERGIES: , None."
    assert [s.label for s in report_sections(joined)] == ["SUBJECTIVE", "MEDICATIONS", "ALLERGIES"]
    # an upper-case word inside a sentence is no heading unless it is a known one after a stop or comma
    assert [s.label for s in report_sections("Seen for COPD: stable.")] == []


def sentences(text: str, clinical: bool = True) -> list[str]:
    nlp = blank_english()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("medkg_clinical_sentences")
    doc: Doc = nlp.make_doc(text)
    doc._.clinical = clinical
    return [s.text for s in nlp(doc).sents]


def test_clinical_sentences() -> None:
    assert sentences("INDICATION: cough FINDINGS: No effusion or pneumothorax") == [
        "INDICATION: cough", "FINDINGS: No effusion or pneumothorax"]
    assert sentences("Seen by Dr. smith for cough.") == ["Seen by Dr. smith for cough."]
    assert sentences("IMPRESSION: 1. Emphysema 2. Scarring in the apex") == [
        "IMPRESSION:", "1. Emphysema", "2. Scarring in the apex"]
    # a typed run of stops ends a sentence before a capitalised word, so a "no" does not reach past it
    assert sentences("No pneumothorax or effusion.. Left basilar atelectasis... Old scar") == [
        "No pneumothorax or effusion..", "Left basilar atelectasis...", "Old scar"]
    assert sentences("Mild scarring... likely old.") == ["Mild scarring... likely old."]
    # literature keeps the sentencizer's reading
    assert len(sentences("INDICATION: cough FINDINGS: no effusion", clinical=False)) == 1


@pytest.mark.parametrize("noun, forms", [
    ("scar", {"scarred", "scarring"}), ("atherosclerosis", {"atherosclerotic"}),
    ("calcification", {"calcified", "calcific"}), ("osteopenia", {"osteopenic"}),
    ("emphysema", {"emphysematous"}), ("fracture", {"fractured", "fracturing"}), ("atelectasis", {"atelectatic"}),
])
def test_derived_forms(noun: str, forms: set[str]) -> None:
    assert forms <= set(derived_forms(noun))


def _disease(cid: str, name: str, tree: str, *synonyms: str) -> Concept:
    return Concept(f"MESH:{cid}", "MESH", name, synonyms=synonyms, tree_numbers=(tree,), semantic_types=("DISO",),
                   vocab_version="test")


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    v = Vocabulary()
    v.add([
        _disease("D050723", "Fractures, Bone", "C26.404", "Bone Fracture"),
        _disease("D012253", "Rib Fractures", "C26.404.593", "Rib Fracture"),
        _disease("D006620", "Hip Fractures", "C26.404.061.425", "Hip Fracture"),
        _disease("D012886", "Skull Fractures", "C26.404.750", "Skull Fracture"),
        _disease("D010996", "Pleural Effusion", "C08.528.652"),
        _disease("D010490", "Pericardial Effusion", "C14.280.720"),
        _disease("D000001", "Subdural Effusion", "C10.228.140.300"),
        _disease("D002921", "Cicatrix", "C23.550.355.274", "Scar"),
        _disease("D050197", "Atherosclerosis", "C14.907.137.126.307"),
        _disease("D006332", "Cardiomegaly", "C14.280.195", "Enlarged Heart", "Heart, Enlarged"),
    ])
    return v


def test_head_generalisation_names_the_subsuming_concept_only(vocab: Vocabulary) -> None:
    heads = general_heads(vocab, known=set())
    assert heads["fracture"] == "MESH:D050723"
    assert "effusion" not in heads  # pleural, pericardial, subdural: nothing subsumes them


def test_clinical_terms_leave_the_vocabulary_alone(vocab: Vocabulary) -> None:
    terms, adjectives = clinical_terms(vocab, known={"scar", "atherosclerosis"})
    assert terms["scarring"] == "MESH:D002921" and "scarring" in adjectives
    assert terms["atherosclerotic"] == "MESH:D050197"
    assert terms["fractured"] == "MESH:D050723"
    assert "scar" not in terms  # the vocabulary's own term keeps its meaning


def test_predicative_variant() -> None:
    pattern = predicative_pattern({("heart", "enlarged"): "MESH:D006332"})
    assert pattern is not None
    m = pattern.search("The heart is mildly enlarged. Lungs clear.")
    assert m is not None and m.group(0) == "heart is mildly enlarged"
    assert pattern.search("An enlarged liver.") is None


IU_CSV = """uid,MeSH,Problems,image,indication,comparison,findings,impression
4,"Cardiomegaly/mild;Opacity/lung",x,x,Cough.,None,The heart is enlarged.,Cardiomegaly.
8,normal,normal,x,Chest pain.,None available,No effusion.,Normal chest.
12,Cicatrix/lung/apex;Pleural Effusion,x,x,,None,Apical scar.,
"""


def test_section_columns_become_the_report(tmp_path: Path) -> None:
    path = tmp_path / "iu.csv"
    path.write_text(IU_CSV)
    docs = list(read_csv_reports(path))
    assert [d.id for d in docs] == ["report:iu:4", "report:iu:8", "report:iu:12"]
    first = docs[0]
    assert first.text.startswith("INDICATION: Cough.\n\nFINDINGS: The heart is enlarged.")
    assert "COMPARISON" not in first.text  # "None" is the export's placeholder
    assert [first.text[s.start:s.end] for s in first.sections][-1] == "IMPRESSION: Cardiomegaly."


def _mention(cid: str, negated: bool = False, uncertain: bool = False) -> Mention:
    return Mention(start=0, end=1, text="x", link=Link(cid, 1.0, "test"), semantic_group="DISO", sentence=0,
                   negated=negated, uncertain=uncertain)


def test_report_scores(tmp_path: Path, vocab: Vocabulary) -> None:
    path = tmp_path / "iu.csv"
    path.write_text(IU_CSV)
    predicted = {  # by report text: what a reader would return
        "heart is enlarged": [_mention("MESH:D006332"), _mention("MESH:D050197")],  # Atherosclerosis: never coded
        "No effusion": [_mention("MESH:D010996", negated=True)],
        "Apical scar": [_mention("MESH:D002921", uncertain=True)],
    }

    def mentions_many(texts: list[str]) -> list[list[Mention]]:
        return [next(v for k, v in predicted.items() if k in t) for t in texts]

    out = reports.evaluate(path, vocab, mentions_many).to_dict()
    # gold: Cardiomegaly (4); Cicatrix and Pleural Effusion (12); Opacity is no disease descriptor
    assert (out["tp"], out["fp"], out["fn"]) == (1, 0, 2)
    assert out["normal_fp"] == 0.0 and out["normal_reports"] == 1
    predicted["No effusion"] = [_mention("MESH:D010996")]
    out = reports.evaluate(path, vocab, mentions_many).to_dict()
    assert out["normal_fp"] == 1.0 and out["fp"] == 1
    assert reports.evaluate(path, vocab, mentions_many, part="check").reports == 2  # uids 4 and 12: uid // 4 odd
