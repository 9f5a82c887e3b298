"""Report names: the thresholds of learning them, chosen by two-fold cross-validation inside the IU tune half.

The tune half of the IU development reports (``medkg eval reports --part tune``) is split in two by
``uid // 8``; names are learned on one fold and scored on the other, both ways, for each
(``min_support``, ``min_precision``), side by side with no learned names (the baseline), and with the broader
descriptors the coders file concepts under (``coded as``, :mod:`medkg.pipelines.linking.coded_as`) learned on the
same fold with the same thresholds. Then the chosen
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
from medkg.pipelines.linking.coded_as import learn_coded_as
from medkg.pipelines.linking.report_names import LearnConfig, keep
from medkg.pipelines.linking.report_names_training import (
    ReportReader,
    coded_as_from_reports,
    judge_reports,
    tagger,
)

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
IU = DATA / "corpus" / "iu_xray" / "iu_reports_dev.csv"
OUT = Path(__file__).resolve().parent / "results" / "report_names_cv.json"
SUPPORTS = (2, 3)
PRECISIONS = (0.5, 0.6, 0.7, 0.8)


def score(reader: ReportReader, part: str, names: dict[str, str], fold_id: int | None = None,
          coded_as: dict[str, str] | None = None) -> dict[str, float]:
    """``medkg eval reports``' figures of ``part`` (one fold of it, when given) read with ``names`` (and the
    broader descriptors ``coded_as``)."""
    out = reports.evaluate(IU, reader.vocab, lambda texts: reader.read(texts, names, coded_as), part=part,
                           select=None if fold_id is None else lambda doc_id: fold(doc_id) == fold_id).to_dict()
    return {**{k: out[k] for k in ("recall", "precision", "f1", "normal_fp")}, "names": len(names),
            "coded_as": len(coded_as or {})}


def fold(doc_id: str) -> int:
    return (int(doc_id.rsplit(":", 1)[1]) // 8) % 2


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    if not IU.exists():
        print(f"{IU}: not found; set MEDKG_DATA to the shared data folder", file=sys.stderr)
        return 2
    vocab = load_vocabulary("mesh-bundled")
    reader, nlp = ReportReader(vocab), tagger()
    tune = reports.coded_reports(IU, vocab, "tune")
    rows: dict[str, dict[str, float]] = {}
    for test in (1, 0):  # learn on one fold, score the other
        f = 1 - test
        rows[f"fold {f}: no names"] = score(reader, "tune", {}, test)
        learn_on = [d for d in tune if fold(d.doc_id) == f]
        candidates = judge_reports(learn_on, reader, nlp, LearnConfig())
        found = reader.stated(learn_on)  # what the broader descriptors are learned from, whatever the thresholds
        for support in SUPPORTS:
            for precision in PRECISIONS:
                cfg = replace(LearnConfig(), min_support=support, min_precision=precision)
                names = {n.key: n.concept_id for n in keep(candidates, cfg)}
                rows[f"fold {f}: support {support}, precision {precision}"] = score(reader, "tune", names, test)
                coded_as = {p.concept_id: p.coded_as for p in learn_coded_as(learn_on, found, vocab.ancestors, cfg)}
                rows[f"fold {f}: support {support}, precision {precision}, coded as"] = score(
                    reader, "tune", names, test, coded_as)
    chosen = LearnConfig()
    names = {n.key: n.concept_id for n in keep(judge_reports(tune, reader, nlp, chosen), chosen)}
    coded_as = {p.concept_id: p.coded_as for p in coded_as_from_reports(tune, reader, chosen)}
    rows["check: no names"] = score(reader, "check", {})
    setting = f"support {chosen.min_support}, precision {chosen.min_precision}"
    rows[f"check: tune names, {setting}"] = score(reader, "check", names)
    rows[f"check: tune names and coded as, {setting}"] = score(reader, "check", names, None, coded_as)
    print(f"{'run':58s} {'recall':>7s} {'prec.':>7s} {'F1':>7s} {'nfp':>7s} {'names':>6s} {'coded':>6s}")
    for name, r in rows.items():
        print(f"{name:58s} {r['recall']:7.3f} {r['precision']:7.3f} {r['f1']:7.3f} {r['normal_fp']:7.3f} "
              f"{r['names']:6d} {r['coded_as']:6d}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"rows": rows, "names": names, "coded_as": coded_as}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
