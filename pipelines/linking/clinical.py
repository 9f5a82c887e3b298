"""The clinical lexicon: the names clinicians write for diseases that vocabularies spell otherwise.

MeSH names a finding the way an indexer files it ("Calcinosis", entry term
"Calcification, Pathologic"; "Fractures, Bone"; "Atherosclerosis"), while a
radiologist writes "calcification", "calcified lymph nodes", "rib fracture",
"fractured", "atherosclerotic aorta", "scarring". Two general mechanisms derive
those names from the vocabulary itself, for the concepts of MeSH's disease
tree (``C``), without looking at any report:

1. *Head generalisation.* A head word that many disease terms share and no
   term spells alone ("fracture": bone, rib, hip, skull fracture;
   "calcification": pathologic, vascular calcification) names the concept
   that subsumes (by tree number) the most of the concepts named by a
   two-word term "<modifier> <head>", when one subsumes at least
   :data:`MIN_SUBSUMED` and a share :data:`COVERAGE` of them and no other as
   many: "fracture" is Fractures, Bone (rib, hip, skull fracture...) and
   "calcification" Calcinosis (pathologic, vascular, cutaneous calcification);
   "effusion" (pleural, pericardial, subdural) and "loss" (hearing, weight,
   blood loss) subsume under nothing and stay unlinked. Only uninverted
   terms count, and never a generic head ("disease", "symptom").
2. *Derivational morphology.* English forms adjectives and participles from
   disease nouns by a handful of suffix rules: -osis/-otic (atherosclerotic,
   scoliotic), -asis/-atic, -ia/-ic (osteopenic, ischemic), -ema/-ematous
   (emphysematous), -itis/-itic, -ification/-ified, -ific (calcified,
   calcific), -ation/-ated (herniated), and -ed/-ing of a noun (scarred,
   scarring, fractured). Each form of a single-word disease term (or of a
   generalised head) names that term's concept.

3. *Predicative variants.* A term "<participle> <noun>" ("Enlarged Heart",
   "Dilated Aorta") is also written as a clause: "the heart is enlarged",
   "heart size is borderline enlarged", "heart size borderline enlarged"
   (:func:`predicative_terms`).

Directional prefixes form words of their own ("dextroscoliosis",
"levoscoliosis"): each single-word disease term with ``dextro``/``levo`` in
front names the same concept.

A derived *adjective* is a finding only where it does not modify a disease
mention: "atherosclerotic aorta" and "calcified lymph nodes" state
atherosclerosis and calcinosis, but "calcified granuloma" is one finding, a
granuloma, that the adjective describes (see
:func:`medkg.pipelines.linking.mentions.MentionFinder`). The clinical terms are
matched in clinical documents (tier 1) only, so the literature tier reads as
before.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable

from spacy.lang.en.stop_words import STOP_WORDS

from medkg.ontologies.terms import TOKEN_RE, singular
from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)

COVERAGE = 0.6  # a head names the concept that subsumes at least this share of the concepts whose terms end in it
MIN_SUBSUMED = 3  # ... and at least this many of them (itself included), more than any other concept does
# (noun suffix, adjective suffix): the derivations English uses for disease words
SUFFIXES = (("ification", "ified"), ("ification", "ific"), ("osis", "otic"), ("asis", "atic"), ("ation", "ated"),
            ("itis", "itic"), ("ema", "ematous"), ("ia", "ic"))
_VOWELS = set("aeiou")


def derived_forms(word: str) -> list[str]:
    """Adjectives and participles of a lower-cased disease noun ("scar" -> "scarred", "scarring")."""
    out = [word[: -len(noun)] + adj for noun, adj in SUFFIXES if word.endswith(noun) and len(word) > len(noun) + 2]
    if not out and word.isalpha() and len(word) >= 3 and word[-1] not in _VOWELS - {"e"} and word[-1] not in "sy":
        stem = word[:-1] if word.endswith("e") else word
        if len(word) <= 4 and word[-1] not in _VOWELS and word[-2] in _VOWELS and word[-3] not in _VOWELS:
            stem = word + word[-1]  # scar -> scarr-ed: a short consonant-vowel-consonant word doubles its end
        out += [stem + "ed", stem + "ing"]
    return out


def _subsumes(ancestor: tuple[str, ...], concept: tuple[str, ...]) -> bool:
    return any(t == a or t.startswith(a + ".") for a in ancestor for t in concept)


def _disease_terms(vocab: Vocabulary) -> Iterable[tuple[str, tuple[str, ...], list[list[str]]]]:
    """``(concept id, disease tree numbers, lower-cased token lists of its terms)`` of every disease concept."""
    for c in vocab:
        trees = tuple(t for t in c.tree_numbers if t.startswith("C"))
        if not trees:
            continue
        terms = []
        for term in c.terms:
            head, sep, modifier = term.partition(", ")
            if sep and "," in modifier:
                continue
            toks = [t.lower() for t in TOKEN_RE.findall(f"{modifier} {head}" if sep else term)]
            if toks:
                terms.append(toks)
        yield c.id, trees, terms


# everyday or generic nouns that head disease terms without naming one disease ("weight", "block", "instability")
GENERIC_TERMS = frozenset(singular(w) for w in (
    "disease", "disorder", "syndrome", "symptom", "sign", "condition", "abnormality", "abnormalities",
    "complication", "finding", "lesion", "injury", "injuries", "defect", "deficiency", "failure", "weight", "block",
    "instability", "dependence", "development", "loss", "migration", "error", "wound", "abortion"))


def general_heads(vocab: Vocabulary, known: set[str]) -> dict[str, str]:
    """Head word (singular) -> the concept it names by head generalisation (see the module docstring).

    ``known``: normalised keys the lexicon already has; a head that is a term of its own keeps its meaning.
    """
    by_head: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for cid, trees, terms in _disease_terms(vocab):
        for toks in terms:
            if len(toks) == 2 and toks[-1].isalpha() and len(toks[-1]) > 3:
                by_head[singular(toks[-1])][cid] = trees
    out: dict[str, str] = {}
    for head, concepts in by_head.items():
        if head in known or head in GENERIC_TERMS or head in STOP_WORDS or len(concepts) < MIN_SUBSUMED:
            continue
        ranked = sorted(((sum(_subsumes(trees, t) for t in concepts.values()), cid) for cid, trees in
                         concepts.items()), reverse=True)
        (best_n, best), second_n = ranked[0], ranked[1][0]
        if best_n >= max(MIN_SUBSUMED, COVERAGE * len(concepts)) and best_n > second_n:
            out[head] = best
    return out


def clinical_terms(vocab: Vocabulary, known: set[str]) -> tuple[dict[str, str], set[str]]:
    """Normalised clinical key -> concept id, and the keys that are adjectives (modifiers of what follows).

    Keys the lexicon already has are left out: the vocabulary's own terms always win.
    """
    nouns: dict[str, str] = general_heads(vocab, known)
    for cid, _, terms in _disease_terms(vocab):
        for toks in terms:
            if len(toks) == 1 and toks[0].isalpha():
                nouns.setdefault(singular(toks[0]), cid)
    terms_out: dict[str, str] = {h: cid for h, cid in nouns.items() if h not in known}
    for noun, cid in list(nouns.items()):
        for prefix in DIRECTIONAL_PREFIXES:
            terms_out.setdefault(prefix + noun, cid)
    adjectives: set[str] = set()
    for noun, cid in nouns.items():
        for form in derived_forms(noun):
            key = singular(form)
            if key not in known and key not in terms_out and not _ambiguous(key):
                terms_out[key] = cid
                adjectives.add(key)
    log.info("clinical lexicon: %d terms (%d derived adjectives and participles)", len(terms_out), len(adjectives))
    return terms_out, adjectives


DIRECTIONAL_PREFIXES = ("dextro", "levo")


def predicative_terms(vocab: Vocabulary) -> dict[tuple[str, str], str]:
    """``(noun, participle)`` -> concept for two-word disease terms "<participle> <noun>" ("enlarged heart")."""
    out: dict[tuple[str, str], str] = {}
    for cid, _, terms in _disease_terms(vocab):
        for toks in terms:
            if len(toks) == 2 and toks[0].endswith("ed") and len(toks[0]) > 4 and toks[1].isalpha():
                out.setdefault((toks[1], toks[0]), cid)
    return out


def predicative_pattern(terms: dict[tuple[str, str], str]) -> re.Pattern[str] | None:
    """One regular expression for every predicative variant: "the heart is (mildly) enlarged"."""
    if not terms:
        return None
    nouns = "|".join(sorted({re.escape(n) for n, _ in terms}, key=len, reverse=True))
    adjectives = "|".join(sorted({re.escape(a) for _, a in terms}, key=len, reverse=True))
    return re.compile(rf"\b(?P<noun>{nouns})s?(?:\s+size)?\s+(?:(?:is|are|appears?|remains?|seems?|looks?)\s+)?"
                      rf"(?:(?:\w+ly|borderline|slightly|somewhat)\s+)?(?P<adj>{adjectives})\b", re.IGNORECASE)


_FUNCTION_WORDS = re.compile(r"^(?:being|thing|nothing|something|during|using|having|including|following)$")


def _ambiguous(key: str) -> bool:
    """Derived forms that are everyday words ("thing", "during") rather than a disease's adjective."""
    return _FUNCTION_WORDS.match(key) is not None or len(key) < 5
