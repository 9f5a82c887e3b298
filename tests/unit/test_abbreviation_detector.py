"""Schwartz & Hearst long forms found in the text, on medkg's tokens (which split inside hyphenated words)."""

from __future__ import annotations

import pytest
from spacy.language import Language

from medkg.pipelines import components  # noqa: F401  (registers medkg_abbreviation_detector)
from medkg.pipelines.text.tokenizer import blank_english


@pytest.fixture(scope="module")
def nlp() -> Language:
    nlp = blank_english()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("medkg_abbreviation_detector")
    return nlp


def definitions(nlp: Language, text: str) -> dict[str, str]:
    """Short form -> long form, one entry per definition."""
    return {a.text: a._.long_form.text for a in nlp(text)._.abbreviations}


def test_hyphenated_words_count_once_in_the_window(nlp: Language) -> None:
    # seven tokens but five words before the parenthesis: scispaCy's token window stopped short of "von"
    text = "The von Hippel-Lindau tumor suppressor gene (VHL) has a role in renal cancer."
    assert definitions(nlp, text) == {"VHL": "von Hippel-Lindau tumor suppressor gene"}


def test_the_long_form_starts_where_its_letters_start(nlp: Language) -> None:
    text = "Effects of dizocilpine, a noncompetitive N-methyl-D-aspartate (NMDA) antagonist, were studied."
    assert definitions(nlp, text)["NMDA"] == "N-methyl-D-aspartate"


def test_every_occurrence_of_the_short_form_is_found(nlp: Language) -> None:
    doc = nlp("Boys with Duchenne muscular dystrophy (DMD) were seen. DMD is inherited; DMD varies.")
    assert sorted((a.start_char, a._.long_form.text) for a in doc._.abbreviations) == \
        [(39, "Duchenne muscular dystrophy"), (55, "Duchenne muscular dystrophy"),
         (73, "Duchenne muscular dystrophy")]


def test_the_long_form_stays_in_its_sentence(nlp: Language) -> None:
    # "myotonic dystrophy" does not spell DM (no D before the M); the previous sentence's "dystrophy" would
    assert definitions(nlp, "The repeat is unstable in dystrophy. In myotonic dystrophy (DM) it grows.") == {}
    assert definitions(nlp, "Patients with dystrophy and myotonic dystrophy (DM) were seen.") == \
        {"DM": "dystrophy and myotonic dystrophy"}  # within the sentence, the letters' reading stands


def test_a_note_after_the_letters_leaves_them_a_short_form(nlp: Language) -> None:
    text = "Tilting lowered the mean arterial pressure (MAP femoral) at once; MAP recovered."
    assert definitions(nlp, text) == {"MAP": "mean arterial pressure"}
    assert definitions(nlp, "It fell (by twenty) within minutes.") == {}


def test_a_leading_locant_belongs_to_the_name(nlp: Language) -> None:
    text = "Monkeys received 1-methyl-4-phenyl-1,2,3,6-tetrahydropyridine (MPTP) twice."
    assert definitions(nlp, text) == {"MPTP": "1-methyl-4-phenyl-1,2,3,6-tetrahydropyridine"}
    text = "Rats were given the agonist. (R)-alpha-methylhistamine (RAMH) lowered release."
    assert definitions(nlp, text) == {"RAMH": "(R)-alpha-methylhistamine"}


def test_long_short_forms_and_unbalanced_brackets_are_no_definitions(nlp: Language) -> None:
    # more than ten characters: the parenthesis holds a name, not a short form
    assert definitions(nlp, "Adrenal insufficiency (Addisons disease) may be the only sign.") == {}
    assert definitions(nlp, "The combination [MTX + 5-FU + CY (CMF)] was given.") == {}
    # an opening bracket right before the parenthesis is not part of the long form
    text = "Rats were treated with testosterone propionate [(TP) 10 mg] daily."
    assert definitions(nlp, text) == {"TP": "testosterone propionate"}


def test_a_short_form_the_vocabulary_gives_the_mentions_concept_is_defined(nlp: Language) -> None:
    from medkg.kg.records import Link
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary
    from medkg.pipelines.abbreviations.resolver import AbbreviationLinker
    from medkg.pipelines.linking.lexicon import Lexicon
    from medkg.pipelines.linking.mentions import MentionFinder  # noqa: F401  (registers Span._.link)

    vocab = Vocabulary()
    vocab.add([Concept("MESH:D004958", "MESH", "Estradiol", synonyms=("17beta-Estradiol", "E2"),
                       tree_numbers=("D04.210.500.365.415.248",), semantic_types=("CHEM",), vocab_version="test")])
    lexicon = Lexicon.from_vocabulary(vocab, approximate=False)
    text = "Rats got 17beta-estradiol (E2) daily; E2 raised VEGF."
    doc = nlp(text)
    assert doc._.abbreviations == []  # the letters do not spell the name: no definition by Schwartz & Hearst
    mention = doc.char_span(9, 25, label="CHEM")
    mention._.link = Link(concept_id="MESH:D004958", score=1.0, method="dictionary:synonym")
    doc.ents = [mention]
    linked = [(e.text, e._.link.concept_id, e._.link.method) for e in AbbreviationLinker(lexicon)(doc).ents]
    assert linked == [("17beta-estradiol", "MESH:D004958", "dictionary:synonym"),
                      ("E2", "MESH:D004958", "abbreviation"), ("E2", "MESH:D004958", "abbreviation")]
