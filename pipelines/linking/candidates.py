"""Approximate concept candidates: character 3-gram TF-IDF over every term of the vocabulary.

A mention the model finds but no vocabulary term spells exactly ("bupivicaine",
"ventricular tachyarrhythmias", "nephrotoxic") still shares most of its
character 3-grams with the right concept's terms. This is scispaCy's candidate
generator (char-3-gram TF-IDF, nearest neighbours by cosine): its
``KnowledgeBase`` and ``CandidateGenerator`` are used as they are, over an index
that this module builds, because scispaCy's own builder needs scipy < 1.11
(float16 sparse matrices) and so fails on Python 3.11.

The index covers the normalised term keys of the lexicon (the keys exact look-up
uses) of the semantic groups the NER model produces, and a query is normalised
the same way. It is built with the lexicon and pickled inside it: the TF-IDF
vectoriser, the term list, the sparse term vectors and the term -> concepts map.
The nmslib index itself is not picklable; it is rebuilt from the stored vectors
on first use (under a second for the bundled MeSH's 244k terms).

scispaCy builds an HNSW graph (two hours for UMLS on 60 threads, minutes here);
this builds nmslib's exact inverted index over the same sparse vectors, which
takes a second and answers a query in about 0.3 ms. That space reports negative
dot products as distances, and the vectors are L2-normalised, so the
``1 - distance`` that ``CandidateGenerator`` reports is ``1 + cosine``; the
cosine is recovered by subtracting 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nmslib
import numpy as np
from scipy import sparse
from scispacy.candidate_generation import CandidateGenerator
from scispacy.linking_utils import Entity, KnowledgeBase
from sklearn.feature_extraction.text import TfidfVectorizer

from medkg.ontologies.terms import normalise

if TYPE_CHECKING:
    from medkg.pipelines.linking.lexicon import Lexicon

log = logging.getLogger(__name__)

INDEXED_GROUPS = ("CHEM", "DISO")
MEMO_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A concept the TF-IDF index proposes for a span, with the alias it matched and its cosine."""

    concept_id: str
    similarity: float
    alias: str


@dataclass
class CandidateIndex:
    """The picklable parts of the index; ``generator`` is assembled on first use."""

    aliases: list[str]
    vectorizer: TfidfVectorizer
    vectors: sparse.csr_matrix
    kb: KnowledgeBase
    _generator: CandidateGenerator | None = field(default=None, repr=False)
    _memo: dict[tuple[str, int], list[Candidate]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, lexicon: Lexicon, groups: tuple[str, ...] = INDEXED_GROUPS) -> CandidateIndex:
        terms: dict[str, list[str]] = {}
        for key, cands in lexicon.entries.items():
            for cid, _ in cands:
                if lexicon.concepts[cid][1] in groups:
                    terms.setdefault(cid, []).append(key)
        kb = KnowledgeBase(Entity(concept_id=cid, canonical_name=keys[0], aliases=keys,
                                  types=[lexicon.concepts[cid][1]]) for cid, keys in terms.items())
        # CandidateGenerator reads only alias_to_cuis; the lexicon has the names (a fifth of the pickle)
        kb.cui_to_entity = {}
        aliases = sorted(kb.alias_to_cuis)
        # A real vocabulary drops its rarest 3-grams (as scispaCy does) and its commonest: the 2.6% that occur in
        # over 1% of the terms ("ine", "ate") carry little weight and most of the query time (posting lists of
        # tens of thousands); without them a query takes 0.3 ms instead of 2.4. A tiny vocabulary keeps them all.
        large = len(aliases) > 10_000
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=2 if large else 1,
                                     max_df=0.01 if large else 1.0, dtype=np.float32)
        vectors = vectorizer.fit_transform(aliases).tocsr()
        nonempty = np.asarray(vectors.getnnz(axis=1) > 0)  # nmslib fails on all-zero vectors
        aliases = [a for a, keep in zip(aliases, nonempty) if keep]
        log.info("TF-IDF candidates: %d terms of %d concepts, %d 3-grams", len(aliases), len(terms),
                 len(vectorizer.vocabulary_))
        return cls(aliases, vectorizer, vectors[nonempty], kb)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_generator"] = None
        state["_memo"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"_generator": None, "_memo": {}, **state})

    @property
    def generator(self) -> CandidateGenerator:
        if self._generator is None:
            index = nmslib.init(method="simple_invindx", space="negdotprod_sparse_fast",
                                data_type=nmslib.DataType.SPARSE_VECTOR)
            index.addDataPointBatch(self.vectors)
            index.createIndex({}, print_progress=False)
            self._generator = CandidateGenerator(ann_index=index, tfidf_vectorizer=self.vectorizer,
                                                 ann_concept_aliases_list=self.aliases, kb=self.kb)
        return self._generator

    def __call__(self, texts: list[str], k: int = 10) -> list[list[Candidate]]:
        """Per text, candidate concepts with their best term's cosine similarity, best first.

        Answers are remembered per normalised text and ``k`` (a corpus repeats its
        unknown names: an abstract uses its drug's misspelling ten times).
        """
        queries = [normalise(t) for t in texts]
        todo = sorted({q for q in queries if (q, k) not in self._memo})
        if todo:
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()
            for query, found in zip(todo, self.generator(todo, k)):
                cands = []
                for c in found:
                    best = int(np.argmax(c.similarities))
                    cands.append(Candidate(c.concept_id, round(float(c.similarities[best]) - 1.0, 4), c.aliases[best]))
                self._memo[(query, k)] = sorted(cands, key=lambda c: (-c.similarity, c.concept_id))
        return [list(self._memo[(q, k)]) for q in queries]
