"""How NER spans and dictionary matches become linked mentions (``medkg_mentions``), model-independent.

The NER model's output is set by hand here, so each rule is tested on its own:
exact links, a longer dictionary term preferred, TF-IDF for what no term spells,
unlinkable spans dropped, and which dictionary-only matches are kept.
"""

from __future__ import annotations

import pytest
from spacy.tokens import Doc

from medkg.errors import MedKGError
from medkg.ontologies.annotated import VOCAB
from medkg.ontologies.concept import Concept
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.mentions import MentionFinder
from medkg.pipelines.linking.priors import MatchPriors
from medkg.pipelines.text.tokenizer import blank_english


@pytest.fixture(scope="module")
def lexicon(tiny_vocabulary) -> Lexicon:
    return Lexicon.from_vocabulary(tiny_vocabulary)


def doc_with_ner(text: str, ents: list[tuple[str, str]]) -> Doc:
    """A doc as the NER model leaves it: ``ents`` are (text, label) pairs, found left to right."""
    doc = blank_english().make_doc(text)
    spans, pos = [], 0
    for words, label in ents:
        start = text.index(words, pos)
        pos = start + len(words)
        spans.append(doc.char_span(start, pos, label=label))
    doc.ents = spans
    return doc


def linked(doc: Doc) -> dict[str, tuple[str, str]]:
    """Mention text (by its character offsets, which may be tighter than its tokens) -> (concept, method)."""
    text = doc.text
    return {text[slice(*e._.char_span)]: (e._.link.concept_id, e._.link.method) for e in doc.ents}


def test_ner_spans_link_exactly_approximately_or_not_at_all(lexicon: Lexicon) -> None:
    doc = doc_with_ner("Pneumonia, skin neoplasma and cisplatin nephropathy.",
                       [("Pneumonia", "Disease"), ("skin neoplasma", "Disease"), ("cisplatin", "Chemical")])
    got = linked(MentionFinder(lexicon)(doc))
    assert got["Pneumonia"] == ("MESH:D011014", "dictionary:preferred")
    assert got["skin neoplasma"] == ("MESH:D012878", "tfidf")  # misspelt: no term spells it
    assert "cisplatin" not in got  # the tiny vocabulary has no such chemical: unlinked, dropped
    assert "skin neoplasma" not in linked(MentionFinder(lexicon, approximate=False)(
        doc_with_ner("skin neoplasma", [("skin neoplasma", "Disease")])))


def test_a_single_word_no_term_spells_gets_no_approximate_link(lexicon: Lexicon) -> None:
    # its 3-grams are as close to "Pneumonia" as a misspelling's, but one unknown word is usually another word
    assert lexicon.candidates(["pneumonie"])[0][0].concept_id == "MESH:D011014"
    assert linked(MentionFinder(lexicon)(doc_with_ner("pneumonie", [("pneumonie", "Disease")]))) == {}


def test_the_dictionary_retypes_a_span_unless_its_kind_is_rarely_a_mention(lexicon: Lexicon) -> None:
    # "beta catenin" is a chemical (a protein, MeSH D12) in the vocabulary; the model called it a disease
    doc = doc_with_ner("beta-catenin", [("beta-catenin", "Disease")])
    got = linked(MentionFinder(lexicon, dictionary_fills_ner_groups="none")(doc))
    assert got == {"beta-catenin": ("MESH:D051176", "dictionary:preferred")}
    assert doc.ents[0].label_ == "CHEM"
    # priors that count proteins as mentions 1 time in 50: the model's type stands, and no disease is named so
    rare = MatchPriors({"CHEM|lower|D12": (1, 50)})
    doc = doc_with_ner("beta-catenin", [("beta-catenin", "Disease")])
    assert linked(MentionFinder(lexicon, dictionary_fills_ner_groups="none", priors=rare)(doc)) == {}
    got = linked(MentionFinder(lexicon)(doc_with_ner("beta-catenin", [("beta-catenin", "Chemical")])))
    assert got == {"beta-catenin": ("MESH:D051176", "dictionary:preferred")}


def test_a_longer_dictionary_term_beats_the_models_shorter_span(lexicon: Lexicon) -> None:
    got = linked(MentionFinder(lexicon)(doc_with_ner("He has type 2 diabetes.", [("diabetes", "Disease")])))
    assert got == {"type 2 diabetes": ("MESH:D003924", "dictionary:synonym")}


def test_dictionary_only_matches_follow_the_fill_policy(tiny_vocabulary) -> None:
    text = "Anemia and chest pain in patients with AIDS."
    ner = [("Anemia", "Disease")]
    plain = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    assert set(linked(MentionFinder(plain)(doc_with_ner(text, ner)))) == {"Anemia", "chest pain", "AIDS"}  # auto: all
    assert set(linked(MentionFinder(plain, dictionary_fills_ner_groups="none")(doc_with_ner(text, ner)))) == {"Anemia"}
    tiny_vocabulary.add([Concept("MESH:D002637", f"{VOCAB}-test", "chest pain", semantic_types=("DISO",)),
                         Concept("MESH:D000163", f"{VOCAB}-test", "AIDS", semantic_types=("DISO",))])
    try:
        annotated = Lexicon.from_vocabulary(tiny_vocabulary, approximate=False)
    finally:
        tiny_vocabulary.annotated.clear()
    got = linked(MentionFinder(annotated)(doc_with_ner(text, ner)))  # auto: annotated names only, not "AIDS"
    assert got == {"Anemia": ("MESH:D000740", "dictionary:preferred"),
                   "chest pain": ("MESH:D002637", "dictionary:annotated")}


def test_without_a_model_every_dictionary_match_is_kept(lexicon: Lexicon) -> None:
    doc = blank_english().make_doc("Anemia and chest pain.")
    assert set(linked(MentionFinder(lexicon, dictionary_fills_ner_groups="none")(doc))) == {"Anemia", "chest pain"}


def test_an_unknown_fill_policy_is_refused(lexicon: Lexicon) -> None:
    with pytest.raises(MedKGError, match="dictionary_fills_ner_groups"):
        MentionFinder(lexicon, dictionary_fills_ner_groups="some")


def test_cue_words_and_stray_punctuation_are_trimmed_from_model_spans(lexicon: Lexicon) -> None:
    doc = doc_with_ner("Denies chest pain; (+)-pneumonia.",
                       [("Denies chest pain", "Disease"), ("-pneumonia", "Disease")])
    got = linked(MentionFinder(lexicon)(doc))
    assert got == {"chest pain": ("MESH:D002637", "dictionary:preferred"),
                   "pneumonia": ("MESH:D011014", "dictionary:preferred")}
    got = linked(MentionFinder(lexicon)(doc_with_ner("Anemia+ patients.", [("Anemia+", "Disease")])))
    assert got == {"Anemia": ("MESH:D000740", "dictionary:preferred")}  # a charge sign is no part of a name


def test_pressure_units_are_no_chemicals(tiny_vocabulary) -> None:
    vocab = tiny_vocabulary.__class__()
    vocab.add([Concept("MESH:D008628", "MESH", "Mercury", tree_numbers=("D01.268.556.580",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D008628", f"{VOCAB}-test", "Hg", semantic_types=("CHEM",))])  # BC5CDR's element symbol
    lexicon = Lexicon.from_vocabulary(vocab, approximate=False)
    text = "Blood pressure fell to 90 mm Hg and 85 mm  Hg after Hg exposure."
    doc = doc_with_ner(text, [("Hg", "Chemical"), ("Hg", "Chemical"), ("Hg", "Chemical")])
    got = [(text[slice(*e._.char_span)], e._.char_span[0]) for e in MentionFinder(lexicon)(doc).ents]
    assert got == [("Hg", text.index("Hg exposure"))]  # the element, not the units


def test_a_match_a_document_defines_a_short_form_for_is_kept() -> None:
    from medkg.ontologies.vocabulary import Vocabulary

    def chemical(cid: str, name: str, trees: tuple[str, ...], *synonyms: str) -> Concept:
        return Concept(cid, "MESH", name, synonyms=synonyms, tree_numbers=trees, semantic_types=("CHEM",),
                       vocab_version="test")

    vocab = Vocabulary()
    vocab.add([chemical("MESH:D015474", "Isotretinoin", ("D02.455.326", "D23.767"), "13-cis-Retinoic Acid"),
               chemical("MESH:D014212", "Tretinoin", ("D02.455.426", "D23.767"), "all-trans-Retinoic Acid"),
               chemical("MESH:D042461", "Vascular Endothelial Growth Factor A", ("D12.644", "D23.529"))])
    lexicon = Lexicon.from_vocabulary(vocab, approximate=False)
    unseen = MatchPriors({})  # no kind counted: every match is a mention half the time, under the fill threshold

    def kept(text: str, ner: list[tuple[str, str]], priors: MatchPriors = unseen) -> set[str]:
        return set(linked(MentionFinder(lexicon, priors=priors)(doc_with_ner(text, ner))))

    # the model marked the short form, which no term spells: the definition vouches for the long form
    text = "Cells took 13-cis-retinoic acid (cis-RA) for a week."
    rare = MatchPriors({"CHEM|lower|D02+D23": (0, 20)})
    assert kept(text, [("cis-RA", "Chemical")], rare) == {"13-cis-retinoic acid"}
    assert kept(text, [], rare) == set()
    # a defined match of a kind that is a mention half the time, but not a protein
    assert kept("Cells took all-trans-retinoic acid (ATRA) for a week.", []) == {"all-trans-retinoic acid"}
    assert kept("Cells took all-trans-retinoic acid for a week.", []) == set()
    assert kept("Cells made vascular endothelial growth factor A (VEGFA).", []) == set()


def test_the_models_verdict_on_a_name_holds_for_its_other_occurrences(lexicon: Lexicon) -> None:
    rare = MatchPriors({"DISO|lower|C15": (0, 20), "DISO|upper|C02+C20": (0, 20)})  # the priors alone add neither
    text = "Anemia was mild. Later the anemia worsened, and AIDS and anemia were both treated for AIDS."
    got = MentionFinder(lexicon, priors=rare)(doc_with_ner(text, [("Anemia", "Disease"), ("AIDS", "Disease")]))
    spans = [(text[slice(*e._.char_span)], e._.char_span[0]) for e in got.ents]
    # every "anemia" follows the model's first; the second "AIDS" does not: capitals mean what each use defines
    assert spans == [("Anemia", 0), ("anemia", 27), ("AIDS", 48), ("anemia", 57)]
    alone = MentionFinder(lexicon, priors=rare)(doc_with_ner("Later the anemia worsened.", []))
    assert list(alone.ents) == []


def test_the_chemical_a_receptor_or_enzyme_is_named_after_is_a_match_of_its_own() -> None:
    from medkg.ontologies.vocabulary import Vocabulary

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D009638", "MESH", "Norepinephrine", tree_numbers=("D02.092.211.215.625",),
                       semantic_types=("CHEM",), vocab_version="test"),
               Concept("MESH:D050484", "MESH", "Norepinephrine Plasma Membrane Transport Proteins",
                       synonyms=("norepinephrine transporter",), tree_numbers=("D12.776.157.530",),
                       semantic_types=("CHEM",), vocab_version="test")])
    lexicon = Lexicon.from_vocabulary(vocab, approximate=False)
    priors = MatchPriors({"CHEM|lower|D02": (19, 20), "CHEM|lower|D12": (1, 20)})  # drugs yes, proteins no
    got = linked(MentionFinder(lexicon, priors=priors)(doc_with_ner("The norepinephrine transporter fell.", [])))
    assert got == {"norepinephrine": ("MESH:D009638", "dictionary:preferred")}


def test_course_words_annotators_leave_out_leave_a_tfidf_linked_span(lexicon: Lexicon) -> None:
    doc = doc_with_ner("A severe skin neoplasma grew.", [("severe skin neoplasma", "Disease")])
    assert linked(MentionFinder(lexicon)(doc)) == {"severe skin neoplasma": ("MESH:D012878", "tfidf")}  # no exact term
    doc = doc_with_ner("A severe skin neoplasms case.", [("severe skin neoplasms", "Disease")])
    got = linked(MentionFinder(lexicon)(doc))
    assert got == {"skin neoplasms": ("MESH:D012878", "tfidf")}  # what remains is the linked concept's term
