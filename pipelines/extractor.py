"""The spaCy pipeline and the extractor that turns a document into meta-graphs.

Pipeline (all registered spaCy components, so they run, serialise and test
like any other): ``sentencizer`` -> ``medkg_abbreviation_detector`` (scispaCy's,
with the long form searched in the text) ->
``ner`` (medkg's trained chemical/disease model, sourced from
``pipelines/ner/bundled``) -> ``medkg_mentions`` (NER spans linked, plus the
vocabulary dictionary's other matches) -> ``medkg_salts`` ("bupropion HCl" is
one mention) -> ``medkg_abbreviations`` (short forms take their long form's
concept) -> ``medkg_composites`` ("breast or ovarian cancer" is one mention)
-> ``medkg_context`` (negation, uncertainty, history, family history).

The tokenizer is spaCy's English one with a few splits for biomedical text
(:mod:`medkg.pipelines.text.tokenizer`), the one the NER model was trained on; the
statistical ``en_core_web_sm`` knows no biomedical
entity types and would only slow the build.
"""

from __future__ import annotations

import logging
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from medkg.errors import InputError, MedKGError
from medkg.kg.records import TIER_REPORT, ChunkGraph, Document, Entity, Link, Mention, Section
from medkg.pipelines import components as _components  # noqa: F401  (registers medkg's spaCy components)
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.ner.blas_ops import use_blas
from medkg.pipelines.ner.model import NER_MODEL_DIR, ner_model
from medkg.pipelines.reading.fields import MAX_DOCUMENT_CHARS
from medkg.pipelines.relations.cooccurrence import cooccurrence_relations
from medkg.pipelines.relations.edges import typed_relations
from medkg.pipelines.text.chunking import chunk_document, split_sentences
from medkg.pipelines.text.sections import report_sections
from medkg.pipelines.text.tokenizer import blank_english, remember_text

log = logging.getLogger(__name__)

# scispaCy's detector runs an empty matcher on every document without an abbreviation; spaCy warns each time
warnings.filterwarnings("ignore", message=r"\[W036\] The component 'matcher'", category=UserWarning)

OPTIONAL_STEPS = ("ner", "priors", "dictionary", "tfidf", "abbreviations", "salts", "composites", "context",
                  "relations")
# Raise when the rules that find, link or normalise mentions change (not the model or the vocabulary, which are
# fingerprinted themselves): builds then re-extract, from the ledger, what older rules extracted.
# 2: abbreviation, retyping and unit rules; "sulph-" folds to "sulf-". 3: definitions the detector passes over;
# enzymes' short forms. 4: no TF-IDF link for one word, to a supplementary record, or through an alias with a
# word the mention lacks; no dictionary match across a sentence end or an arrow. 5: coordinated names that share
# a head are one mention; a drug's salt is part of its name; the NER model's dictionary features leave annotated
# names out, as in its training; a definition vouches for a dictionary match. 6: abbreviation long forms found in
# the text, over whitespace words within the sentence; a long form's tail that is no disease must start its short form;
# a name the model marked once is a mention wherever the document repeats it; a concept named as the text is written
# wins the look-up; chemicals inside receptor and enzyme names; proteins' short forms are no chemicals; course words
# ("severe", "transient") leave TF-IDF-linked spans. 7: typed relations (INDUCES, TREATS) from the relation model,
# beside sentence co-occurrence. 8: reports (tier 1) read as clinical text: sections, clinical sentences and ConText
# phrasing, every dictionary finding, the clinical lexicon (pipelines/linking/clinical.py).
EXTRACTION_RULES = 8
# The same for what only reports (tier 1) are read by; a change re-extracts reports, not the literature.
# 1: reports skip the NER model trained on abstracts (REPORT_SKIPS).
# 2: "the heart is enlarged" is read as cardiomegaly even where the dictionary matches "heart" on its own.
# 3: a concept coders file under a broader descriptor gets a second link to it (pipelines/linking/coded_as.py).
REPORT_RULES = 3

#: Steps clinical reports skip. The NER model learnt what a mention is from abstracts; reports keep every
#: dictionary and clinical-lexicon finding instead (rules 8). Measured on the IU development reports
#: (``medkg eval reports --without ner``): recall and precision within one report of the model's on both halves
#: (its spans are wider: "congestive heart failure" where the dictionary reads "heart failure", the same concept),
#: at twice the reports per second. Abstracts keep the model.
REPORT_SKIPS = ("ner",)


def make_pipeline(lexicon_path: Path, without: frozenset[str] = frozenset(), ner_dir: Path = NER_MODEL_DIR,
                  dictionary_fills_ner_groups: str = "auto", relations_dir: Path | None = None) -> Language:
    """The extraction pipeline; ``without`` switches optional steps off (for ablations)."""
    unknown = set(without) - set(OPTIONAL_STEPS)
    if unknown:
        raise MedKGError(f"unknown pipeline steps {sorted(unknown)}; optional: {', '.join(OPTIONAL_STEPS)}")
    nlp = blank_english()
    nlp.max_length = MAX_DOCUMENT_CHARS  # the readers refuse a longer text; _make_doc checks what others pass
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("medkg_clinical_sentences")
    if "abbreviations" not in without:
        nlp.add_pipe("medkg_abbreviation_detector")
    if "ner" not in without:
        nlp.add_pipe("medkg_lexicon_tags", config={"lexicon_path": str(lexicon_path)})
        nlp.add_pipe("ner", source=ner_model(ner_dir))
        ner: Any = nlp.get_pipe("ner")  # spaCy's EntityRecognizer
        use_blas(ner.model)
    nlp.add_pipe("medkg_mentions", config={"lexicon_path": str(lexicon_path), "dictionary": "dictionary" not in without,
                                           "approximate": "tfidf" not in without,
                                           "dictionary_fills_ner_groups": dictionary_fills_ner_groups,
                                           "priors_dir": "" if {"ner", "priors"} & without else str(ner_dir)})
    if "salts" not in without:
        nlp.add_pipe("medkg_salts", config={"lexicon_path": str(lexicon_path)})
    if "abbreviations" not in without:
        nlp.add_pipe("medkg_abbreviations", config={"lexicon_path": str(lexicon_path)})
    if "composites" not in without:
        nlp.add_pipe("medkg_composites", config={"lexicon_path": str(lexicon_path)})
    if "context" not in without:
        nlp.add_pipe("medkg_context")
    if "relations" not in without:
        nlp.add_pipe("medkg_relations", config={"model_dir": str(relations_dir or "")})
    return nlp


class Extractor:
    """Document -> chunks -> mentions -> entities and relations (one ``ChunkGraph`` per chunk)."""

    def __init__(self, lexicon_path: Path, max_chunk_chars: int = 600, without: frozenset[str] = frozenset(),
                 **pipeline_options: Any) -> None:
        self.nlp = make_pipeline(lexicon_path, without, **pipeline_options)
        finder: Any = self.nlp.get_pipe("medkg_mentions")  # a MentionFinder
        self.lexicon: Lexicon = finder.lexicon
        self.max_chunk_chars = max_chunk_chars

    def mentions(self, text: str) -> list[Mention]:
        """Linked mentions of any text (a question, a sentence), with negation flags."""
        return self.mentions_many([text])[0]

    def mentions_many(self, texts: list[str], batch_size: int = 32, clinical: bool = False) -> list[list[Mention]]:
        """``mentions`` of several texts, run as batches (faster for the NER model); no relations.

        ``clinical``: read the texts as clinical reports (tier 1) are read (:mod:`medkg.pipelines.text.sections`).
        """
        made = (self._clinical(self.nlp.make_doc(t), t, clinical) for t in texts)
        docs = list(self._pipe(made, clinical, batch_size, skip=("medkg_relations",)))
        return [[m for ent in doc.ents for m in self._coded(self._mention(ent, 0, text), clinical)]
                for text, doc in zip(texts, docs)]

    def extract(self, document: Document) -> list[ChunkGraph]:
        return self.extract_many([document])[0]

    def extract_many(self, documents: list[Document], batch_size: int = 32) -> list[list[ChunkGraph]]:
        """``extract`` over several documents; the NER model runs them as batches, which is faster.
        Reports (tier 1) and the others run as two groups (see :data:`REPORT_SKIPS`); the order is kept."""
        out: list[list[ChunkGraph]] = [[] for _ in documents]
        for clinical in (False, True):
            group = [i for i, d in enumerate(documents) if (d.tier == TIER_REPORT) == clinical]
            docs = self._pipe((self._make_doc(documents[i]) for i in group), clinical, batch_size)
            for i, doc in zip(group, docs):
                out[i] = self._graphs(documents[i], doc)
        return out

    def _pipe(self, docs: Iterable[Doc], clinical: bool, batch_size: int, skip: tuple[str, ...] = ()
              ) -> Iterator[Doc]:
        """The pipeline over ``docs``, without the steps in ``skip`` and, for clinical text, without
        :data:`REPORT_SKIPS`."""
        off = [p for p in (*skip, *(REPORT_SKIPS if clinical else ())) if p in self.nlp.pipe_names]
        if not off:
            yield from self.nlp.pipe(docs, batch_size=batch_size)
            return
        with self.nlp.select_pipes(disable=off):
            yield from self.nlp.pipe(docs, batch_size=batch_size)

    def _make_doc(self, document: Document) -> Doc:
        """The tokenised document, told where its title ends (the relation model reads the title apart)."""
        if len(document.text) > self.nlp.max_length:
            raise InputError(f"{document.source or 'input'}: document {document.id} is {len(document.text):,} "
                             f"characters long, over the limit of {self.nlp.max_length:,}; split it into parts")
        doc = self._clinical(self.nlp.make_doc(document.text), document.text, document.tier == TIER_REPORT,
                             document.sections)
        doc._.title_end = next((s.end for s in document.sections if s.label.upper() == "TITLE" and s.start == 0), 0)
        return doc

    @staticmethod
    def _clinical(doc: Doc, text: str, clinical: bool, sections: tuple[Section, ...] = ()) -> Doc:
        """Mark a report's document as clinical, with its sections (found in the text when the reader gave none);
        the text is remembered, so no step joins the tokens again."""
        remember_text(doc, text)
        if clinical:
            doc._.clinical = True
            doc._.sections = sections or report_sections(text)
        return doc

    def _graphs(self, document: Document, doc: Doc) -> list[ChunkGraph]:
        sentences = split_sentences(document.text, [s.start_char for s in doc.sents])
        sent_starts = [s for s, _ in sentences]
        chunks = chunk_document(document, sentences, self.max_chunk_chars)
        chunk_starts = [c.start for c in chunks]
        per_chunk: list[dict[str, Entity]] = [{} for _ in chunks]
        for ent in doc.ents:
            start, end = ent._.char_span
            k = bisect_right(chunk_starts, start) - 1
            if k < 0 or end > chunks[k].end:
                continue  # a mention across a chunk boundary (cannot happen with sentence chunks)
            entities, chunk = per_chunk[k], chunks[k]
            mention = self._mention(ent, max(bisect_right(sent_starts, start) - 1, 0), document.text)
            for m in self._coded(mention, doc._.clinical):
                key = m.link.concept_id
                if key not in entities:
                    entities[key] = Entity(id=f"{chunk.id}/e{len(entities)}", chunk_id=chunk.id, tier=chunk.tier,
                                           name=self.lexicon.concepts[key][0], semantic_group=m.semantic_group,
                                           link=m.link)
                entities[key].mentions.append(m)
        graphs = []
        for chunk, entities in zip(chunks, per_chunk):
            ent_list = list(entities.values())
            graphs.append(ChunkGraph(chunk=chunk, entities=ent_list,
                                     relations=cooccurrence_relations(ent_list, sentences)))
        typed_relations(graphs, doc._.relations or [])
        return graphs

    def _coded(self, mention: Mention, clinical: bool) -> list[Mention]:
        """The mention, and in a clinical document the same words linked to the broader descriptor coders file
        its concept under, where one was learned (:mod:`medkg.pipelines.linking.coded_as`)."""
        broader = self.lexicon.coded_as.get(mention.link.concept_id) if clinical else None
        if broader is None:
            return [mention]
        link = Link(concept_id=broader, score=mention.link.score, method="coded-as",
                    alternatives=(mention.link.concept_id,))
        return [mention, replace(mention, link=link, semantic_group=self.lexicon.concepts[broader][1])]

    @staticmethod
    def _mention(ent: Span, sentence: int, text: str) -> Mention:
        # the document's own text: Doc.text re-joins every token on each call
        u = ent._  # each ``ent._`` builds a new accessor: once per mention, not six times
        start, end = u.char_span
        link: Link = u.link
        return Mention(start=start, end=end, text=text[start:end], link=link, semantic_group=ent.label_,
                       sentence=sentence, negated=bool(u.negated), uncertain=bool(u.uncertain),
                       historical=bool(u.historical), family=bool(u.family))
