"""Learning report names (:mod:`medkg.pipelines.linking.report_names`) and the coders' broader descriptors
(:mod:`medkg.pipelines.linking.coded_as`) with medkg's own extractor."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import spacy

from medkg.kg.records import Mention
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.deid.recognizers import spacy_model_dir
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.coded_as import learn_coded_as
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.report_names import (
    CodedAs,
    CodedReport,
    LearnConfig,
    ReportName,
    judged,
    keep,
    modifier_words,
    stated,
    term_words,
)


class ReportReader:
    """Reads reports as tier 1 is read, with a vocabulary's lexicon plus given names (and no learned ones)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.base = Lexicon.from_vocabulary(vocab, approximate=False, report_names=None)
        self.known = set(self.base.entries) | set(self.base.clinical.entries if self.base.clinical else ())
        # descriptors only: supplementary records' long names ("Osteopenia and sparse hair") are no guide
        self.modifiers = modifier_words(term for concept in vocab if concept.tree_numbers for term in concept.terms)
        clinical = self.base.clinical  # derived adjective -> its concept: candidates of their own
        self.adjectives = {} if clinical is None else {
            a: clinical.entries[a][0][0] for a in self.base.clinical_adjectives if a in clinical.entries}

    def refines(self, key: str, concept_id: str) -> bool:
        """Whether ``key`` may name ``concept_id`` given the disease names inside it (see
        :mod:`~medkg.pipelines.linking.report_names`): each must share its last word with a term of the
        concept, and the concept may not be an ancestor of the one it names."""
        concept = self.vocab.get(concept_id)
        if concept is None:
            return False
        last_words = {term_words(term)[-1] for term in concept.terms}
        for start, end, cands, _ in self.base.find(key):
            inside = [cid for cid, _ in cands if self.base.concepts[cid][1] == "DISO"]
            if not inside:
                continue
            if key[start:end].rsplit(" ", 1)[-1] not in last_words:
                return False
            if any(concept_id in self.vocab.ancestors(cid) for cid in inside):
                return False
        return True

    def stated(self, reports: Sequence[CodedReport]) -> list[set[str]]:
        """What each report states (positive, certain concepts), read without learned names."""
        return [stated(mentions) for mentions in self.read([r.text for r in reports], {})]

    def read(self, texts: Sequence[str], names: Mapping[str, str], coded_as: Mapping[str, str] | None = None
             ) -> list[list[Mention]]:
        """``texts`` read as clinical reports with ``names`` (and ``coded_as``: concept -> broader descriptor)."""
        lexicon = self.base if not names and not coded_as else Lexicon.from_vocabulary(
            self.vocab, approximate=False, report_names=names, coded_as=coded_as)
        with tempfile.TemporaryDirectory(prefix="medkg-report-names-") as tmp:
            path = Path(tmp) / "lexicon.pkl"
            lexicon.save(path)
            extractor = Extractor(path, without=frozenset({"relations"}))
        return extractor.mentions_many(list(texts), clinical=True)


def tagger() -> Any:
    """``en_core_web_sm``'s tagger (the model de-identification loads; nothing is downloaded)."""
    return spacy.load(spacy_model_dir(), exclude=["ner", "parser", "lemmatizer"])


def judge_reports(reports: Sequence[CodedReport], reader: ReportReader, nlp: Any, config: LearnConfig
                  ) -> list[ReportName]:
    """Every candidate name of ``reports`` with its counts, before the thresholds."""
    texts = [r.text for r in reports]
    return judged(reports, lambda names: reader.read(texts, names), nlp, reader.known, config, reader.modifiers,
                  reader.refines, reader.adjectives)


def learn_from_reports(reports: Sequence[CodedReport], vocab: Vocabulary, config: LearnConfig | None = None,
                       reader: ReportReader | None = None) -> list[ReportName]:
    """The names worth keeping, learned from ``vocab``'s lexicon without any learned names (``reader``: one
    already made for ``vocab``)."""
    config = config or LearnConfig()
    return keep(judge_reports(reports, reader or ReportReader(vocab), tagger(), config), config)


def coded_as_from_reports(reports: Sequence[CodedReport], reader: ReportReader, config: LearnConfig | None = None
                          ) -> list[CodedAs]:
    """The broader descriptors ``reports``' coders file concepts under (:mod:`.coded_as`), judged on the
    reports read without learned names."""
    return learn_coded_as(reports, reader.stated(reports), reader.vocab.ancestors, config or LearnConfig())
