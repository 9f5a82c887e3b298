"""Report names: the thresholds of learning them, chosen by two-fold cross-validation inside the IU tune half.

The tune half of the IU development reports (``medkg eval reports --part tune``) is split in two by
``uid // 8``; names are learned on one fold and scored on the other, both ways, for each
(``min_support``, ``min_precision``), side by side with no learned names (the baseline). Then the chosen
setting is learned on the whole tune half and scored on the check half, which took no part in the choice.
Prints a table and writes ``bench/results/report_names_cv.json``. Needs ``$MEDKG_DATA`` (default:
../shared/data).

    .venv/bin/python bench/report_names_cv.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from medkg.evaluation import reports
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.linking.report_names import CodedReport, LearnConfig, keep
from medkg.pipelines.linking.report_names_training import ReportReader, judge_reports, tagger

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
IU = DATA / "corpus" / "iu_xray" / "iu_reports_dev.csv"
OUT = Path(__file__).resolve().parent / "results" / "report_names_cv.json"
SUPPORTS = (2, 3)
PRECISIONS = (0.5, 0.6, 0.7, 0.8)


def score(reader: ReportReader, docs: list[CodedReport], names: dict[str, str], judged: set[str],
          normal: set[str]) -> dict[str, float]:
    """``medkg eval reports``' figures of ``docs`` read with ``names``."""
    tp = fp = fn = nfp = 0
    for doc, mentions in zip(docs, reader.read([d.text for d in docs], names)):
        found = reports.findings(mentions) & judged
        tp, fp, fn = tp + len(found & doc.gold), fp + len(found - doc.gold), fn + len(doc.gold - found)
        nfp += doc.doc_id in normal and bool(found)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"recall": round(tp / (tp + fn), 4), "precision": round(tp / max(1, tp + fp), 4), "f1": round(f1, 4),
            "normal_fp": round(nfp / max(1, sum(d.doc_id in normal for d in docs)), 4), "names": len(names)}


def fold(doc: CodedReport) -> int:
    return (int(doc.doc_id.rsplit(":", 1)[1]) // 8) % 2


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    if not IU.exists():
        print(f"{IU}: not found; set MEDKG_DATA to the shared data folder", file=sys.stderr)
        return 2
    vocab = load_vocabulary("mesh-bundled")
    gold, normal = reports.read_gold(IU, reports.disease_names(vocab))
    judged = set().union(*gold.values())
    reader, nlp = ReportReader(vocab), tagger()
    tune, check = reports.coded_reports(IU, vocab, "tune"), reports.coded_reports(IU, vocab, "check")
    rows: dict[str, dict[str, float]] = {}
    folds = [[d for d in tune if fold(d) == f] for f in (0, 1)]
    for f, (train, test) in enumerate(((folds[0], folds[1]), (folds[1], folds[0]))):
        rows[f"fold {f}: no names"] = score(reader, test, {}, judged, normal)
        candidates = judge_reports(train, reader, nlp, LearnConfig())
        for support in SUPPORTS:
            for precision in PRECISIONS:
                cfg = replace(LearnConfig(), min_support=support, min_precision=precision)
                names = {n.key: n.concept_id for n in keep(candidates, cfg)}
                rows[f"fold {f}: support {support}, precision {precision}"] = score(reader, test, names, judged,
                                                                                   normal)
    chosen = LearnConfig()
    names = {n.key: n.concept_id for n in keep(judge_reports(tune, reader, nlp, chosen), chosen)}
    rows["check: no names"] = score(reader, check, {}, judged, normal)
    rows[f"check: tune names, support {chosen.min_support}, precision {chosen.min_precision}"] = score(
        reader, check, names, judged, normal)
    print(f"{'run':48s} {'recall':>7s} {'prec.':>7s} {'F1':>7s} {'nfp':>7s} {'names':>6s}")
    for name, r in rows.items():
        print(f"{name:48s} {r['recall']:7.3f} {r['precision']:7.3f} {r['f1']:7.3f} {r['normal_fp']:7.3f} "
              f"{r['names']:6d}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"rows": rows, "names": names}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
