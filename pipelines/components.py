"""Every spaCy component medkg registers, in one place.

The extraction pipeline (:func:`medkg.pipelines.extractor.make_pipeline`) is
assembled from these names, in this order::

    sentencizer
    medkg_clinical_sentences      reports only: headings, list items and line breaks start sentences
    medkg_abbreviation_detector   scispaCy's detector, long forms searched in the text
    medkg_lexicon_tags            the vocabulary's matches as NER features
    ner                           the trained chemical/disease model (pipelines/ner/bundled)
    medkg_mentions                NER spans linked, plus the dictionary's other matches
    medkg_salts                   "bupropion HCl" is one mention
    medkg_abbreviations           short forms take their long form's concept
    medkg_composites              "breast or ovarian cancer" is one mention
    medkg_context                 negation, uncertainty, history, family
    medkg_relations               typed relations between chemicals and diseases (pipelines/relations/bundled)

Importing this module registers them with spaCy; the classes live in the
stage packages (``abbreviations``, ``ner``, ``linking``, ``context``, ``relations``). A
component that needs the lexicon takes its path, so a pipeline's config is
plain strings and the lexicon is loaded once per process
(:func:`medkg.pipelines.linking.lexicon.cached_lexicon`).
"""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from medkg.pipelines.abbreviations.detector import TextAbbreviationDetector
from medkg.pipelines.abbreviations.resolver import AbbreviationLinker
from medkg.pipelines.context.rules import mark_context
from medkg.pipelines.linking.composites import CompositeMentions
from medkg.pipelines.linking.lexicon import cached_lexicon
from medkg.pipelines.linking.mentions import MentionFinder
from medkg.pipelines.linking.priors import load_priors
from medkg.pipelines.linking.salts import SaltNames
from medkg.pipelines.ner.lexicon_tags import LexiconTagger
from medkg.pipelines.relations.component import RelationTagger
from medkg.pipelines.relations.model import RELATION_MODEL_DIR, relation_model
from medkg.pipelines.text.sections import clinical_sentence_starts


@Language.component("medkg_clinical_sentences")
def medkg_clinical_sentences(doc: Doc) -> Doc:
    """Sentence starts at report headings and list items, none after "Dr." (clinical documents only)."""
    return clinical_sentence_starts(doc)


@Language.factory("medkg_abbreviation_detector")
def make_abbreviation_detector(nlp: Language, name: str) -> TextAbbreviationDetector:
    return TextAbbreviationDetector(nlp, name)


@Language.factory("medkg_lexicon_tags", default_config={"lexicon_path": ""})
def make_lexicon_tagger(nlp: Language, name: str, lexicon_path: str) -> LexiconTagger:
    return LexiconTagger(cached_lexicon(lexicon_path))


@Language.factory("medkg_mentions", default_config={"lexicon_path": "", "dictionary": True, "approximate": True,
                                                    "dictionary_fills_ner_groups": "auto", "priors_dir": ""})
def make_mention_finder(nlp: Language, name: str, lexicon_path: str, dictionary: bool, approximate: bool,
                        dictionary_fills_ner_groups: str, priors_dir: str) -> MentionFinder:
    """``priors_dir``: the NER model's folder, whose ``match_priors.json`` (if any) the finder uses."""
    return MentionFinder(cached_lexicon(lexicon_path), dictionary=dictionary, approximate=approximate,
                         dictionary_fills_ner_groups=dictionary_fills_ner_groups,
                         priors=load_priors(Path(priors_dir)) if priors_dir else None)


@Language.factory("medkg_salts", default_config={"lexicon_path": ""})
def make_salts(nlp: Language, name: str, lexicon_path: str) -> SaltNames:
    return SaltNames(cached_lexicon(lexicon_path))


@Language.factory("medkg_abbreviations", default_config={"lexicon_path": ""})
def make_abbreviation_linker(nlp: Language, name: str, lexicon_path: str) -> AbbreviationLinker:
    return AbbreviationLinker(cached_lexicon(lexicon_path) if lexicon_path else None)


@Language.factory("medkg_composites", default_config={"lexicon_path": ""})
def make_composites(nlp: Language, name: str, lexicon_path: str) -> CompositeMentions:
    return CompositeMentions(cached_lexicon(lexicon_path))


@Language.component("medkg_context")
def medkg_context(doc: Doc) -> Doc:
    """ConText-style negation, uncertainty, history and experiencer on ``doc.ents``."""
    return mark_context(doc)


@Language.factory("medkg_relations", default_config={"model_dir": ""})
def make_relation_tagger(nlp: Language, name: str, model_dir: str) -> RelationTagger:
    """``model_dir``: a folder from ``medkg train relations`` (default: the bundled model)."""
    return RelationTagger(relation_model(Path(model_dir) if model_dir else RELATION_MODEL_DIR))
