"""Coded as: the broader descriptor a collection's coders file a finding under, learned from coded reports.

A coded collection names findings at a level of its own. NLM's coders of the
IU chest X-rays file a "rib fracture" under Fractures, Bone, although MeSH has
Rib Fractures, which is what medkg links the words to, and rightly so. The
report names (:mod:`.report_names`) cannot teach this: a phrase the lexicon
knows keeps its meaning, and "rib fracture" means Rib Fractures. What the
codes teach is a second, broader link of the same words:

1. *Propose* a pair (concept, broader descriptor) where a report states the
   concept (a positive, certain mention) and is coded with one of the
   concept's ancestors (by MeSH tree number) that medkg did not find, in at
   least :attr:`~.report_names.LearnConfig.min_support` reports.
2. *Judge* each pair over every report that states the concept: right where
   the broader descriptor is coded, wrong where not.
3. *Keep* the pairs with the report names' thresholds (support and precision);
   of a concept with several, the one right most often.

Only ancestors are proposed, so a kept pair is never false of the text (a rib
fracture *is* a fracture of a bone); the codes decide only whether the
collection says so. In a clinical document each mention of a kept concept
gets a second mention over the same span, with the same context flags, linked
to the broader descriptor with the method ``coded-as`` (the mention's own link
stays as it was). Learned on the IU tune half beside the report names and
bundled in the same file; chosen by the same two-fold cross-validation inside
that half (``bench/report_names_cv.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from medkg.pipelines.linking.report_names import CodedAs, CodedReport, LearnConfig, best_passing


def propose_coded_as(reports: Sequence[CodedReport], found: Sequence[set[str]],
                     ancestors: Callable[[str], set[str]], min_reports: int = 1) -> set[tuple[str, str]]:
    """``(concept, broader)`` pairs: a coded finding medkg missed that is an ancestor of a concept the report
    states, in at least ``min_reports`` reports (``found``: what each report states, positive and certain)."""
    seen: Counter[tuple[str, str]] = Counter()
    for report, got in zip(reports, found):
        missed = report.gold - got
        if missed:
            seen.update((cid, broader) for cid in got for broader in missed & ancestors(cid))
    return {pair for pair, n in seen.items() if n >= min_reports}


def judge_coded_as(reports: Sequence[CodedReport], found: Sequence[set[str]], pairs: Iterable[tuple[str, str]]
                   ) -> list[CodedAs]:
    """Each pair with the reports that state its concept and are coded with its broader descriptor (right),
    and those that state it and are not (wrong)."""
    out = []
    for cid, broader in sorted(pairs):
        stated = [report for report, got in zip(reports, found) if cid in got]
        right = sum(broader in report.gold for report in stated)
        out.append(CodedAs(cid, broader, right, len(stated) - right))
    return out


def keep_coded_as(pairs: Iterable[CodedAs], config: LearnConfig) -> list[CodedAs]:
    """The pairs right in at least ``min_support`` reports at ``min_precision``; one per concept, the one
    right most often (then the more precise)."""
    return sorted(best_passing(pairs, lambda p: p.concept_id, config), key=lambda p: p.concept_id)


def learn_coded_as(reports: Sequence[CodedReport], found: Sequence[set[str]], ancestors: Callable[[str], set[str]],
                   config: LearnConfig) -> list[CodedAs]:
    """Steps 1 to 3 over reports read without learned names (``found``)."""
    pairs = propose_coded_as(reports, found, ancestors, config.min_support)
    return keep_coded_as(judge_coded_as(reports, found, pairs), config)
