"""Choose one concept for a mention and keep the runners-up.

Three ways to a concept, tried in this order, each recorded as the link's
``method``:

1. **Exact** (``dictionary:preferred``/``synonym``/``acronym``): the mention's
   normal form is a term of the vocabulary. A term often names several concepts
   ("cold" the disease and the temperature, a drug's descriptor and its
   supplementary record); they are ranked by evidence available without a
   model: the semantic group the NER model gave the mention (a "Chemical"
   mention wants a CHEM concept), a match on the preferred name over a synonym,
   a MeSH descriptor over a supplementary record, then clinically central
   groups (disorders, chemicals, anatomy) over the rest.
2. **Approximate** (``tfidf``): no term spells the mention; the character
   3-gram TF-IDF neighbours (:mod:`medkg.pipelines.linking.candidates`) of the mention's
   group are ranked by cosine similarity, descriptors first among near-ties
   (within ``TIE``), and the best is taken when its similarity reaches
   ``threshold``. Below it the mention is left unlinked: a wrong concept id
   poisons the graph, a missing one only loses a mention. So is a mention whose
   best neighbour is a MeSH supplementary record: those records are single
   compounds and rare diseases, and a name merely spelt like one is nearly
   always another ("tolterodine" is not "5-hydroxymethyl tolterodine"; over the
   dev splits and training documents of BC5CDR and NCBI-disease 3 such links
   were right, 36 wrong and 27 spurious).
   Nor is one whose matched alias has a word the mention lacks ("renal
   impairment" is not "hearing impairment"). (:mod:`medkg.pipelines.linking.mentions`
   asks for no neighbours of a one-word span at all.)
3. **Abbreviation** (in :mod:`medkg.pipelines.abbreviations.resolver`): a short form
   takes the concept of the long form its document defines.

The score is the similarity (1.0 for a preferred-name match, 0.95 for a
synonym, times 0.9 when the surface form is ambiguous); ``alternatives`` holds
the next five candidates.
"""

from __future__ import annotations

from medkg.kg.records import Link
from medkg.ontologies.terms import normalise
from medkg.pipelines.linking.candidates import Candidate
from medkg.pipelines.linking.lexicon import Lexicon

GROUP_PRIORITY = {"DISO": 0, "CHEM": 1, "ANAT": 2, "PROC": 3, "PHYS": 4, "LIVB": 5}
APPROXIMATE_THRESHOLD = 0.8
TIE = 0.02
WORD_OVERLAP = 0.5  # share of letter 3-grams that makes two words one, misspelt
SUPPLEMENTARY = "MESH:C"  # MeSH supplementary concept records: never an approximate link


def _group(lexicon: Lexicon, cid: str) -> str:
    return lexicon.concepts.get(cid, ("", "UNKN", ()))[1]


def choose_link(candidates: tuple[tuple[str, bool], ...], lexicon: Lexicon, exact_case: bool,
                group: str | None = None, annotated: str | None = None, text: str | None = None) -> Link:
    """Rank ``(concept_id, preferred)`` candidates and return the best as a ``Link``.

    ``annotated`` is the concept an annotated corpus linked this text to
    (:meth:`Lexicon.annotated_choice`); it comes first when it fits the group.
    Next comes a concept whose preferred name is the mention's ``text`` as written (case aside): look-up
    keys fold plurals, so "phenylhydrazine" finds both the compound (a supplementary record named so) and
    the class Phenylhydrazines, and the one spelt like the text is meant (BC5CDR dev +0.0008, held-out tenth
    +0.001: "benzamide", "coumarin", "calcium phosphate", "propylene glycol").
    """

    def rank(c: tuple[str, bool]) -> tuple[int, int, int, int, int, int, str]:
        cid, preferred = c
        g = _group(lexicon, cid)
        named = text is not None and lexicon.concepts[cid][0].lower() == text.lower()
        return (0 if group is None or g == group else 1, 0 if cid == annotated else 1, 0 if named else 1,
                0 if preferred else 1, 0 if cid.startswith("MESH:D") else 1, GROUP_PRIORITY.get(g, 9), cid)

    ranked = sorted(candidates, key=rank)
    best, preferred = ranked[0]
    score = 1.0 if preferred or best == annotated else 0.95
    if len(ranked) > 1:
        score *= 0.9  # ambiguous surface form
    method = ("dictionary:annotated" if best == annotated else "dictionary:acronym" if exact_case
              else "dictionary:preferred" if preferred else "dictionary:synonym")
    return Link(concept_id=best, score=round(score, 3), method=method,
                alternatives=tuple(cid for cid, _ in ranked[1:6]))


def in_group(candidates: tuple[tuple[str, bool], ...], lexicon: Lexicon, group: str) -> bool:
    return any(_group(lexicon, cid) == group for cid, _ in candidates)


def approximate_link(candidates: list[Candidate], lexicon: Lexicon, group: str,
                     threshold: float = APPROXIMATE_THRESHOLD, text: str | None = None) -> Link | None:
    """The best TF-IDF candidate of ``group`` at or above ``threshold``, or None.

    With the mention's ``text``, the candidate's alias must also have each of its words in it (see
    :func:`_words_covered`).
    """
    fitting = [c for c in candidates if _group(lexicon, c.concept_id) == group]
    if not fitting or fitting[0].similarity < threshold:
        return None
    top = fitting[0].similarity
    ranked = sorted(fitting, key=lambda c: (c.similarity < top - TIE, not c.concept_id.startswith("MESH:D"),
                                            -c.similarity, c.concept_id))
    if ranked[0].concept_id.startswith(SUPPLEMENTARY):
        return None
    if text is not None and not _words_covered(ranked[0].alias, text):
        return None
    return Link(concept_id=ranked[0].concept_id, score=round(ranked[0].similarity, 3), method="tfidf",
                alternatives=tuple(c.concept_id for c in ranked[1:6]))


def _words_covered(alias: str, text: str) -> bool:
    """Whether every word of a candidate's alias has a counterpart in the mention.

    Character 3-grams reward the words two names share, so a name with one word swapped scores high: "renal
    impairment" reaches "hearing impairment" (Hearing Loss) at 0.91, "acute liver injury" Acute Kidney Injury.
    A counterpart is the same normalised word, one sharing its first four letters ("hepatic", "hepatitis"), or
    one with half its letter 3-grams in common (a misspelling). Mentions may carry words the alias lacks
    ("cerebral venous sinus thrombosis" for Sinus Thrombosis). On the dev splits this check raised F1 by 0.003
    (BC5CDR) and 0.005 (NCBI-disease), and by 0.003 and 0.002 on the held-out tenth of the training splits.
    """
    words = normalise(text).split()
    return all(any(_same_word(a, w) for w in words) for a in normalise(alias).split())


def _same_word(a: str, b: str) -> bool:
    if a == b or (len(a) >= 4 and len(b) >= 4 and a[:4] == b[:4]):
        return True
    ga, gb = _trigrams(a), _trigrams(b)
    return len(ga & gb) >= WORD_OVERLAP * len(ga | gb)


def _trigrams(word: str) -> set[str]:
    padded = f"#{word}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
