"""Names learned from coded reports: proposing, judging, keeping, the names file, and the lexicon's use of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.errors import ModelNotFoundError, VocabularyError
from medkg.kg.records import Link, Mention
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.report_names import (
    REPORT_NAMES,
    CodedReport,
    LearnConfig,
    ReportName,
    ReportNames,
    adjective_candidates,
    judge,
    judge_pairings,
    keep,
    modifier_words,
    pairings,
    propose,
)

BONE, EFFUSION, CARDIOMEGALY = "MESH:D001851", "MESH:D010996", "MESH:D006332"
ATHERO = "MESH:D050197"


def _report(uid: int, *gold: str) -> CodedReport:
    return CodedReport(f"report:iu:{uid}", "text", frozenset(gold))


def _mention(text: str, cid: str, negated: bool = False, uncertain: bool = False) -> Mention:
    return Mention(0, len(text), text, Link(cid, text, 1.0), "DISO", negated=negated, uncertain=uncertain)


def test_propose_pairs_phrases_with_the_findings_medkg_missed() -> None:
    reports = [_report(1, BONE, EFFUSION), _report(2, BONE), _report(3, BONE, EFFUSION), _report(4, EFFUSION),
               _report(5, EFFUSION)]
    phrases = [{"osteopenia", "pleural fluid", "heart"}, {"osteopenia", "heart"}, {"osteopenia", "pleural fluid"},
               {"pleural fluid", "borderline"}, {"pleural fluid", "borderline"}]
    found = [{EFFUSION}, set(), set(), set(), set()]  # the first report's effusion was found without a learned name
    got = propose(reports, phrases, found, known={"heart"}, min_reports=2, modifiers={"borderline"})
    # "osteopenia" stands beside the missed Bone Diseases, Metabolic three times; "pleural fluid" beside the missed
    # effusion three times (and twice beside the missed bone disease: the commoner pairing wins); the lexicon's
    # "heart" keeps its meaning and a modifier names nothing
    assert got == {"osteopenia": BONE, "pleural fluid": EFFUSION}
    assert propose(reports, phrases, found, known=set(), min_reports=4) == {}  # none is seen beside one 4 times
    assert propose(reports, phrases, found, known=set(), min_reports=2)["borderline"] == EFFUSION
    # a pairing ruled out leaves the phrase to its next finding
    got = propose(reports, phrases, found, known={"heart"}, min_reports=2, modifiers={"borderline"},
                  allowed=lambda key, cid: (key, cid) != ("pleural fluid", EFFUSION))
    assert got == {"osteopenia": BONE, "pleural fluid": BONE}


def test_judge_counts_reports_where_a_positive_mention_is_coded() -> None:
    reports = [_report(1, BONE), _report(2), _report(3, BONE)]
    mentions = [[_mention("osteopenia", BONE), _mention("Osteopenia", BONE)],  # twice in one report: counted once
                [_mention("osteopenia", BONE), _mention("fluid", EFFUSION, negated=True)],
                [_mention("osteopenia", BONE, uncertain=True), _mention("fluid", EFFUSION)]]
    candidates = {"osteopenia": BONE, "fluid": EFFUSION}
    assert judge(reports, mentions, candidates) == {"osteopenia": (1, 1), "fluid": (0, 1)}
    # credited only where the concept was not found without the names
    assert judge(reports, mentions, candidates, found=[{BONE}, set(), set()]) == {"osteopenia": (0, 1),
                                                                                  "fluid": (0, 1)}


def test_pairings_keep_every_finding_a_phrase_stood_beside() -> None:
    reports = [_report(1, BONE, EFFUSION), _report(2, BONE, EFFUSION), _report(3, EFFUSION), _report(4, BONE)]
    phrases = [{"effusion"}, {"effusion"}, {"effusion"}, {"effusion", "osteopenia"}]
    got = pairings(reports, phrases, [set()] * 4, known=set(), min_reports=2)
    # beside the missed effusion 3 times and the missed bone disease 3 times (a tie goes by concept id); the
    # once-seen "osteopenia" is noise
    assert got == {"effusion": [BONE, EFFUSION]}
    assert propose(reports, phrases, [set()] * 4, known=set(), min_reports=2) == {"effusion": BONE}


def test_a_phrase_is_judged_for_each_finding_and_kept_for_the_one_it_names() -> None:
    reports = [_report(1, EFFUSION), _report(2, EFFUSION, BONE), _report(3, EFFUSION), _report(4)]
    # read once, with the first concept; "No effusion" (negated) counts for none
    mentions = [[_mention("effusion", BONE)], [_mention("effusions", BONE)], [_mention("effusion", BONE)],
                [_mention("effusion", BONE, negated=True)]]
    counts = judge_pairings(reports, mentions, {"effusion": [BONE, EFFUSION]})
    assert counts == {("effusion", BONE): (1, 2), ("effusion", EFFUSION): (3, 0)}
    names = [ReportName(key, cid, *c) for (key, cid), c in counts.items()]
    assert keep(names, LearnConfig(min_support=1, min_precision=0.3)) == [ReportName("effusion", EFFUSION, 3, 0)]
    assert keep(names, LearnConfig(min_support=4, min_precision=0.3)) == []


def test_a_derived_adjective_is_a_candidate_where_its_finding_was_missed() -> None:
    reports = [CodedReport("report:iu:1", "Aortic atherosclerotic vascular calcification.", frozenset({ATHERO})),
               CodedReport("report:iu:2", "Atherosclerotic disease.", frozenset({ATHERO})),
               CodedReport("report:iu:3", "Atherosclerotic aorta. Calcified granuloma.", frozenset({ATHERO}))]
    adjectives = {"atherosclerotic": ATHERO, "calcified": "MESH:D002114"}
    found = [set(), set(), {ATHERO}]  # the third report's finding was found without it
    assert adjective_candidates(reports, found, adjectives, min_reports=2) == {"atherosclerotic": ATHERO}
    assert adjective_candidates(reports, found, adjectives, min_reports=3) == {}


def test_keep_applies_both_thresholds() -> None:
    names = [ReportName("osteopenia", BONE, 4, 0), ReportName("fluid", EFFUSION, 3, 2), ReportName("rare", BONE, 1, 0)]
    assert [n.key for n in keep(names, LearnConfig(min_support=2, min_precision=0.7))] == ["osteopenia"]
    assert [n.key for n in keep(names, LearnConfig(min_support=1, min_precision=0.6))] == [
        "osteopenia", "fluid", "rare"]


def test_modifier_words_are_never_a_terms_head() -> None:
    words = modifier_words(["Borderline Personality Disorder", "Pleural Effusion", "Effusion, Pericardial",
                            "Body Fluids", "Pleural Fluid"])
    assert {"borderline", "personality", "pleural", "pericardial", "body"} == words
    assert not {"effusion", "fluid", "disorder"} & words


def test_names_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    names = ReportNames([ReportName("osteopenia", BONE, 4, 0)], {"part": "tune"})
    names.save(path)
    back = ReportNames.load(path)
    assert back.mapping() == {"osteopenia": BONE} and back.names[0].precision == 1.0
    assert back.trained_on == {"part": "tune"}
    with pytest.raises(ModelNotFoundError, match="missing.json"):
        ReportNames.load(tmp_path / "missing.json")
    path.write_text(json.dumps({"format": 1, "names": [{"key": "x"}]}))
    with pytest.raises(VocabularyError, match="names.json: not a report names file"):
        ReportNames.load(path)
    path.write_text("{not json")
    with pytest.raises(VocabularyError, match="names.json"):
        ReportNames.load(path)


def test_the_bundled_names_read() -> None:
    bundled = ReportNames.load(REPORT_NAMES)
    assert bundled.names and bundled.trained_on["part"] == "tune"  # the check half took no part
    assert all(n.right >= bundled.trained_on["min_support"] and n.precision >= bundled.trained_on["min_precision"]
               for n in bundled.names)


def _vocabulary() -> Vocabulary:
    v = Vocabulary()
    v.add([Concept(BONE, "MESH", "Bone Diseases, Metabolic", tree_numbers=("C05.116.198",),
                   semantic_types=("DISO",), vocab_version="test"),
           Concept(EFFUSION, "MESH", "Pleural Effusion", tree_numbers=("C08.528.652",), semantic_types=("DISO",),
                   vocab_version="test"),
           Concept("MESH:D005440", "MESH", "Body Fluids", synonyms=("Fluid",), tree_numbers=("A12.207.152",),
                   semantic_types=("ANAT",), vocab_version="test")])
    return v


def test_the_lexicon_adds_names_to_the_clinical_terms_only() -> None:
    names = {"osteopenia": BONE, "fluid": EFFUSION, "unknown thing": "MESH:D999999"}
    lex = Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=names)
    assert lex.clinical is not None
    assert lex.clinical.entries["osteopenia"] == ((BONE, False),)
    assert lex.lookup("osteopenia") is None  # literature reads as before
    # the vocabulary's own "fluid" keeps its meaning; a concept the vocabulary lacks is left out
    assert "fluid" not in lex.clinical.entries and "unknown thing" not in lex.clinical.entries
    assert "osteopenia" not in Lexicon.from_vocabulary(_vocabulary(), approximate=False,
                                                       report_names=None).clinical.entries


def test_a_learned_adjective_names_its_finding_before_a_disease_noun() -> None:
    vocab = _vocabulary()
    vocab.add([Concept(ATHERO, "MESH", "Atherosclerosis", tree_numbers=("C14.907.137.126.307",),
                       semantic_types=("DISO",), vocab_version="test")])
    plain = Lexicon.from_vocabulary(vocab, approximate=False, report_names=None)
    assert "atherosclerotic" in plain.clinical_adjectives  # dropped before a disease noun
    learned = Lexicon.from_vocabulary(vocab, approximate=False, report_names={"atherosclerotic": ATHERO})
    assert "atherosclerotic" not in learned.clinical_adjectives
    assert learned.clinical is not None and learned.clinical.entries["atherosclerotic"] == ((ATHERO, False),)


def test_a_names_file_is_part_of_the_lexicon_version(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    ReportNames([ReportName("osteopenia", BONE, 4, 0)]).save(path)
    first = Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=path)
    ReportNames([ReportName("osteopenia", BONE, 5, 0)]).save(path)
    second = Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=path)
    assert "report names" in first.version and first.version != second.version
