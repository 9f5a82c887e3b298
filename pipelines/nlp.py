"""The spaCy pipeline and the extractor that turns a document into meta-graphs.

Pipeline (all registered spaCy components, so they run, serialise and test
like any other): ``sentencizer`` -> scispaCy's ``abbreviation_detector`` ->
``medkg_dictionary`` (mentions from the vocabulary, linked) ->
``medkg_abbreviations`` (short forms take their long form's concept) ->
``medkg_context`` (negation, uncertainty, history, family history).

The tokenizer is spaCy's English one from a blank pipeline: the statistical
``en_core_web_sm`` knows no biomedical entity types and would only slow the
build; the trained biomedical NER comes with the vocabulary issue.
"""

from __future__ import annotations

import logging
import warnings
from bisect import bisect_right
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)

from medkg.errors import MedKGError
from medkg.pipelines import abbreviations as _abbreviations  # noqa: F401  (registers medkg_abbreviations)
from medkg.pipelines import context as _context  # noqa: F401  (registers medkg_context)
from medkg.pipelines.chunking import chunk_document, split_sentences
from medkg.pipelines.lexicon import Lexicon
from medkg.pipelines.linking import choose_link
from medkg.pipelines.records import ChunkGraph, Document, Entity, Link, Mention
from medkg.pipelines.relations import cooccurrence_relations

log = logging.getLogger(__name__)

# scispaCy's detector runs an empty matcher on every document without an abbreviation; spaCy warns each time
warnings.filterwarnings("ignore", message=r"\[W036\] The component 'matcher'", category=UserWarning)

if not Span.has_extension("link"):
    Span.set_extension("link", default=None)
    Span.set_extension("char_span", default=None)


class DictionaryMatcher:
    """spaCy component: vocabulary mentions as ``doc.ents`` with ``span._.link``."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for start, end, cands, exact in self.lexicon.find(doc.text):
            link = choose_link(cands, self.lexicon, exact)
            span = doc.char_span(start, end, label=self.lexicon.concepts[link.concept_id][1],
                                 alignment_mode="expand")
            if span is None:
                continue
            span._.link = link
            span._.char_span = (start, end)
            spans.append(span)
        doc.ents = filter_spans(spans)
        return doc


# loaded lexicons, shared by the pipelines of one process; keyed by the file's identity as well as its path,
# because a build replaces the lexicon at the same path when the vocabulary changes
_LEXICONS: dict[tuple[str, int, int, int], Lexicon] = {}


@Language.factory("medkg_dictionary", default_config={"lexicon_path": ""})
def make_dictionary(nlp: Language, name: str, lexicon_path: str) -> DictionaryMatcher:
    try:
        st = Path(lexicon_path).stat()
    except OSError as e:
        raise MedKGError(f"{lexicon_path}: the lexicon is missing ({e.strerror}); rebuild the graph") from e
    key = (lexicon_path, st.st_ino, st.st_mtime_ns, st.st_size)
    if key not in _LEXICONS:
        _LEXICONS.clear()  # one vocabulary at a time: a lexicon of a full MeSH is hundreds of MB in memory
        _LEXICONS[key] = Lexicon.load(Path(lexicon_path))
    return DictionaryMatcher(_LEXICONS[key])


OPTIONAL_STEPS = ("abbreviations", "context")


def make_pipeline(lexicon_path: Path, without: frozenset[str] = frozenset()) -> Language:
    """The extraction pipeline; ``without`` switches optional steps off (for ablations)."""
    unknown = set(without) - set(OPTIONAL_STEPS)
    if unknown:
        raise MedKGError(f"unknown pipeline steps {sorted(unknown)}; optional: {', '.join(OPTIONAL_STEPS)}")
    nlp = spacy.blank("en")
    nlp.max_length = 5_000_000
    nlp.add_pipe("sentencizer")
    if "abbreviations" not in without:
        nlp.add_pipe("abbreviation_detector")
    nlp.add_pipe("medkg_dictionary", config={"lexicon_path": str(lexicon_path)})
    if "abbreviations" not in without:
        nlp.add_pipe("medkg_abbreviations")
    if "context" not in without:
        nlp.add_pipe("medkg_context")
    return nlp


class Extractor:
    """Document -> chunks -> mentions -> entities and relations (one ``ChunkGraph`` per chunk)."""

    def __init__(self, lexicon_path: Path, max_chunk_chars: int = 600, without: frozenset[str] = frozenset()) -> None:
        self.nlp = make_pipeline(lexicon_path, without)
        self.lexicon: Lexicon = self.nlp.get_pipe("medkg_dictionary").lexicon
        self.max_chunk_chars = max_chunk_chars

    def mentions(self, text: str) -> list[Mention]:
        """Linked mentions of any text (a question, a sentence), with negation flags."""
        doc = self.nlp(text)
        return [self._mention(ent, 0, text) for ent in doc.ents]

    def extract(self, document: Document) -> list[ChunkGraph]:
        doc = self.nlp(document.text)
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
            m = self._mention(ent, max(bisect_right(sent_starts, start) - 1, 0), document.text)
            entities, chunk = per_chunk[k], chunks[k]
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
        return graphs

    @staticmethod
    def _mention(ent: Span, sentence: int, text: str) -> Mention:
        # the document's own text: Doc.text re-joins every token on each call
        start, end = ent._.char_span
        link: Link = ent._.link
        return Mention(start=start, end=end, text=text[start:end], link=link, semantic_group=ent.label_,
                       sentence=sentence, negated=bool(ent._.negated), uncertain=bool(ent._.uncertain),
                       historical=bool(ent._.historical), family=bool(ent._.family))
