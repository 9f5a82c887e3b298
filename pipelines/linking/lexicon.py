"""The term index behind dictionary-based mention finding.

Every preferred name and synonym of the vocabulary becomes a *key*: its
alphanumeric tokens, lower-cased and singularised, joined by spaces. The same
normalisation applied to running text turns matching into dictionary look-ups
of token n-grams, which covers the common surface variants at once: case
("Type 2 diabetes"), punctuation and hyphens ("beta-catenin" = "beta catenin")
and plurals ("tumours"). Short all-capital terms (``APC``, ``AIDS``) are kept
in a second, case-sensitive table so they do not fire on ordinary words.

MeSH's inverted entry terms ("Diabetes Mellitus, Type 2") rarely appear in
prose, but they cost nothing and the uninverted forms are usually synonyms.

Terms that would fire on everyday words are dropped: English stop words,
a short list of words MeSH treats as headings (``patients``, ``time``), and,
by default, concepts from MeSH branches that name study designs, places,
professions and publication types rather than medical things.

The index is built once per graph and pickled next to it, so that a question
can be read without re-reading the vocabulary.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

from medkg.errors import GraphCorruptError
from medkg.kg import pickles
from medkg.ontologies.terms import TOKEN_RE, Token, normalise, singular, tokens
from medkg.ontologies.vocabulary import ANNOTATED, Vocabulary
from medkg.pipelines.linking.candidates import CandidateIndex
from medkg.pipelines.linking.clinical import clinical_terms, predicative_pattern, predicative_terms
from medkg.pipelines.linking.report_names import REPORT_NAMES, ReportNames, report_names_fingerprint

__all__ = ["Lexicon", "Token", "normalise", "singular", "tokens"]

log = logging.getLogger(__name__)

MAX_TERM_TOKENS = 8
# what may stand between the words of one name in running text: a space, a hyphen, a comma, brackets...
_JOINER = re.compile(r"[\s\-/,'()\[\]+]{0,3}")
# MeSH branches that describe research, society or publications, not medicine.
EXCLUDED_MESH_BRANCHES = ("H", "I", "J", "K", "L", "M", "V", "Z", "N05", "N06", "E05", "G17")
GENERIC_TERMS = frozenset(
    ["patient", "patients", "human", "humans", "man", "men", "woman", "women", "male", "female", "adult", "adults",
     "child", "children", "infant", "aged", "age", "time", "times", "study", "studies", "method", "methods",
     "result", "results", "use", "uses", "role", "case", "cases", "group", "groups", "level", "levels", "rate",
     "rates", "risk", "type", "types", "control", "controls", "report", "reports", "data", "analysis", "disease",
     "diseases", "syndrome", "syndromes", "therapy", "therapeutics", "treatment", "outcome", "outcomes",
     "association", "population", "mass", "range", "lead", "set", "face", "hand", "hands", "power", "light",
     "process", "signs", "symptoms", "ii", "iii", "iv", "animal", "animals", "cell", "cells", "incidence",
     "prevalence", "health", "care", "family", "quality", "life", "work", "weight", "size", "change", "changes"]
)


# head words that MeSH names formally while prose uses everyday words, or the commonest kind: "prostate carcinoma"
# is Prostatic Neoplasms to both corpora wherever MeSH has no carcinoma of its own (NCBI-disease dev 0.773 ->
# 0.781, BC5CDR dev +0.0003)
HEAD_VARIANTS = {"neoplasm": ("tumor", "cancer", "carcinoma"), "neoplasms": ("tumors", "cancers", "carcinomas")}


@dataclass
class Lexicon:
    """Normalised term -> candidate concepts, plus what linking needs to know of each concept.

    ``entries`` values are tuples of ``(concept_id, preferred)``;
    ``concepts`` maps a concept id to ``(name, semantic_group, mesh_categories)``.
    """

    entries: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    acronyms: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    concepts: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    first_tokens: dict[str, int] = field(default_factory=dict)  # first token of a key -> most tokens of such keys
    version: str = ""
    candidates: CandidateIndex | None = None  # approximate (TF-IDF) candidates; None for an index without them
    # term key -> the concept an annotated corpus linked it to (``medkg vocab load pubtator``); outranks the rest
    annotated: dict[str, str] = field(default_factory=dict)
    # the vocabularies' own candidates where annotated names changed them (() where they added the key): what
    # ``find(..., vocabulary_only=True)`` sees
    vocabulary_entries: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    vocabulary_acronyms: dict[str, tuple[tuple[str, bool], ...]] = field(default_factory=dict)
    # the clinical lexicon (:mod:`medkg.pipelines.linking.clinical`), matched in reports only, and its keys that
    # are adjectives; None for an index built before it existed
    clinical: Lexicon | None = None
    clinical_adjectives: frozenset[str] = frozenset()
    clinical_predicates: dict[tuple[str, str], str] = field(default_factory=dict)  # (noun, participle) -> concept
    # concept -> the broader descriptor coders file it under, a second link in reports (:mod:`.coded_as`)
    coded_as: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_vocabulary(cls, vocab: Vocabulary, excluded_branches: tuple[str, ...] = EXCLUDED_MESH_BRANCHES,
                        approximate: bool = True, report_names: Path | Mapping[str, str] | None = REPORT_NAMES,
                        coded_as: Mapping[str, str] | None = None) -> Lexicon:
        """The lexicon of ``vocab``; ``report_names``: the clinical names learned from coded reports
        (:mod:`medkg.pipelines.linking.report_names`; a names file, a key -> concept mapping, or None);
        ``coded_as``: concept -> broader descriptor (:mod:`medkg.pipelines.linking.coded_as`), which a names file
        brings with it."""
        lex = cls(version="; ".join(f"{k}: {v}" for k, v in sorted(vocab.versions.items())))
        entries: dict[str, list[tuple[str, bool]]] = {}
        acronyms: dict[str, list[tuple[str, bool]]] = {}
        # the vocabularies' concepts, then those only an annotated corpus has (an OMIM disease, a retired MeSH
        # id) and the names annotated corpora add to the others: ``vocabulary_entries`` tells them apart
        concepts = sorted(vocab, key=lambda c: c.vocab.startswith(ANNOTATED))
        own_sizes: tuple[dict[str, int], dict[str, int]] | None = None
        for c in concepts:
            if own_sizes is None and c.vocab.startswith(ANNOTATED):
                own_sizes = ({k: len(v) for k, v in entries.items()}, {k: len(v) for k, v in acronyms.items()})
            if c.tree_numbers and all(t.startswith(excluded_branches) for t in c.tree_numbers):
                continue
            lex.concepts[c.id] = (c.name, vocab.semantic_group(c.id), vocab.categories(c.id))
            for i, term in enumerate((*c.terms, *vocab.crossref_names.get(c.id, ()))):
                _add_term(entries, acronyms, term, c.id, preferred=i == 0)
        if own_sizes is None:
            own_sizes = ({k: len(v) for k, v in entries.items()}, {k: len(v) for k, v in acronyms.items()})
        choices: dict[str, list[str]] = {}
        for cid, terms in vocab.annotated.items():
            if cid in lex.concepts:
                for term in terms:
                    for key in _add_term(entries, acronyms, term, cid, preferred=False, annotated=True):
                        choices.setdefault(key, []).append(cid)
        for key, cids in choices.items():
            own = entries.get(key, [])[: own_sizes[0].get(key, 0)] + acronyms.get(key, [])[: own_sizes[1].get(key, 0)]
            lex.annotated[key] = _agreed(cids, own)
        lex.entries = {k: tuple(v) for k, v in entries.items()}
        lex.acronyms = {k: tuple(v) for k, v in acronyms.items()}
        lex.vocabulary_entries = _vocabulary_only(lex.entries, own_sizes[0])
        lex.vocabulary_acronyms = _vocabulary_only(lex.acronyms, own_sizes[1])
        for key in (*lex.entries, *lex.acronyms):
            parts = key.split(" ")
            lex.first_tokens[parts[0]] = max(lex.first_tokens.get(parts[0], 0), len(parts))
        if isinstance(report_names, Path):
            lex.version += f"; report names: {report_names_fingerprint(report_names)}"
            learned = ReportNames.load(report_names)
            report_names = learned.mapping()
            coded_as = learned.coded_as_mapping() if coded_as is None else coded_as
        lex.coded_as = {cid: broader for cid, broader in (coded_as or {}).items()
                        if cid in lex.concepts and broader in lex.concepts}
        lex.clinical, lex.clinical_adjectives = _clinical_lexicon(vocab, lex, report_names or {})
        lex.clinical_predicates = {k: cid for k, cid in predicative_terms(vocab).items() if cid in lex.concepts}
        log.info("lexicon: %d keys, %d acronyms, %d concepts", len(lex.entries), len(lex.acronyms), len(lex.concepts))
        if approximate:
            lex.candidates = CandidateIndex.build(lex)
        return lex

    def annotated_choice(self, text: str) -> str | None:
        """The concept annotators linked this exact text to, if a loaded corpus says."""
        if not self.annotated:
            return None
        raw, key = _raw_and_key(text)
        return self.annotated.get(raw) or self.annotated.get(key)

    def lookup(self, text: str) -> tuple[tuple[tuple[str, bool], ...], bool] | None:
        """Exact look-up of a whole span: ``(candidates, exact_case)``, or None when no term spells it."""
        if len(TOKEN_RE.findall(text)) > MAX_TERM_TOKENS:
            return None
        raw, key = _raw_and_key(text)
        if raw in self.acronyms:
            return self.acronyms[raw], True
        cands = self.entries.get(key)
        return (cands, False) if cands else None

    def predicative_pattern(self) -> re.Pattern[str] | None:
        """The clinical predicative variants ("the heart is enlarged") as one pattern, compiled once per lexicon."""
        if "_predicative" not in vars(self):
            vars(self)["_predicative"] = predicative_pattern(self.clinical_predicates)
        return vars(self)["_predicative"]

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        try:
            with open(path, "rb") as f:
                lex = pickles.load(f)
        except FileNotFoundError as e:
            raise GraphCorruptError(f"{path}: the graph's term index is missing; rebuild the graph") from e
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
            raise GraphCorruptError(f"{path}: the graph's term index is damaged; rebuild the graph") from e
        if not isinstance(lex, cls):
            raise GraphCorruptError(f"{path}: not a medkg term index")
        if "annotated" not in vars(lex) or not isinstance(lex.first_tokens, dict):
            raise GraphCorruptError(f"{path}: a term index of an older medkg; the next 'medkg build' into this graph "
                                    "re-extracts its documents from the ledger and replaces it")
        for name in ("vocabulary_entries", "vocabulary_acronyms"):  # indexes built before they existed
            vars(lex).setdefault(name, {})
        vars(lex).setdefault("clinical", None)
        vars(lex).setdefault("clinical_adjectives", frozenset())
        vars(lex).setdefault("clinical_predicates", {})
        vars(lex).setdefault("coded_as", {})
        return lex

    def find(self, text: str, vocabulary_only: bool = False
             ) -> Iterator[tuple[int, int, tuple[tuple[str, bool], ...], bool]]:
        """Longest, leftmost, non-overlapping matches: ``(start, end, candidates, exact_case)``.

        ``vocabulary_only`` matches as if no annotated names were loaded (what the NER model's dictionary
        features were trained on).

        The hot loop of dictionary matching (every document, every token): plain lists rather than
        ``Token`` records, and each word's normal form from a cache, halve its time.
        """
        found = list(TOKEN_RE.finditer(text))
        raw = [m.group() for m in found]
        norm = [_normal_word(t) for t in raw]
        first, acronyms, entries = self.first_tokens, self.acronyms, self.entries
        own_acronyms, own_entries = (self.vocabulary_acronyms, self.vocabulary_entries) if vocabulary_only \
            else (_NOTHING, _NOTHING)
        count, i = len(raw), 0
        while i < count:
            longest = max(first.get(norm[i], 0), first.get(raw[i], 0))
            n = min(longest, count - i)
            while n:
                key = " ".join(raw[i : i + n])
                cands = own_acronyms.get(key, acronyms.get(key))
                exact_case = bool(cands)
                if not cands:
                    term = " ".join(norm[i : i + n])
                    cands = own_entries.get(term, entries.get(term))
                if cands and (n == 1 or _joined(text, found, i, n)):
                    yield found[i].start(), found[i + n - 1].end(), cands, exact_case
                    break
                n -= 1
            i += n or 1


_NOTHING: dict[str, tuple[tuple[str, bool], ...]] = {}


def _clinical_lexicon(vocab: Vocabulary, lex: Lexicon, report_names: Mapping[str, str]
                      ) -> tuple[Lexicon, frozenset[str]]:
    """The clinical terms of ``vocab`` and the names learned from coded reports as a lexicon of their own,
    sharing ``lex``'s concepts; a key the vocabulary or the clinical terms have keeps their meaning. A derived
    adjective the coded reports taught as a name ("atherosclerotic") names its finding before a disease noun
    too (:func:`~medkg.pipelines.linking.mentions._clinical_matches`)."""
    terms, adjectives = clinical_terms(vocab, set(lex.entries))
    entries: dict[str, tuple[tuple[str, bool], ...]] = {key: ((cid, False),) for key, cid in terms.items()
                                                       if cid in lex.concepts}
    for key, cid in report_names.items():
        if cid in lex.concepts and key not in lex.entries:
            entries.setdefault(key, ((cid, False),))
    first: dict[str, int] = {}
    for key in entries:
        parts = key.split(" ")
        first[parts[0]] = max(first.get(parts[0], 0), len(parts))
    return Lexicon(entries=entries, concepts=lex.concepts, first_tokens=first, version=lex.version), \
        frozenset(a for a in adjectives if a not in report_names)


def _agreed(chosen: list[str], own: list[tuple[str, bool]]) -> str:
    """The concept annotators linked a name to; where corpora disagree ("myalgia": Myalgia in BC5CDR,
    Musculoskeletal Pain in NCBI-disease), the one whose own term it is (its preferred name first)."""
    if len(set(chosen)) > 1:
        for want_preferred in (True, False):
            agreed = [cid for cid, preferred in own if cid in chosen and (preferred or not want_preferred)]
            if agreed:
                return agreed[0]
    return chosen[0]


def _vocabulary_only(table: dict[str, tuple[tuple[str, bool], ...]], own_sizes: dict[str, int]
                     ) -> dict[str, tuple[tuple[str, bool], ...]]:
    """The keys whose candidates annotated names extended (they come last), with the vocabularies' own."""
    return {k: v[: own_sizes.get(k, 0)] for k, v in table.items() if len(v) != own_sizes.get(k, 0)}


def _joined(text: str, found: list[re.Match[str]], i: int, n: int) -> bool:
    """Whether the ``n`` words from ``found[i]`` are one name: only joiners between them ("beta-catenin",
    "1,2-dimethyl", "Ca(2+)"), not a sentence's end ("myopathy. Myotonic") or an arrow ("A-->T", which
    "A-T", ataxia telangiectasia, would otherwise match)."""
    return all(_JOINER.fullmatch(text, found[j].end(), found[j + 1].start()) for j in range(i, i + n - 1))


@lru_cache(maxsize=200_000)
def _normal_word(word: str) -> str:
    return singular(word.lower())


def _raw_and_key(text: str) -> tuple[str, str]:
    """A span's case-sensitive form (the acronym table's key) and its normal form (the term table's key)."""
    toks = TOKEN_RE.findall(text)
    return " ".join(toks), " ".join(_normal_word(t) for t in toks)


def _add_term(entries: dict[str, list[tuple[str, bool]]], acronyms: dict[str, list[tuple[str, bool]]], term: str,
              cid: str, preferred: bool, annotated: bool = False) -> list[str]:
    """File a term of concept ``cid`` under its keys (once per concept and key); return the keys."""
    keys = []
    for table, key in _keys(term, annotated):
        bucket = (acronyms if table == "acronym" else entries).setdefault(key, [])
        if all(c != cid for c, _ in bucket):
            bucket.append((cid, preferred))
        keys.append(key)
    return keys


def _keys(term: str, annotated: bool = False) -> Iterator[tuple[str, str]]:
    """Table and key of a term; ``annotated`` terms (a corpus's own names) may be short mixed-case symbols."""
    toks = TOKEN_RE.findall(term)
    if not toks or len(toks) > MAX_TERM_TOKENS:
        return
    raw = " ".join(toks)
    if len(raw) <= 5 and raw.replace(" ", "").isupper() and any(ch.isalpha() for ch in raw):
        yield "acronym", raw  # APC, AIDS, HIV-1: case-sensitive only
        return
    if annotated and 2 <= len(raw) <= 3 and raw[0].isupper() and raw.isalpha():
        yield "acronym", raw  # element symbols an annotated corpus links: Na, Ca, Li
        return
    key = " ".join(singular(t.lower()) for t in toks)
    if len(key) < 3 or (len(toks) == 1 and (key in STOP_WORDS or key in GENERIC_TERMS or toks[0].lower()
                                            in GENERIC_TERMS)):
        return
    if key.isdigit():
        return
    yield "term", key
    head, sep, modifier = term.partition(", ")
    if sep and "," not in modifier and "," not in head:
        # MeSH inverts entry terms ("Diabetes Mellitus, Type 2"); prose writes "type 2 diabetes mellitus"
        yield "term", normalise(f"{modifier} {head}")
    last = toks[-1].lower()
    if len(toks) > 1 and last in HEAD_VARIANTS:
        head = " ".join(singular(t.lower()) for t in toks[:-1])
        for variant in HEAD_VARIANTS[last]:
            yield "term", f"{head} {singular(variant)}"


# loaded lexicons, shared by the pipelines of one process; keyed by the file's identity as well as its path,
# because a build replaces the lexicon at the same path when the vocabulary changes
_LOADED: dict[tuple[str, int, int, int], Lexicon] = {}


def cached_lexicon(path: str | Path) -> Lexicon:
    """``Lexicon.load`` once per file per process (pipelines and their components share it)."""
    try:
        st = Path(path).stat()
    except OSError as e:
        raise GraphCorruptError(f"{path}: the lexicon is missing ({e.strerror}); rebuild the graph") from e
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED.clear()  # one vocabulary at a time: a lexicon of a full MeSH is hundreds of MB in memory
        _LOADED[key] = Lexicon.load(Path(path))
    return _LOADED[key]
