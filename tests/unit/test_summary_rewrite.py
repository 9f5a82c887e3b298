"""The checks an LLM rewrite of a summary must pass, and how stored rewrites are put back on a rebuilt view."""

from __future__ import annotations

from pathlib import Path

from medkg.kg.view.summaries import apply_rewrites, load_rewrites, text_key
from medkg.queries.summary_rewrite import acceptable, first_sentence

TOPIC = "Topic: Appendicitis; C-Reactive Protein; Diabetes Mellitus, Type 2 (12 passages from 4 documents)"


def test_a_subject_label_passes() -> None:
    assert acceptable("Diagnosis of acute appendicitis with C-reactive protein and leukocyte counts.", TOPIC)
    assert acceptable("Type 2 diabetes and APC2 or HbA1c testing in appendicitis.", TOPIC)  # names keep digits


def test_figures_loops_and_cut_off_sentences_are_rejected() -> None:
    assert not acceptable("CRP above 40 mg/L predicted perforation in appendicitis.", TOPIC)  # a result
    assert not acceptable("Statins cut stroke risk by 1.41% in these studies.", TOPIC)
    assert not acceptable("Appendicitis in 12 passages from 4 documents.", TOPIC)  # the counts are not names
    assert not acceptable("Blood; Blood; Blood; Blood; Blood; Blood; Blood; Oxygen.", TOPIC)
    assert not acceptable("Diagnosis of acute appendicitis with C-reactive protein and", TOPIC)
    assert not acceptable("Appendicitis.", TOPIC)


def test_the_label_is_the_first_sentence() -> None:
    cut = ("The HFE protein regulates iron uptake in HeLa cells. This protein is expressed in the HeLa cell line, "
           "which is a cell line used in genetic engineering. The gene encoding H")
    assert first_sentence(cut) == "The HFE protein regulates iron uptake in HeLa cells."
    assert acceptable(first_sentence(cut), TOPIC) and not acceptable(cut, TOPIC)
    # a full stop inside the sentence is not its end: abbreviations, initials, decimals
    one = "Iron overload (e.g. HFE mutations) and hemochromatosis in J. Smith's cohorts of patients."
    assert first_sentence(one) == one
    versus = "Appendicitis diagnosis vs. CT imaging in adults."
    assert first_sentence(versus) == versus


def test_rewrites_replace_only_unchanged_topics_and_themes(tmp_path: Path) -> None:
    changed = TOPIC.replace("12 passages", "13 passages")  # a member was added since the rewrite
    rewrites = {text_key(TOPIC): {"extractive": TOPIC, "text": "Appendicitis diagnosis.", "model": "m"}}
    rows = [("S1:0", 1, ["t"], TOPIC, 12), ("S1:1", 1, ["t"], changed, 13), ("S0:d#c0", 0, ["t"], TOPIC, 1)]
    assert apply_rewrites(rows, rewrites) == 1
    assert [r[3] for r in rows] == ["Appendicitis diagnosis.", changed, TOPIC]  # level 0 is never rewritten
    assert load_rewrites(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert load_rewrites(tmp_path / "bad.json") == {}
