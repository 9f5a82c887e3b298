"""Reports read as clinical text (tier 1) by the real pipeline; abstracts as before."""

from __future__ import annotations

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from medkg.kg.records import TIER_LITERATURE, TIER_REPORT, Document
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon

CALCINOSIS, GRANULOMA, ATHEROSCLEROSIS = "MESH:D002114", "MESH:D006099", "MESH:D050197"
CARDIOMEGALY, FRACTURE, EFFUSION, PNEUMOTHORAX = "MESH:D006332", "MESH:D050723", "MESH:D010996", "MESH:D011030"
SCAR, PNEUMONIA, HEART = "MESH:D002921", "MESH:D011014", "MESH:D006321"


def _disease(cid: str, name: str, trees: tuple[str, ...], *synonyms: str) -> Concept:
    return Concept(cid, "MESH", name, synonyms=synonyms, tree_numbers=trees, semantic_types=("DISO",),
                   vocab_version="test")


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    v = Vocabulary()
    v.add([
        _disease(CALCINOSIS, "Calcinosis", ("C18.452.174.130",), "Calcification, Pathologic",
                 "Pathologic Calcification"),
        _disease("MESH:D061205", "Vascular Calcification", ("C18.452.174.130.780",)),
        _disease("MESH:D054060", "Calcinosis Cutis", ("C18.452.174.130.093",), "Cutaneous Calcification"),
        _disease(GRANULOMA, "Granuloma", ("C23.550.382",), "Granulomas"),
        _disease(ATHEROSCLEROSIS, "Atherosclerosis", ("C14.907.137.126.307",)),
        _disease(CARDIOMEGALY, "Cardiomegaly", ("C14.280.195",), "Enlarged Heart", "Heart, Enlarged"),
        _disease(FRACTURE, "Fractures, Bone", ("C26.404",), "Bone Fracture"),
        _disease("MESH:D012253", "Rib Fractures", ("C26.404.593",), "Rib Fracture"),
        _disease("MESH:D006620", "Hip Fractures", ("C26.404.061.425",), "Hip Fracture"),
        _disease(EFFUSION, "Pleural Effusion", ("C08.528.652",)),
        _disease(PNEUMOTHORAX, "Pneumothorax", ("C08.528.700",)),
        _disease(SCAR, "Cicatrix", ("C23.550.355.274",), "Scar"),
        _disease(PNEUMONIA, "Pneumonia", ("C08.381.677",)),
        Concept("MESH:D001158", "MESH", "Aorta", tree_numbers=("A07.231.114.056",), semantic_types=("ANAT",),
                vocab_version="test"),
        # an organ the dictionary matches inside "the heart is mildly enlarged", as with the bundled MeSH
        Concept(HEART, "MESH", "Heart", tree_numbers=("A07.541",), semantic_types=("ANAT",), vocab_version="test"),
    ])
    path = tmp_path_factory.mktemp("clinical") / "lexicon.pkl"
    Lexicon.from_vocabulary(v).save(path)
    return Extractor(path, without=frozenset({"relations"}))


REPORT = ("INDICATION: pneumonia\n\n"
          "FINDINGS: Calcified hilar lymph nodes. Calcified granuloma in the right apex. Atherosclerotic aorta. "
          "The heart is mildly enlarged. Healing fractured left 6th rib. Scarring at the left base. "
          "The lungs are clear of focal airspace disease, pneumothorax, or pleural effusion.\n\n"
          "IMPRESSION: No change in the scarring.")


def findings(extractor: Extractor, text: str, tier: int) -> dict[str, set[str]]:
    doc = Document(id="r1", text=text, tier=tier, kind="report" if tier == TIER_REPORT else "abstract")
    out: dict[str, set[str]] = {"present": set(), "negated": set(), "uncertain": set()}
    for graph in extractor.extract(doc):
        for entity in graph.entities:
            for m in entity.mentions:
                key = "negated" if m.negated else "uncertain" if m.uncertain else "present"
                out[key].add(m.link.concept_id)
    return out


def test_report_findings(extractor: Extractor) -> None:
    got = findings(extractor, REPORT, TIER_REPORT)
    # calcified nodes and the atherosclerotic aorta state findings; "calcified granuloma" is one granuloma
    assert {CALCINOSIS, GRANULOMA, ATHEROSCLEROSIS, CARDIOMEGALY, FRACTURE, SCAR} <= got["present"]
    assert {EFFUSION, PNEUMOTHORAX} <= got["negated"] and not {EFFUSION, PNEUMOTHORAX} & got["present"]
    assert PNEUMONIA in got["uncertain"]  # the indication is the question the report answers
    assert SCAR not in got["negated"]  # "no change in" negates nothing


def test_granuloma_adjective_is_not_a_second_finding(extractor: Extractor) -> None:
    got = findings(extractor, "FINDINGS: Calcified granuloma in the right apex.", TIER_REPORT)
    assert got["present"] == {GRANULOMA}


def test_literature_reads_as_before(extractor: Extractor) -> None:
    got = findings(extractor, REPORT, TIER_LITERATURE)
    assert CARDIOMEGALY not in got["present"]  # the predicative variant is a clinical reading only
    assert SCAR not in got["present"]  # "scarring": a derived form the clinical lexicon adds


def test_reports_skip_the_ner_model_and_a_mixed_batch_keeps_its_order(extractor: Extractor,
                                                                      request: pytest.FixtureRequest) -> None:
    """The NER model (trained on abstracts) reads the abstracts of a batch and none of its reports; each
    document's chunks come back in the batch's order, equal to extracting it alone."""
    seen: list[tuple[str, bool]] = []  # after the NER step: (first word, whether the model tagged the doc)

    @Language.component("test_after_ner")
    def after_ner(doc: Doc) -> Doc:
        seen.append((doc[0].text, doc.has_annotation("ENT_IOB")))
        return doc

    extractor.nlp.add_pipe("test_after_ner", after="ner")
    request.addfinalizer(lambda: extractor.nlp.remove_pipe("test_after_ner"))
    abstract = "Calcified granuloma and pneumonia were seen in two patients. The heart was enlarged."
    docs = [Document(id="a1", text=abstract, tier=TIER_LITERATURE, kind="abstract"),
            Document(id="r1", text=REPORT, tier=TIER_REPORT, kind="report"),
            Document(id="a2", text="Pneumonia with pleural effusion.", tier=TIER_LITERATURE, kind="abstract")]
    together = extractor.extract_many(docs)
    assert sorted(seen) == [("Calcified", True), ("INDICATION", False), ("Pneumonia", True)]
    assert [[g.chunk.doc_id for g in graphs][0] for graphs in together] == ["a1", "r1", "a2"]
    for doc, graphs in zip(docs, together):
        alone = extractor.extract(doc)
        assert [(g.chunk.id, sorted((m.start, m.end, m.link.concept_id) for e in g.entities for m in e.mentions))
                for g in graphs] == \
               [(g.chunk.id, sorted((m.start, m.end, m.link.concept_id) for e in g.entities for m in e.mentions))
                for g in alone]
    assert findings(extractor, REPORT, TIER_REPORT)["present"]  # the report is still read


# Each mechanism of the clinical lexicon (pipelines/linking/clinical.py) with the bundled MeSH, whose every other
# match (organs such as "heart", anatomy, the specific fracture descriptors) a fixture vocabulary would not have:
# the predicative variants were blocked by the organ word for as long as only fixtures tested them.
BUNDLED_CASES = [
    ("Calcified mediastinal lymph nodes.", "MESH:D002114"),  # derived participle: Calcinosis
    ("Atherosclerotic aorta.", ATHEROSCLEROSIS),  # derived adjective
    ("Healing fractured left 6th rib.", FRACTURE),  # participle of a generalised head
    ("Scarring at the left base.", SCAR),  # -ing form
    ("Mild dextroscoliosis.", "MESH:D012600"),  # directional prefix: Scoliosis
    ("The heart is mildly enlarged.", CARDIOMEGALY),  # predicative variant, over the organ's own match
    ("Heart size borderline enlarged.", CARDIOMEGALY),
]


@pytest.fixture(scope="module")
def bundled_extractor(sample_graph) -> Extractor:
    """An extractor over the sample graph's lexicon: the bundled MeSH."""
    return Extractor(sample_graph / "lexicon.pkl", without=frozenset({"relations"}))


@pytest.mark.parametrize(("sentence", "concept"), BUNDLED_CASES)
def test_clinical_lexicon_with_the_bundled_mesh(bundled_extractor: Extractor, sentence: str, concept: str) -> None:
    got = findings(bundled_extractor, f"FINDINGS: {sentence}", TIER_REPORT)
    assert concept in got["present"], got


def test_calcified_granuloma_is_one_finding_with_the_bundled_mesh(bundled_extractor: Extractor) -> None:
    got = findings(bundled_extractor, "FINDINGS: Calcified granuloma in the right apex.", TIER_REPORT)
    assert GRANULOMA in got["present"] and CALCINOSIS not in got["present"]
