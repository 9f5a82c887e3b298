"""Learning report names end to end: coded reports in the IU format, the real tagger and the real extractor."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.evaluation.reports import coded_reports
from medkg.kg.records import TIER_LITERATURE, TIER_REPORT, Document
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.report_names import CodedAs, LearnConfig, ReportNames
from medkg.pipelines.linking.report_names_training import ReportReader, coded_as_from_reports, learn_from_reports

BONE, EFFUSION, CARDIOMEGALY = "MESH:D001851", "MESH:D010996", "MESH:D006332"

# invented reports in the IU CSV layout: "osteopenia" is always coded as Bone Diseases, Metabolic; "lucency"
# stands beside the coded effusion once and beside nothing twice
CSV = """uid,MeSH,Problems,image,indication,comparison,findings,impression
1,"Bone Diseases, Metabolic",x,x,Fall.,None,Diffuse osteopenia. The lungs are clear.,Osteopenia.
2,"Bone Diseases, Metabolic;Pleural Effusion",x,x,Cough.,None,Osteopenia of the spine. Small pleural effusion.,Effusion.
3,"Bone Diseases, Metabolic",x,x,Pain.,None,Marked osteopenia. Lucency in the left apex.,Osteopenia.
4,Pleural Effusion,x,x,Dyspnea.,None,Left pleural effusion. Lucency at the right base.,Effusion.
5,normal,normal,x,Screening.,None,No osteopenia. Lucency at the left base.,Normal chest.
6,normal,normal,x,Screening.,None,Heart size normal. Lucency in the right apex.,Normal chest.
"""


def _vocabulary() -> Vocabulary:
    v = Vocabulary()
    v.add([Concept(cid, "MESH", name, tree_numbers=(tree,), semantic_types=("DISO",), vocab_version="test")
           for cid, name, tree in ((BONE, "Bone Diseases, Metabolic", "C05.116.198"),
                                   (EFFUSION, "Pleural Effusion", "C08.528.652"),
                                   (CARDIOMEGALY, "Cardiomegaly", "C14.280.195"))])
    return v


def test_learned_names_are_read_in_reports_only(tmp_path: Path) -> None:
    csv_path = tmp_path / "coded.csv"
    csv_path.write_text(CSV)
    vocab = _vocabulary()
    reports = coded_reports(csv_path, vocab)
    assert [sorted(r.gold) for r in reports][:2] == [[BONE], [BONE, EFFUSION]]
    names = learn_from_reports(reports, vocab, LearnConfig(min_support=2, min_precision=0.7))
    # "osteopenia" is right in all three reports that state it ("No osteopenia" is negated, so never judged);
    # "lucency" is right in one report of four
    assert [(n.key, n.concept_id, n.right, n.wrong) for n in names] == [("osteopenia", BONE, 3, 0)]

    names_path = tmp_path / "names.json"
    ReportNames(names).save(names_path)
    lexicon_path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, report_names=names_path).save(lexicon_path)
    extractor = Extractor(lexicon_path, without=frozenset({"relations"}))

    def concepts(text: str, tier: int) -> set[tuple[str, bool]]:
        doc = Document(id="d", text=text, tier=tier, kind="report" if tier == TIER_REPORT else "abstract")
        return {(m.link.concept_id, m.negated) for g in extractor.extract(doc) for e in g.entities
                for m in e.mentions}

    assert concepts("FINDINGS: Diffuse osteopenia. No pleural effusion.", TIER_REPORT) == {
        (BONE, False), (EFFUSION, True)}
    assert (BONE, True) in concepts("FINDINGS: No osteopenia.", TIER_REPORT)
    assert BONE not in {cid for cid, _ in concepts("Osteopenia was common in the cohort.", TIER_LITERATURE)}


def test_the_bundled_names_are_what_learning_on_the_iu_tune_half_gives() -> None:
    import os

    from medkg.ontologies.vocabulary import load_vocabulary
    from medkg.pipelines.linking.report_names import REPORT_NAMES

    data = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    iu = data / "corpus" / "iu_xray" / "iu_reports_dev.csv"
    if not iu.exists():
        pytest.skip(f"{iu} not found (set MEDKG_DATA to shared/data): the bundled names cannot be relearned")
    bundled = ReportNames.load(REPORT_NAMES)
    vocab = load_vocabulary("mesh-bundled")
    config = LearnConfig(min_support=bundled.trained_on["min_support"],
                         min_precision=bundled.trained_on["min_precision"])
    reports, reader = coded_reports(iu, vocab, bundled.trained_on["part"]), ReportReader(vocab)
    assert learn_from_reports(reports, vocab, config, reader) == bundled.names
    assert coded_as_from_reports(reports, reader, config) == bundled.coded_as


def test_the_command_learns_from_a_coded_csv_and_names_a_bad_one(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    csv_path, out = tmp_path / "coded.csv", tmp_path / "names.json"
    csv_path.write_text(CSV)

    def medkg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "medkg", "train", "report-names", *args], capture_output=True,
                              text=True, timeout=600)

    done = medkg(str(csv_path), "--out", str(out))  # the bundled MeSH: its name of the finding is the heading
    assert done.returncode == 0, done.stderr
    assert [(n["key"], n["concept_id"]) for n in json.loads(out.read_text())["names"]] == [("osteopenia", BONE)]
    assert "saved 1 names and 0 broader descriptors learned from 6 reports" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,No osteopenia.\n")
    failed = medkg(str(bad), "--out", str(out))
    assert failed.returncode != 0 and "bad.csv" in failed.stderr and "MeSH" in failed.stderr


EDEMA, LUNG_EDEMA, CALCINOSIS, VASCULAR_CALCIFICATION = "MESH:D004487", "MESH:D011654", "MESH:D002114", "MESH:D061205"


def _calcification_vocabulary() -> Vocabulary:
    v = _vocabulary()
    v.add([Concept(cid, "MESH", name, synonyms=synonyms, tree_numbers=(tree,), parents=parents,
                   semantic_types=("DISO",), vocab_version="test")
           for cid, name, synonyms, tree, parents in (
               (EDEMA, "Edema", (), "C23.888.277", ()),
               (LUNG_EDEMA, "Pulmonary Edema", (), "C08.381.742", ()),
               (CALCINOSIS, "Calcinosis", ("Calcification, Pathologic",), "C18.452.174.130", ()),
               (VASCULAR_CALCIFICATION, "Vascular Calcification", (), "C18.452.174.130.780", (CALCINOSIS,)))])
    return v


def test_a_longer_name_must_say_at_least_as_much_as_the_disease_inside_it() -> None:
    from medkg.pipelines.linking.report_names_training import ReportReader

    reader = ReportReader(_calcification_vocabulary())
    assert reader.refines("interstitial edema", LUNG_EDEMA)  # an edema, and not more general than Edema
    assert reader.refines("osteopenia", BONE)  # holds no disease name
    # a finding that stands beside it is not what it names, nor is the more general Calcinosis
    assert not reader.refines("aortic vascular calcification", BONE)
    assert not reader.refines("aortic vascular calcification", CALCINOSIS)
    assert not reader.refines("interstitial edema", "MESH:D000000")  # a concept the vocabulary lacks


def test_a_learned_name_wins_the_span_of_the_shorter_name_inside_it(tmp_path: Path) -> None:
    vocab = _calcification_vocabulary()
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, report_names={"interstitial edema": LUNG_EDEMA}).save(path)
    extractor = Extractor(path, without=frozenset({"relations"}))
    text = "FINDINGS: Mild interstitial edema. Edema of the ankles. No interstitial edema on the left."
    [mentions] = extractor.mentions_many([text], clinical=True)
    assert [(m.text, m.link.concept_id, m.negated) for m in mentions] == [
        ("interstitial edema", LUNG_EDEMA, False), ("Edema", EDEMA, False), ("interstitial edema", LUNG_EDEMA, True)]
    [literature] = extractor.mentions_many([text], clinical=False)
    assert {m.link.concept_id for m in literature} == {EDEMA}


ATHERO, GRANULOMA = "MESH:D050197", "MESH:D006099"


def test_a_learned_adjective_states_its_own_finding_before_a_disease_noun(tmp_path: Path) -> None:
    vocab = _calcification_vocabulary()
    vocab.add([Concept(cid, "MESH", name, tree_numbers=(tree,), semantic_types=("DISO",), vocab_version="test")
               for cid, name, tree in ((ATHERO, "Atherosclerosis", "C14.907.137.126.307"),
                                       (GRANULOMA, "Granuloma", "C23.550.470"))])
    text = "FINDINGS: Aortic atherosclerotic vascular calcification. Calcified granuloma."

    def found(names: dict[str, str]) -> set[str]:
        path = tmp_path / "lexicon.pkl"
        Lexicon.from_vocabulary(vocab, report_names=names).save(path)
        [mentions] = Extractor(path, without=frozenset({"relations"})).mentions_many([text], clinical=True)
        return {m.link.concept_id for m in mentions}

    # unlearned, a derived adjective before a disease noun only describes it
    assert found({}) == {VASCULAR_CALCIFICATION, GRANULOMA}
    # learned ("atherosclerotic" is coded wherever it stands), it names its finding there too; "calcified" still
    # describes the granuloma
    assert found({"atherosclerotic": ATHERO}) == {ATHERO, VASCULAR_CALCIFICATION, GRANULOMA}


FRACTURE, RIB = "MESH:D050723", "MESH:D012253"

# invented reports in the IU layout whose coders file a rib fracture under Fractures, Bone, as NLM's did
FRACTURE_CSV = """uid,MeSH,Problems,image,indication,comparison,findings,impression
1,"Fractures, Bone",x,x,Fall.,None,Old healed left rib fractures. The lungs are clear.,No acute disease.
2,"Fractures, Bone;Pleural Effusion",x,x,Pain.,None,Healing right rib fractures. Small pleural effusion.,Effusion.
3,"Fractures, Bone",x,x,Trauma.,None,Multiple rib fractures.,Rib fractures.
4,normal,normal,x,Trauma.,None,No rib fractures. The lungs are clear.,Normal chest.
5,Pleural Effusion,x,x,Dyspnea.,None,Left pleural effusion. Old rib fracture.,Effusion.
"""


def test_a_concept_coded_broader_gets_a_second_link_in_reports_only(tmp_path: Path) -> None:
    vocab = _vocabulary()
    vocab.add([Concept(FRACTURE, "MESH", "Fractures, Bone", tree_numbers=("C26.404",), semantic_types=("DISO",),
                       vocab_version="test"),
               Concept(RIB, "MESH", "Rib Fractures", synonyms=("Rib Fracture",), tree_numbers=("C26.404.750",),
                       parents=(FRACTURE,), semantic_types=("DISO",), vocab_version="test")])
    csv_path = tmp_path / "coded.csv"
    csv_path.write_text(FRACTURE_CSV)
    reports = coded_reports(csv_path, vocab)
    # stated in reports 1, 2, 3 (coded) and 5 (not); "No rib fractures" states nothing
    learned = coded_as_from_reports(reports, ReportReader(vocab), LearnConfig(min_support=2, min_precision=0.7))
    assert learned == [CodedAs(RIB, FRACTURE, 3, 1)]
    assert coded_as_from_reports(reports, ReportReader(vocab), LearnConfig(min_support=2, min_precision=0.8)) == []

    names_path, lexicon_path = tmp_path / "names.json", tmp_path / "lexicon.pkl"
    ReportNames([], {}, learned).save(names_path)
    Lexicon.from_vocabulary(vocab, report_names=names_path).save(lexicon_path)
    extractor = Extractor(lexicon_path, without=frozenset({"relations"}))

    def graph(text: str, tier: int) -> tuple[list[tuple[int, int, str, str, bool]], set[frozenset[str]]]:
        doc = Document(id="d", text=text, tier=tier, kind="report" if tier == TIER_REPORT else "abstract")
        graphs = extractor.extract(doc)
        mentions = sorted((m.start, m.end, m.link.concept_id, m.link.method, m.negated)
                          for g in graphs for e in g.entities for m in e.mentions)
        names = {e.id: e.link.concept_id for g in graphs for e in g.entities}
        return mentions, {frozenset((names[r.source], names[r.target])) for g in graphs for r in g.relations}

    text = "FINDINGS: Old rib fractures and a small pleural effusion."
    mentions, related = graph(text, TIER_REPORT)
    start = text.index("rib")
    # the words keep their own link; the second, to the broader descriptor, covers the same span
    assert [m for m in mentions if m[2] in (RIB, FRACTURE)] == [
        (start, start + len("rib fractures"), RIB, "dictionary:preferred", False),
        (start, start + len("rib fractures"), FRACTURE, "coded-as", False)]
    assert related == {frozenset((RIB, EFFUSION)), frozenset((FRACTURE, EFFUSION))}  # not the span with itself
    assert {(cid, negated) for _, _, cid, _, negated in graph("FINDINGS: No rib fractures.", TIER_REPORT)[0]} == {
        (RIB, True), (FRACTURE, True)}
    assert [m[2] for m in graph("Rib fractures were common in the cohort.", TIER_LITERATURE)[0]] == [RIB]
    many = extractor.mentions_many(["Old rib fractures.", "No acute disease."], clinical=True)
    assert [sorted(m.link.concept_id for m in ms) for ms in many] == [[RIB, FRACTURE], []]
