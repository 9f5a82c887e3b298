"""Mention finding, linking, negation and chunking on sentences written for the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from medkg.kg.records import Document
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.text.chunking import chunk_document, split_sentences


@pytest.fixture(scope="module")
def extractor(tiny_lexicon_path: Path) -> Extractor:
    return Extractor(tiny_lexicon_path)


def found(extractor: Extractor, text: str) -> dict[str, str]:
    return {m.text: m.link.concept_id for m in extractor.mentions(text)}


@pytest.fixture(scope="module")
def every_match(tiny_lexicon_path: Path) -> Extractor:
    """Every dictionary match kept, whatever the NER model and its match priors judge."""
    return Extractor(tiny_lexicon_path, dictionary_fills_ner_groups="all")


def test_surface_variants_match(extractor: Extractor, every_match: Extractor) -> None:
    text = "Skin tumours with beta-catenin mutations; type 2 diabetes; anaemia."
    diseases = {"Skin tumours": "MESH:D012878", "type 2 diabetes": "MESH:D003924", "anaemia": "MESH:D000740"}
    assert found(every_match, text) == {**diseases, "beta-catenin": "MESH:D051176"}
    # by default a protein is a chemical only where the model marks it (its match priors say annotators rarely do)
    assert diseases.items() <= found(extractor, text).items()
    assert found(every_match, "Skin carcinomas.") == {"Skin carcinomas": "MESH:D012878"}  # MeSH: Skin Neoplasms


def test_longest_match_wins(extractor: Extractor) -> None:
    assert found(extractor, "non-insulin-dependent diabetes mellitus") == {
        "non-insulin-dependent diabetes mellitus": "MESH:D003924"}
    assert found(extractor, "diabetes mellitus") == {"diabetes mellitus": "MESH:D003920"}


def test_acronyms_are_case_sensitive_and_generic_words_ignored(extractor: Extractor) -> None:
    assert found(extractor, "AIDS was diagnosed") == {"AIDS": "MESH:D000163"}
    assert found(extractor, "Hearing aids help patients.") == {}


def test_links_keep_method_and_score(extractor: Extractor, every_match: Extractor) -> None:
    (m,) = every_match.mentions("NIDDM")
    assert m.link.method == "dictionary:acronym"
    (m,) = extractor.mentions("Pneumonia")
    assert (m.link.method, m.link.score) == ("dictionary:preferred", 1.0)


@pytest.mark.parametrize("text, negated, uncertain", [
    ("The patient denies chest pain.", {"chest pain"}, set()),
    ("No evidence of pneumonia.", {"pneumonia"}, set()),
    ("Pneumonia was ruled out.", {"Pneumonia"}, set()),
    ("Denies chest pain but has pneumonia.", {"chest pain"}, set()),
    ("Possible pneumonia; chest pain on exertion.", set(), {"pneumonia"}),
    ("Chest pain, pneumonia is suspected.", set(), {"Chest pain", "pneumonia"}),
    ("Chest pain and pneumonia.", set(), set()),
])
def test_negation_and_uncertainty(extractor: Extractor, text: str, negated: set, uncertain: set) -> None:
    ms = extractor.mentions(text)
    assert {m.text for m in ms if m.negated} == negated
    assert {m.text for m in ms if m.uncertain} == uncertain


@pytest.mark.parametrize("text, historical, family", [
    ("History of pneumonia; now chest pain.", {"pneumonia"}, set()),
    ("Status post pneumonia in 2019.", {"pneumonia"}, set()),
    ("No history of pneumonia.", set(), set()),  # negated, so it never happened
    ("Pneumonia years ago, chest pain today.", {"Pneumonia"}, set()),
    ("Her mother had skin neoplasms; she has chest pain.", set(), {"skin neoplasms"}),
    ("Family history of type 2 diabetes.", set(), {"type 2 diabetes"}),
    ("Chest pain and pneumonia.", set(), set()),
    ("PAST MEDICAL HISTORY: pneumonia.\nFAMILY HISTORY: anaemia in the father.\nASSESSMENT: chest pain.",
     {"pneumonia"}, {"anaemia"}),
])
def test_history_and_family_context(extractor: Extractor, text: str, historical: set, family: set) -> None:
    ms = extractor.mentions(text)
    assert {m.text for m in ms if m.historical} == historical
    assert {m.text for m in ms if m.family} == family


def test_chunks_keep_offsets_and_never_cross_sections(fixtures: Path, extractor: Extractor) -> None:
    from medkg.pipelines.reading.documents import read_jsonl

    doc = next(read_jsonl(fixtures / "docs.jsonl"))
    graphs = extractor.extract(doc)
    assert [g.chunk.section for g in graphs] == ["RESULTS", "METHODS"]
    for g in graphs:
        assert doc.text[g.chunk.start : g.chunk.end] == g.chunk.text
        for e in g.entities:
            for m in e.mentions:
                assert doc.text[m.start : m.end] == m.text


def test_entities_in_one_sentence_are_related(extractor: Extractor) -> None:
    text = "Pneumonia is common in type 2 diabetes. Anaemia was also seen."
    (g,) = extractor.extract(Document(id="D", text=text))
    assert {e.name for e in g.entities} == {"Pneumonia", "Diabetes Mellitus, Type 2", "Anemia"}
    (rel,) = g.relations
    assert text[rel.start : rel.end] == "Pneumonia is common in type 2 diabetes."
    assert (rel.type, rel.method) == ("co_occurs", "sentence_cooccurrence")


def test_long_text_is_packed_into_bounded_chunks() -> None:
    text = " ".join(f"Sentence number {i} mentions pneumonia." for i in range(60))
    doc = Document(id="D", text=text)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "." and i + 1 < len(text)]
    chunks = chunk_document(doc, split_sentences(text, starts), max_chars=300)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_report_headings_become_sections(extractor: Extractor) -> None:
    text = "HISTORY: Type 2 diabetes.\nASSESSMENT: Possible pneumonia."
    doc = Document(id="report:x", text=text, tier=1, kind="report")
    graphs = extractor.extract(doc)
    assert [g.chunk.section for g in graphs] == ["HISTORY", "ASSESSMENT"]
    assert graphs[1].entities[0].uncertain


def test_lexicon_roundtrip_and_damage(tmp_path: Path, tiny_vocabulary) -> None:
    from medkg.errors import GraphCorruptError

    p = tmp_path / "lex.pkl"
    Lexicon.from_vocabulary(tiny_vocabulary).save(p)
    assert "MESH:D003924" in Lexicon.load(p).concepts
    p.write_bytes(b"garbage")
    with pytest.raises(GraphCorruptError, match="damaged"):
        Lexicon.load(p)
    old = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    old.first_tokens = set(old.first_tokens)  # the shape an older medkg pickled
    del old.__dict__["annotated"]
    old.save(p)
    with pytest.raises(GraphCorruptError, match="older medkg"):
        Lexicon.load(p)


def test_a_documents_own_abbreviations_decide_what_they_mean(extractor: Extractor, tiny_lexicon_path: Path) -> None:
    text = ("Skin neoplasms (SN) were counted. SN were rare. Acquired immunodeficiency syndrome (AIDS) was excluded. "
            "Patients with severe combined immunodeficiency (AIDS) were also excluded.")
    mentions = extractor.mentions(text)
    by_span = {(m.start, m.end): m for m in mentions}
    sn = [m for m in mentions if m.text == "SN"]
    assert len(sn) == 2 and {m.link.concept_id for m in sn} == {"MESH:D012878"}  # a short form no vocabulary has
    assert {m.link.method for m in sn} == {"abbreviation"}
    first_aids = text.index("(AIDS)") + 1
    assert by_span[(first_aids, first_aids + 4)].link.concept_id == "MESH:D000163"

    plain = Extractor(tiny_lexicon_path, without=frozenset({"abbreviations"}))
    assert not [m for m in plain.mentions(text) if m.text == "SN"]


def test_a_short_form_defined_as_something_unknown_is_not_linked(extractor: Extractor) -> None:
    text = "We measured the apparent inhibition density score (AIDS) in every sample; AIDS rose over time."
    assert [m.text for m in extractor.mentions(text)] == []


@pytest.mark.parametrize("text, short", [
    # a disease name governed by a preposition of the long form: the gene "deleted in" it
    ("The deleted in skin neoplasms (DSN) gene was sequenced, and DSN expression fell in every tumour.", "DSN"),
    # a gene product named after a disease: no TF-IDF neighbour of the disease stands in for it
    ("The skin neoplasms protein (SNEP) was purified; SNEP binds DNA.", "SNEP"),
])
def test_a_short_form_of_a_gene_named_after_a_disease_is_no_disease(extractor: Extractor, text: str,
                                                                   short: str) -> None:
    mentions = extractor.mentions(text)
    assert not [m for m in mentions if m.text == short]
    assert {m.text: m.link.concept_id for m in mentions}.get("skin neoplasms") == "MESH:D012878"


@pytest.mark.parametrize("tree, short_form", [("D12.776.913", None),  # filed as a protein, named as an enzyme
                                               ("D08.811.913", None)])  # an enzyme: no chemical mention at all
def test_a_disease_named_by_a_genes_short_form_keeps_its_whole_span(tmp_path: Path, tree: str,
                                                                    short_form: str | None) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D007041", "MESH", "Hypoxanthine Phosphoribosyltransferase", tree_numbers=(tree,),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D007926", "MESH", "Lesch-Nyhan Syndrome", synonyms=("HPRT Deficiency",),
                       tree_numbers=("C10.228.140.163",), semantic_types=("DISO",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab).save(path)
    text = "Hypoxanthine phosphoribosyltransferase (HPRT) is absent in HPRT deficiency."
    got = {m.text: m.link.concept_id for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)}
    assert got.get("HPRT deficiency") == "MESH:D007926"  # not the enzyme's short form inside it
    assert got.get("HPRT") == short_form


def test_british_spellings_fold_to_the_vocabularys() -> None:
    from medkg.ontologies.terms import normalise

    assert normalise("Haemorrhagic tumours") == normalise("hemorrhagic tumors")
    assert normalise("pregnenolone sulphate") == normalise("Pregnenolone Sulfate")  # sulph-: sulfate, sulfonamide


def test_a_chemical_at_the_tail_of_a_long_form_is_not_what_it_means(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D010710", "MESH", "Phosphates", synonyms=("Phosphate",), tree_numbers=("D01.695",),
                       semantic_types=("CHEM",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)  # no TF-IDF neighbour for the whole name either
    text = "Tri-ortho-tolyl phosphate (TOTP) is neurotoxic, and TOTP was given to hens."
    got = {(m.text, m.start) for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)}
    assert not [t for t, _ in got if t == "TOTP"]  # not "phosphate" by another name
    assert ("phosphate", text.index("phosphate")) in got


@pytest.fixture(scope="module")
def drug_lexicon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D004052", "MESH", "Diethylnitrosamine", tree_numbers=("D02.092.471.683.152",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D013739", "MESH", "Testosterone", tree_numbers=("D04.210.500.745.432.769",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D010661", "MESH", "Phenylketonurias",
                       synonyms=("Deficiency of Phenylalanine Hydroxylase",), tree_numbers=("C10.228.140.163",),
                       semantic_types=("DISO",), vocab_version="test")])
    path = tmp_path_factory.mktemp("drugs") / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    return path


@pytest.mark.parametrize("text, short, concept", [
    # a note beside the short form: the parenthesis is too long for scispaCy's detector
    ("Rats were given diethylnitrosamine (DEN: 10 mg/kg/day), and DEN alone caused tumours.", "DEN", "MESH:D004052"),
    # a one-letter short form, which the detector never takes
    ("Serum testosterone (T) fell in every rat; T rose again after the drug was stopped.", "T", "MESH:D013739"),
    # a short form with a one-letter piece
    ("Rats given diethylnitrosamine (D-EN) had tumours; D-EN raised enzymes.", "D-EN", "MESH:D004052"),
    # letters that do not spell the mention
    ("Serum testosterone (X) fell in every rat; X rose again after the drug was stopped.", "X", None),
    # letters that spell only the enzyme inside the disease's name
    ("Deficiency of phenylalanine hydroxylase (PAH; 3 cases) was seen; PAH was cloned.", "PAH", None),
])
def test_definitions_the_detector_passes_over_are_found_after_mentions(drug_lexicon: Path, text: str, short: str,
                                                                       concept: str | None) -> None:
    mentions = Extractor(drug_lexicon, dictionary_fills_ner_groups="all").mentions(text)
    links = [(m.start, m.link.concept_id, m.link.method) for m in mentions if m.text == short]
    if concept is None:
        assert links == []
    else:
        starts = [i for i in range(len(text)) if text.startswith(short, i) and not text[i - 1].isalnum()
                  and not text[i + len(short)].isalnum()]
        assert links == [(s, concept, "abbreviation") for s in starts]


def test_short_forms_spell_their_whole_long_form() -> None:
    from medkg.pipelines.abbreviations.definitions import _spells
    from medkg.pipelines.text.tokenizer import blank_english

    def spells(short: str, long: str) -> bool:
        doc = blank_english().make_doc(f"{long} ({short})")
        return _spells(doc.char_span(len(long) + 2, len(long) + 2 + len(short)), doc.char_span(0, len(long)))

    assert spells("DEN", "diethylnitrosamine") and spells("CsA", "Cyclosporin A")
    assert spells("NMDA", "N-methyl-d-aspartate")
    assert spells("cis-RA", "13-cis-retinoic acid")  # a leading locant is no word of the name
    assert not spells("PAH", "deficiency of the hepatic enzyme phenylalanine hydroxylase")
    assert not spells("XYZ", "diethylnitrosamine")


def test_an_enzymes_short_form_is_no_chemical_mention(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D019001", "MESH", "Nitric Oxide Synthase", tree_numbers=("D08.811.682.135",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D013739", "MESH", "Testosterone", tree_numbers=("D04.210.500.745.432.769",),
                       semantic_types=("CHEM",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    text = "Nitric oxide synthase (NOS) and testosterone (TST) were measured; NOS rose and TST fell."
    got = [(m.text, m.link.method) for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)]
    assert not [t for t, _ in got if t == "NOS"]
    assert [t for t, method in got if method == "abbreviation"] == ["TST", "TST"]  # a drug's short form still is


def test_a_name_does_not_run_across_a_sentence_end_or_an_arrow(tiny_vocabulary) -> None:
    lex = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)

    def names(text: str) -> list[str]:
        return [text[s:e] for s, e, _, _ in lex.find(text)]

    assert names("He had chest pain and chest-pain.") == ["chest pain", "chest-pain"]
    assert names("The chest. Pain came later.") == []
    assert names("Skin--> neoplasms") == []


def test_a_long_forms_tail_names_it_only_if_it_starts_the_short_form(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D012965", "MESH", "Sodium Chloride", synonyms=("salt",),
                       tree_numbers=("D01.210.810",), semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D004409", "MESH", "Dyskinesia", tree_numbers=("C10.597.350",),
                       semantic_types=("DISO",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    text = ("Membranes took up cholesteryl hemisuccinate, tris salt (CS). CS was toxic. "
            "Patients had levodopa-induced dyskinesia (LID). LID was treated.")
    got = {(m.text, m.link.concept_id) for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)}
    assert not [t for t, _ in got if t == "CS"]  # "salt" is not what CS stands for
    assert ("LID", "MESH:D004409") in got  # the dyskinesia is what LID stands for


def test_a_long_form_that_spells_the_short_forms_concept_confirms_it(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D015215", "MESH", "Zidovudine", synonyms=("AZT", "3'-Azido-3'-deoxythymidine",
                                                                       "Azidothymidine"),
                       tree_numbers=("D03.383.742.698.253.900",), semantic_types=("CHEM",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab).save(path)
    extractor = Extractor(path, dictionary_fills_ner_groups="all")

    def short_forms(text: str) -> list[str]:
        return [m.link.concept_id for m in extractor.mentions(text) if m.text == "AZT"]

    # no term spells this long form, but its letters are zidovudine's: the short form keeps its link
    assert short_forms("Anaemia induced by 3'-azido-3'dideoxythymidine (AZT) was studied. AZT was given.") == \
        ["MESH:D015215", "MESH:D015215"]
    # a long form that names something else overrules the acronym table
    assert short_forms("Mice got the antizinc toxin (AZT) daily. AZT was given.") == []


def test_a_proteins_short_form_is_no_chemical_mention(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D011950", "MESH", "Receptors, Cholinergic", synonyms=("acetylcholine receptor", "AChR"),
                       tree_numbers=("D12.776.543.750.720.200",), semantic_types=("CHEM",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab, approximate=False).save(path)
    text = "Antibodies bound the acetylcholine receptor (AChR) of the muscle; AChR density fell."
    got = [m.text for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)]
    assert "AChR" not in got


def test_a_long_forms_approximate_link_needs_every_word_of_the_alias(tmp_path: Path) -> None:
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D007022", "MESH", "Hypotension",
                       synonyms=("reduction in mean arterial blood pressure",),
                       tree_numbers=("C14.907.514",), semantic_types=("DISO",), vocab_version="test"),
               Concept("MESH:D062186", "MESH", "Arterial Pressure", synonyms=("arterial blood pressure",),
                       tree_numbers=("G09.330.125",), semantic_types=("PHYS",), vocab_version="test")])
    path = tmp_path / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab).save(path)
    text = "Clonidine lowered the mean arterial blood pressure (MBP) in rats; MBP recovered in an hour."
    got = {(m.text, m.link.concept_id) for m in Extractor(path, dictionary_fills_ner_groups="all").mentions(text)}
    # the closest alias is a reduction in that pressure: a word the long form lacks, so no link for MBP
    assert not [t for t, _ in got if t == "MBP"]
