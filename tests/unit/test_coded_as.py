"""Coded as: the broader descriptors a coded collection files concepts under (learning, file, lexicon)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.errors import VocabularyError
from medkg.kg.records import Entity, Link, Mention
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.linking.coded_as import judge_coded_as, keep_coded_as, learn_coded_as, propose_coded_as
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.report_names import CodedAs, CodedReport, LearnConfig, ReportName, ReportNames
from medkg.pipelines.relations.cooccurrence import cooccurrence_relations

FRACTURE, RIB, HIP = "MESH:D050723", "MESH:D012253", "MESH:D006620"
CALCINOSIS, VASCULAR, EFFUSION = "MESH:D002114", "MESH:D061205", "MESH:D010996"
PARENTS = {RIB: {FRACTURE}, HIP: {FRACTURE}, VASCULAR: {CALCINOSIS}}


def ancestors(cid: str) -> set[str]:
    return PARENTS.get(cid, set())


def _report(uid: int, *gold: str) -> CodedReport:
    return CodedReport(f"report:iu:{uid}", "text", frozenset(gold))


def test_propose_pairs_a_stated_concept_with_its_missed_coded_ancestor() -> None:
    reports = [_report(1, FRACTURE), _report(2, FRACTURE, EFFUSION), _report(3, FRACTURE), _report(4, EFFUSION)]
    found = [{RIB}, {RIB, VASCULAR}, {RIB, FRACTURE}, {RIB}]
    # report 3 found the fracture itself, so it proposes nothing; Pleural Effusion is no ancestor of anything
    assert propose_coded_as(reports, found, ancestors, min_reports=2) == {(RIB, FRACTURE)}
    assert propose_coded_as(reports, found, ancestors, min_reports=3) == set()
    # Vascular Calcification's ancestor is not coded in its report: nothing to learn
    assert (VASCULAR, CALCINOSIS) not in propose_coded_as(reports, found, ancestors, min_reports=1)


def test_judge_counts_every_report_that_states_the_concept() -> None:
    reports = [_report(1, FRACTURE), _report(2, FRACTURE), _report(3), _report(4, FRACTURE)]
    found = [{RIB}, {RIB}, {RIB}, set()]  # report 4 is coded with a fracture medkg did not read as a rib's
    assert judge_coded_as(reports, found, {(RIB, FRACTURE)}) == [CodedAs(RIB, FRACTURE, 2, 1)]


def test_keep_applies_the_thresholds_and_keeps_one_descriptor_per_concept() -> None:
    pairs = [CodedAs(RIB, FRACTURE, 8, 1), CodedAs(RIB, "MESH:D014947", 3, 0), CodedAs(VASCULAR, CALCINOSIS, 4, 2),
             CodedAs(HIP, FRACTURE, 1, 0)]
    assert keep_coded_as(pairs, LearnConfig(min_support=2, min_precision=0.7)) == [CodedAs(RIB, FRACTURE, 8, 1)]
    assert {(p.concept_id, p.coded_as) for p in keep_coded_as(pairs, LearnConfig(min_support=1, min_precision=0.6))
            } == {(RIB, FRACTURE), (VASCULAR, CALCINOSIS), (HIP, FRACTURE)}


def test_learn_is_propose_judge_keep() -> None:
    reports = [_report(1, FRACTURE), _report(2, FRACTURE), _report(3, FRACTURE), _report(4)]
    found = [{RIB}, {RIB}, {RIB}, {RIB, HIP}]
    assert learn_coded_as(reports, found, ancestors, LearnConfig(min_support=2, min_precision=0.7)) == [
        CodedAs(RIB, FRACTURE, 3, 1)]
    assert learn_coded_as(reports, found, ancestors, LearnConfig(min_support=2, min_precision=0.8)) == []


def test_names_file_holds_the_broader_descriptors_and_reads_the_older_format(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    ReportNames([ReportName("osteopenia", "MESH:D001851", 4, 0)], {"part": "tune"},
                [CodedAs(RIB, FRACTURE, 8, 1)]).save(path)
    back = ReportNames.load(path)
    assert back.coded_as_mapping() == {RIB: FRACTURE} and back.coded_as[0].precision == pytest.approx(8 / 9)
    path.write_text(json.dumps({"format": 1, "names": [{"key": "x", "concept_id": "MESH:D1", "right": 2,
                                                        "wrong": 0}]}))
    assert ReportNames.load(path).coded_as == []  # a file learned before broader descriptors existed
    path.write_text(json.dumps({"format": 2, "names": [], "coded_as": [{"concept_id": RIB}]}))
    with pytest.raises(VocabularyError, match="names.json: not a report names file"):
        ReportNames.load(path)
    path.write_text(json.dumps({"format": 3, "names": []}))
    with pytest.raises(VocabularyError, match="format 3"):
        ReportNames.load(path)


def _vocabulary() -> Vocabulary:
    v = Vocabulary()
    v.add([Concept(FRACTURE, "MESH", "Fractures, Bone", tree_numbers=("C26.404",), semantic_types=("DISO",),
                   vocab_version="test"),
           Concept(RIB, "MESH", "Rib Fractures", tree_numbers=("C26.404.750",), parents=(FRACTURE,),
                   semantic_types=("DISO",), vocab_version="test")])
    return v


def test_the_lexicon_keeps_the_pairs_of_concepts_it_has(tmp_path: Path) -> None:
    lex = Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=None,
                                  coded_as={RIB: FRACTURE, HIP: FRACTURE, RIB + "x": "MESH:D0"})
    assert lex.coded_as == {RIB: FRACTURE}  # Hip Fractures is not in this vocabulary
    path = tmp_path / "names.json"
    ReportNames([], {}, [CodedAs(RIB, FRACTURE, 8, 1)]).save(path)
    assert Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=path).coded_as == {RIB: FRACTURE}
    assert Lexicon.from_vocabulary(_vocabulary(), approximate=False, report_names=None).coded_as == {}


def test_two_links_of_one_span_are_not_a_co_occurrence() -> None:
    def entity(i: int, cid: str, start: int, end: int) -> Entity:
        m = Mention(start, end, "x" * (end - start), Link(cid, 1.0, "dictionary:preferred"), "DISO")
        return Entity(f"c/e{i}", "c", 1, cid, "DISO", m.link, [m])

    rib, broader, effusion = entity(0, RIB, 4, 17), entity(1, FRACTURE, 4, 17), entity(2, EFFUSION, 30, 45)
    pairs = {(r.source, r.target) for r in cooccurrence_relations([rib, broader, effusion], [(0, 60)])}
    assert pairs == {("c/e0", "c/e2"), ("c/e1", "c/e2")}
