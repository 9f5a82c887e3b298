"""Report names: the phrases the writers of clinical reports use for findings, learned from coded reports.

Radiologists name findings in words no vocabulary files them under: "osteopenia"
and "bone demineralization" for what MeSH calls Bone Diseases, Metabolic,
"eventration" for Diaphragmatic Eventration, "pleural fluid" for Pleural
Effusion. Where an institution's reports were coded with MeSH (the IU chest
X-ray collection was, by NLM), those codes teach the names:

1. *Propose.* Read each coded report with medkg as it stands; for every coded
   finding medkg did not find, each noun phrase of the report (one to
   :attr:`LearnConfig.max_words` words, adjectives and nouns ending in a noun,
   tagged by the ``en_core_web_sm`` model medkg installs for de-identification)
   is a candidate name of that finding, when it is proposed in at least
   :attr:`LearnConfig.min_support` reports. A phrase the lexicon already knows
   keeps its meaning; one ending in a word the vocabulary uses only as a
   modifier ("borderline") names nothing; a phrase proposed beside several
   findings is a candidate name of each (a phrase can stand beside a missed
   fracture as often as beside the missed effusion it names). A phrase that holds
   a disease name ("interstitial edema" holds "edema") may only name a concept
   of the same kind (one of its terms ends in the same word: Pulmonary Edema)
   that is not more general than the one it holds: a longer phrase that would
   win the span must say at least as much ("aortic vascular calcification" is
   not Bone Diseases, Metabolic, however often the two stand side by side, nor
   the more general Calcinosis). A derived adjective of a missed finding
   ("atherosclerotic") is a candidate too, in as many reports: the lexicon
   already knows it, but drops it before a disease noun, where it usually only
   describes the noun ("calcified granuloma" is a granuloma); as a learned name
   it is kept there ("atherosclerotic vascular calcification" states
   atherosclerosis as well).
2. *Judge.* Read the reports again with every candidate in the clinical
   lexicon, so each is matched and put through negation, uncertainty and the
   rest exactly as it would be in use, and count, per report, whether a
   positive, certain mention of the candidate names a coded finding of that
   report (right) or not (wrong).
3. *Keep* the names right in at least :attr:`LearnConfig.min_support` reports
   with a precision of at least :attr:`LearnConfig.min_precision`; of a phrase
   that passes for several findings, the one it is right for most often.

The bundled names (``bundled/report_names.json``) were learned from the tune
half of the IU development reports (``medkg eval reports --part tune``); the
two thresholds were chosen by two-fold cross-validation inside that half (the
folds split it by ``uid // 8``), the check half never took part
(``bench/report_names_cv.py`` reruns the choice). They are matched in clinical
documents only, like the rest of the clinical lexicon, so the literature tier
reads as before.

The same file holds the broader descriptors the coders file concepts under
(:mod:`.coded_as`, learned from the same reports). This module proposes and
judges; reading the reports with the extractor is
:mod:`.report_names_training`'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from spacy.lang.en.stop_words import STOP_WORDS

from medkg.errors import ModelNotFoundError, VocabularyError
from medkg.kg.records import Mention
from medkg.ontologies.terms import normalise

log = logging.getLogger(__name__)

REPORT_NAMES = Path(__file__).resolve().parent / "bundled" / "report_names.json"
FORMAT = 2  # 2: the broader descriptors coders file concepts under (coded_as)
READABLE_FORMATS = (1, 2)
PHRASE_POS = frozenset({"NOUN", "PROPN", "ADJ"})  # what a finding's name is made of
HEAD_POS = frozenset({"NOUN", "PROPN"})  # ... and what it ends in ("pleural fluid", not "healed")


@dataclass(frozen=True, slots=True)
class CodedReport:
    """A report's text and the concept ids of its coded findings."""

    doc_id: str
    text: str
    gold: frozenset[str]


@dataclass(slots=True)
class LearnConfig:
    min_support: int = 2  # chosen by two-fold cross-validation on the IU tune half (see the module docstring)
    min_precision: float = 0.7  # likewise (0.6-0.8 gave the same names there; 0.5 let wrong ones in)
    max_words: int = 3
    only_added: bool = False  # judge a name only where its concept was not found without it
    adjectives: bool = True  # derived adjectives are candidates too (kept before a disease noun once learned)
    alternatives: bool = True  # judge a phrase for every finding it was proposed for, not only the most frequent


@dataclass(frozen=True, slots=True)
class ReportName:
    """A learned name: its normalised key, the concept it names, and how it did on the coded reports."""

    key: str
    concept_id: str
    right: int
    wrong: int

    @property
    def precision(self) -> float:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else 0.0


@dataclass(frozen=True, slots=True)
class CodedAs:
    """A concept a coded collection files under a broader descriptor, and how the pair did on the coded reports."""

    concept_id: str
    coded_as: str
    right: int
    wrong: int

    @property
    def precision(self) -> float:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else 0.0


@dataclass(slots=True)
class ReportNames:
    """A learned set of names with what it was learned from."""

    names: list[ReportName] = field(default_factory=list)
    trained_on: dict[str, Any] = field(default_factory=dict)
    coded_as: list[CodedAs] = field(default_factory=list)  # :mod:`.coded_as`

    def mapping(self) -> dict[str, str]:
        return {n.key: n.concept_id for n in self.names}

    def coded_as_mapping(self) -> dict[str, str]:
        return {p.concept_id: p.coded_as for p in self.coded_as}

    def save(self, path: Path) -> None:
        data = {"format": FORMAT, "trained_on": self.trained_on,
                "names": [asdict(n) for n in sorted(self.names, key=lambda n: n.key)],
                "coded_as": [asdict(p) for p in sorted(self.coded_as, key=lambda p: p.concept_id)]}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = REPORT_NAMES) -> ReportNames:
        if not path.is_file():
            raise ModelNotFoundError(f"{path}: no report names file here; run 'medkg train report-names'")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") not in READABLE_FORMATS:
                raise VocabularyError(f"{path}: report names format {data.get('format')!r}, expected one of "
                                      f"{', '.join(map(str, READABLE_FORMATS))}")
            names = [ReportName(str(n["key"]), str(n["concept_id"]), int(n["right"]), int(n["wrong"]))
                     for n in data["names"]]
            coded_as = [CodedAs(str(p["concept_id"]), str(p["coded_as"]), int(p["right"]), int(p["wrong"]))
                        for p in data.get("coded_as", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise VocabularyError(f"{path}: not a report names file ({e})") from e
        return cls(names, data.get("trained_on", {}), coded_as)


def report_names_fingerprint(path: Path = REPORT_NAMES) -> str:
    """A hash of the names file (empty when there is none): builds re-extract when it changes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def stated(mentions: Iterable[Mention]) -> set[str]:
    """The concepts a report states: those of its mentions that are neither negated nor uncertain."""
    return {m.link.concept_id for m in mentions if not m.negated and not m.uncertain}


def noun_phrases(texts: Iterable[str], nlp: Any, max_words: int = 3) -> list[set[str]]:
    """Normalised keys of each text's noun phrases: runs of adjectives and nouns ending in a noun."""
    out = []
    for doc in nlp.pipe(texts, batch_size=64):
        words = [(t.idx, t.idx + len(t.text), t.pos_, t.text.lower()) for t in doc]
        keys: set[str] = set()
        for i in range(len(words)):
            for n in range(1, max_words + 1):
                run = words[i : i + n]
                if len(run) < n or any(p not in PHRASE_POS or not _content(w) for _, _, p, w in run):
                    break
                if run[-1][2] in HEAD_POS:
                    keys.add(normalise(doc.text[run[0][0] : run[-1][1]]))
        out.append(keys)
    return out


def _content(word: str) -> bool:
    return word.isalpha() and word not in STOP_WORDS and word != "xxxx"  # IU's mark of a removed identifier


def term_words(term: str) -> list[str]:
    """A term's normalised words in reading order ("Fractures, Bone" -> bone, fracture)."""
    head, sep, modifier = term.partition(", ")
    return normalise(f"{modifier} {head}" if sep and "," not in modifier else term).split(" ")


def modifier_words(terms: Iterable[str]) -> set[str]:
    """Words the vocabulary's terms use only in front of another word, never as a term's last (its head):
    "borderline" (Borderline Personality Disorder), "pleural". A phrase ending in one modifies a name rather
    than being one, however often it stands beside a finding ("heart size is borderline")."""
    heads: set[str] = set()
    inner: set[str] = set()
    for term in terms:
        words = term_words(term)
        heads.add(words[-1])
        inner.update(words[:-1])
    return inner - heads


def propose(reports: Sequence[CodedReport], phrases: Sequence[set[str]], found: Sequence[set[str]],
            known: Container[str], min_reports: int = 1, modifiers: Container[str] = frozenset(),
            allowed: Callable[[str, str], bool] | None = None) -> dict[str, str]:
    """Candidate key -> the coded finding it co-occurs with most often where medkg missed that finding (the
    first of :func:`pairings`)."""
    return {key: cids[0] for key, cids in pairings(reports, phrases, found, known, min_reports, modifiers,
                                                   allowed).items()}


def pairings(reports: Sequence[CodedReport], phrases: Sequence[set[str]], found: Sequence[set[str]],
             known: Container[str], min_reports: int = 1, modifiers: Container[str] = frozenset(),
             allowed: Callable[[str, str], bool] | None = None) -> dict[str, list[str]]:
    """Candidate key -> the coded findings it co-occurs with where medkg missed them, most often first (each
    in at least ``min_reports`` reports: a phrase seen beside a missed finding once is noise, and every
    candidate takes part in the second reading, where a longer one would take a span from a shorter).
    ``allowed(key, concept)`` may rule a pairing out (:meth:`~.report_names_training.ReportReader.refines`)."""
    seen: Counter[tuple[str, str]] = Counter()
    for report, keys, got in zip(reports, phrases, found):
        for missed in report.gold - got:
            seen.update((key, missed) for key in keys if key not in known and key.rsplit(" ", 1)[-1] not in modifiers)
    out: dict[str, list[str]] = {}
    for (key, cid), n in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0])):
        if n >= min_reports and (allowed is None or allowed(key, cid)):
            out.setdefault(key, []).append(cid)
    return out


def adjective_candidates(reports: Sequence[CodedReport], found: Sequence[set[str]], adjectives: Mapping[str, str],
                         min_reports: int = 1) -> dict[str, str]:
    """Derived adjective -> its concept, where that concept is a coded finding medkg missed in at least
    ``min_reports`` reports that hold the adjective (``adjectives``: every derived adjective with its concept)."""
    seen: Counter[str] = Counter()
    for report, got in zip(reports, found):
        missed = report.gold - got
        if missed:
            seen.update(a for a in set(normalise(report.text).split(" ")) if adjectives.get(a) in missed)
    return {a: adjectives[a] for a, n in seen.items() if n >= min_reports}


def judge(reports: Sequence[CodedReport], mentions: Sequence[list[Mention]], candidates: Mapping[str, str],
          found: Sequence[set[str]] | None = None) -> dict[str, tuple[int, int]]:
    """Candidate key -> (reports where a positive, certain mention of it is coded, reports where not).

    With ``found`` (what each report gave without the candidates), only what a name *adds* counts: a report
    where its concept was found without it is left out (tried, not chosen: see :class:`LearnConfig`).
    """
    counts = judge_pairings(reports, mentions, {k: [cid] for k, cid in candidates.items()}, found)
    return {key: v for (key, _), v in counts.items()}


def judge_pairings(reports: Sequence[CodedReport], mentions: Sequence[list[Mention]],
                   candidates: Mapping[str, Sequence[str]], found: Sequence[set[str]] | None = None
                   ) -> dict[tuple[str, str], tuple[int, int]]:
    """:func:`judge` for every concept a key was proposed for: the mentions were read with the first, and
    each positive, certain one counts for every concept, right where that concept is coded. A finding's
    negation and certainty are the words around it, whichever finding the name is read as."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for report, mms, got in zip(reports, mentions, found or [set()] * len(reports)):
        done: set[str] = set()
        for m in mms:
            key = normalise(m.text)
            cids = candidates.get(key)
            if key in done or not cids or cids[0] != m.link.concept_id or m.negated or m.uncertain:
                continue
            done.add(key)
            for cid in cids:
                if cid not in got:
                    counts[key, cid][0 if cid in report.gold else 1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def judged(reports: Sequence[CodedReport], extract: Callable[[Mapping[str, str]], list[list[Mention]]],
           nlp: Any, known: Container[str], config: LearnConfig, modifiers: Container[str] = frozenset(),
           allowed: Callable[[str, str], bool] | None = None, adjectives: Mapping[str, str] | None = None
           ) -> list[ReportName]:
    """Every candidate pairing of a name and a concept with its counts (steps 1 and 2), before the thresholds."""
    found = [stated(mms) for mms in extract({})]
    phrases = noun_phrases((r.text for r in reports), nlp, config.max_words)
    candidates = pairings(reports, phrases, found, known, config.min_support, modifiers, allowed)
    if not config.alternatives:
        candidates = {key: cids[:1] for key, cids in candidates.items()}
    if config.adjectives and adjectives:
        candidates.update({a: [cid] for a, cid in adjective_candidates(reports, found, adjectives,
                                                                          config.min_support).items()})
    read = extract({key: cids[0] for key, cids in candidates.items()})
    counts = judge_pairings(reports, read, candidates, found if config.only_added else None)
    log.info("report names: %d candidates, %d pairings matched positively", len(candidates), len(counts))
    # in the order proposed: a tie in step 3 goes to the finding the phrase stood beside most often
    return [ReportName(key, cid, *counts[key, cid]) for key in sorted(candidates) for cid in candidates[key]
            if (key, cid) in counts]


def keep(names: Iterable[ReportName], config: LearnConfig) -> list[ReportName]:
    """The names right in at least ``min_support`` reports with at least ``min_precision`` (step 3); of a
    name judged for several concepts, the one it is right for most often (then the more precise)."""
    return best_passing(names, lambda n: n.key, config)


Judged = TypeVar("Judged", ReportName, CodedAs)


def best_passing(items: Iterable[Judged], group: Callable[[Judged], str], config: LearnConfig) -> list[Judged]:
    """Of the items right in at least ``min_support`` reports with at least ``min_precision``, the one of
    each ``group`` right most often (then the more precise), in the order their groups first passed."""
    best: dict[str, Judged] = {}
    for item in items:
        if item.right < config.min_support or item.precision < config.min_precision:
            continue
        k = group(item)
        if k not in best or (item.right, item.precision) > (best[k].right, best[k].precision):
            best[k] = item
    return list(best.values())
