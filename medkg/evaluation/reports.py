"""``medkg eval reports``: the disease findings of clinical reports against coded MeSH findings.

The gold standard is the IU chest X-ray format: a CSV row per report whose
``MeSH`` column lists the findings NLM coded, ``heading/qualifier/...``
separated by ``;``, or ``normal`` for a report without a finding. Scored per
report, as a set of MeSH descriptors:

- *gold*: the report's headings that name a MeSH **disease** descriptor (a
  tree number under ``C``), by exact name or entry term, case-insensitively.
  Anatomy, devices and radiological signs ("Opacity", "Markings", "Lung")
  are not findings medkg is asked to name and take no part;
- *predicted*: the concepts of the report's mentions that are neither negated
  nor uncertain, counted only among the descriptors that occur in the gold of
  some report of the dataset (a concept the coders never used cannot be
  judged, so it is neither right nor wrong);
- ``normal_fp``: the share of reports coded ``normal`` with any predicted
  finding (a finding in a normal report is the error a clinician notices
  first).

Micro-averaged precision, recall and F1 over (report, descriptor) pairs.
Reports split into two *parts* by their ``uid`` (``tune``: ``uid // 4`` even,
``check``: odd) so that choices made while reading one part are checked on
the other.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import InputError
from medkg.evaluation.linking import Counts
from medkg.kg.records import Document, Mention
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.linking.report_names import CodedReport, stated
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.reading.reports import read_csv_reports

PARTS = ("all", "tune", "check")


@dataclass
class ReportsReport:
    """What ``medkg eval reports`` measured."""

    reports: int
    normal_reports: int
    counts: Counts = field(default_factory=Counts)
    normal_with_finding: int = 0
    per_descriptor: dict[str, Counts] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        scores = self.counts.scores()
        return {"reports": self.reports, "normal_reports": self.normal_reports,
                "recall": scores["recall"], "precision": scores["precision"], "f1": scores["f1"],
                "tp": scores["tp"], "fp": scores["fp"], "fn": scores["fn"],
                "normal_fp": round(self.normal_with_finding / self.normal_reports, 4) if self.normal_reports else 0.0,
                "docs_per_s": round(self.reports / self.seconds, 1) if self.seconds else 0.0,
                "descriptors": {name: c.scores() for name, c in sorted(
                    self.per_descriptor.items(), key=lambda kv: -(kv[1].tp + kv[1].fn))}}


def disease_names(vocab: Vocabulary) -> dict[str, str]:
    """Lower-cased name or entry term -> id of every MeSH disease descriptor (tree ``C``)."""
    out: dict[str, str] = {}
    for concept in vocab:
        if concept.vocab == "MESH" and any(t.startswith("C") for t in concept.tree_numbers):
            for term in (concept.name, *concept.synonyms):
                out.setdefault(term.strip().lower(), concept.id)
    return out


def read_gold(path: Path, names: dict[str, str]) -> tuple[dict[str, set[str]], set[str]]:
    """Document id -> gold descriptor ids, and the ids of the reports coded ``normal``.

    Document ids are those :func:`~medkg.pipelines.reading.read_csv_reports`
    gives the same rows, so predictions and gold meet by id.
    """
    rows = list(csv.DictReader(io.StringIO(read_text(path), newline="")))
    if not rows or "MeSH" not in rows[0] or "uid" not in rows[0]:
        raise InputError(f"{path}: not a coded-report CSV (needs the columns uid and MeSH, as the IU collection has)")
    gold: dict[str, set[str]] = {}
    normal: set[str] = set()
    for row in rows:
        doc_id = f"report:{path.stem}:{row['uid'].strip()}"
        headings = [h.split("/")[0].strip() for h in (row["MeSH"] or "").split(";") if h.strip()]
        if [h.lower() for h in headings] == ["normal"]:
            normal.add(doc_id)
        gold[doc_id] = {names[h.lower()] for h in headings if h.lower() in names}
    return gold, normal


def in_part(doc_id: str, part: str) -> bool:
    """Whether a report belongs to ``part`` (``all``, ``tune`` or ``check``), by its numeric uid."""
    if part == "all":
        return True
    uid = doc_id.rsplit(":", 1)[-1]
    if not uid.isdigit():
        raise InputError(f"{doc_id}: the parts need numeric uids")
    return (int(uid) // 4) % 2 == (0 if part == "tune" else 1)


def coded_reports(path: Path, vocab: Vocabulary, part: str = "all") -> list[CodedReport]:
    """The reports of ``path`` in ``part`` with their gold findings (what ``medkg train report-names`` reads)."""
    documents, gold, _ = _coded_documents(path, vocab, part)
    return [CodedReport(d.id, d.text, frozenset(gold[d.id])) for d in documents]


def _coded_documents(path: Path, vocab: Vocabulary, part: str, select: Callable[[str], bool] | None = None
                     ) -> tuple[list[Document], dict[str, set[str]], set[str]]:
    """The reports of ``path`` with text in ``part`` (and ``select``, by id), every report's gold, the normal ones."""
    if part not in PARTS:
        raise InputError(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    gold, normal = read_gold(path, disease_names(vocab))
    documents = [d for d in read_csv_reports(path)
                 if d.id in gold and in_part(d.id, part) and (select is None or select(d.id))]
    if not documents:
        raise InputError(f"{path}: no report with text in part {part!r}")
    return documents, gold, normal


def evaluate(path: Path, vocab: Vocabulary, mentions_many: Callable[[list[str]], list[list[Mention]]],
             part: str = "all", limit: int = 0, prepare: Callable[[Document], Document] | None = None,
             select: Callable[[str], bool] | None = None) -> ReportsReport:
    """Score the reports of ``path`` (``prepare`` may rewrite each document first, e.g. de-identify it;
    ``select`` keeps the reports of ``part`` whose id it accepts, e.g. one fold of a cross-validation)."""
    documents, gold, normal = _coded_documents(path, vocab, part, select)
    documents = documents[: limit or None]
    judged = set().union(*gold.values())
    start = time.perf_counter()
    texts = [(prepare(d) if prepare else d).text for d in documents]
    predicted = mentions_many(texts)
    report = ReportsReport(reports=len(documents), normal_reports=sum(d.id in normal for d in documents),
                           seconds=time.perf_counter() - start)
    for doc, mentions in zip(documents, predicted):
        found = stated(mentions) & judged
        expected = gold[doc.id]
        report.counts.tp += len(found & expected)
        report.counts.fp += len(found - expected)
        report.counts.fn += len(expected - found)
        report.normal_with_finding += doc.id in normal and bool(found)
        for cid in found | expected:
            c = report.per_descriptor.setdefault(_name(vocab, cid), Counts())
            c.tp += cid in found and cid in expected
            c.fp += cid in found and cid not in expected
            c.fn += cid in expected and cid not in found
    return report


def _name(vocab: Vocabulary, cid: str) -> str:
    concept = vocab.get(cid)
    return concept.name if concept else cid
