"""Match priors: counted on PubTator gold, saved beside the NER model, and used by the mention finder."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.errors import MedKGError
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.mentions import MentionFinder
from medkg.pipelines.linking.priors import MatchPriors, count_priors, load_priors, signature
from medkg.pipelines.text.tokenizer import blank_english

TEXT = "Anemia and beta-catenin. Anemia again."


@pytest.fixture(scope="module")
def lexicon(tiny_lexicon_path: Path) -> Lexicon:
    return Lexicon.load(tiny_lexicon_path)


def _pubtator(path: Path, spans: list[tuple[int, int, str, str]]) -> Path:
    title, abstract = TEXT.split(". ", 1)
    lines = [f"1|t|{title}.", f"1|a|{abstract}"]
    lines += [f"1\t{s}\t{e}\t{TEXT[s:e]}\t{t}\t{i}" for s, e, t, i in spans]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def test_signatures_name_group_case_and_mesh_branches(lexicon: Lexicon) -> None:
    assert signature(lexicon, "beta-catenin", lexicon.lookup("beta-catenin")[0]) == "CHEM|lower|D12"
    assert signature(lexicon, "AIDS", lexicon.lookup("AIDS")[0]) == "DISO|upper|C20"


def test_counts_are_gold_mentions_among_dictionary_matches(lexicon: Lexicon, tmp_path: Path) -> None:
    # the first "Anemia" is annotated, the second not; beta-catenin is a match no annotator marked
    gold = _pubtator(tmp_path / "a.pubtator", [(0, 6, "Disease", "D000740"), (11, 23, "Chemical", "-1")])
    assert TEXT[11:23] == "beta-catenin"
    priors = count_priors([gold], lexicon)
    assert priors.counts["DISO|lower|C15"] == (1, 2)
    assert priors.counts["CHEM|lower|D12"] == (1, 1)
    # a file that never annotates chemicals does not count them either way
    diseases_only = count_priors([_pubtator(tmp_path / "b.pubtator", [(0, 6, "Disease", "D000740")])], lexicon)
    assert "CHEM|lower|D12" not in diseases_only.counts and diseases_only.counts["DISO|lower|C15"] == (1, 2)


def test_probability_is_smoothed_and_zero_without_a_term(lexicon: Lexicon) -> None:
    priors = MatchPriors({"DISO|lower|C15": (8, 8)})
    assert priors.of_text(lexicon, "anemia") == pytest.approx(0.9)
    assert priors.of_text(lexicon, "pneumonia") == pytest.approx(0.5)  # a signature never counted
    assert priors.of_text(lexicon, "no such term") == 0.0


def test_saved_priors_load_back_and_a_broken_file_is_named(tmp_path: Path) -> None:
    priors = MatchPriors({"CHEM|lower|D02+D03": (390, 414), "DISO|upper|C20": (0, 3)})
    priors.save(tmp_path / "match_priors.json")
    assert load_priors(tmp_path) == priors
    assert load_priors(tmp_path / "elsewhere") is None  # a model trained before priors existed
    (tmp_path / "match_priors.json").write_text('{"format": 1, "counts": {"x": [1]}}', encoding="utf-8")
    with pytest.raises(MedKGError, match="match_priors.json: not a readable match-priors file"):
        load_priors(tmp_path)


def _ner_doc(text: str, ents: list[tuple[str, str]]) -> object:
    """A document as the NER model would leave it: the given spans labelled, the rest outside."""
    doc = blank_english()(text)
    spans = []
    for phrase, label in ents:
        start = text.index(phrase)
        spans.append(doc.char_span(start, start + len(phrase), label=label))
    doc.set_ents(spans, default="outside")
    return doc


def test_priors_decide_which_matches_the_model_missed_are_added(lexicon: Lexicon) -> None:
    text = "Pneumonia with beta-catenin staining."
    rare = MentionFinder(lexicon, priors=MatchPriors({"CHEM|lower|D12": (1, 20)}))
    common = MentionFinder(lexicon, priors=MatchPriors({"CHEM|lower|D12": (19, 20)}))
    assert {e.text for e in rare(_ner_doc(text, [("Pneumonia", "Disease")])).ents} == {"Pneumonia"}
    assert {e.text for e in common(_ner_doc(text, [("Pneumonia", "Disease")])).ents} == {"Pneumonia", "beta-catenin"}
    with pytest.raises(MedKGError, match="needs a NER model trained with match priors"):
        MentionFinder(lexicon, dictionary_fills_ner_groups="priors")


def test_a_longer_match_replaces_the_model_span_only_when_likely_a_mention(lexicon: Lexicon) -> None:
    text = "Patients with non-insulin-dependent diabetes mellitus."
    doc = lambda: _ner_doc(text, [("diabetes mellitus", "Disease")])  # noqa: E731
    likely = MentionFinder(lexicon, priors=MatchPriors({"DISO|lower|C18": (30, 31)}))
    unlikely = MentionFinder(lexicon, priors=MatchPriors({"DISO|lower|C18": (1, 31)}))
    assert [(e.text, e._.link.concept_id) for e in likely(doc()).ents] == [
        ("non-insulin-dependent diabetes mellitus", "MESH:D003924")]
    assert [(e.text, e._.link.concept_id) for e in unlikely(doc()).ents] == [("diabetes mellitus", "MESH:D003920")]
