"""Clinical reports: disease findings against NLM's coded MeSH findings, report-aware reading vs. the old one.

On the IU chest X-ray development reports (``corpus/iu_xray/iu_reports_dev.csv``), each half by uid
(``tune``: the half the clinical rules were chosen on; ``check``: the half no choice was made on), side by side:

- ``as literature`` (the baseline: how tier 1 was read before report-aware extraction, and how abstracts still
  are): no sections, the literature's sentence splitter, mentions only where the NER model trained on
  abstracts vouches for them;
- ``report-aware``: what a build does with tier-1 documents now (sections, clinical sentences and ConText rules,
  every dictionary finding, the clinical lexicon).

Scores as ``medkg eval reports`` (recall, precision, F1, ``normal_fp``) and extraction throughput (reports/s,
best of ``--repeat`` runs). Prints a table and writes ``bench/results/reports.json``. Needs ``$MEDKG_DATA``
(default: ../shared/data) and a fresh install's bundled MeSH.

    .venv/bin/python bench/reports.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from medkg.evaluation import reports
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.reading.reports import read_csv_reports

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
IU = DATA / "corpus" / "iu_xray" / "iu_reports_dev.csv"
OUT = Path(__file__).resolve().parent / "results" / "reports.json"


def throughput(extractor: Extractor, texts: list[str], clinical: bool, repeat: int) -> float:
    """Reports per second of mention extraction (best of ``repeat``; the first run also warms the model)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        extractor.mentions_many(texts, clinical=clinical)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not IU.exists():
        print(f"{IU}: not found; set MEDKG_DATA to the shared data folder", file=sys.stderr)
        return 2
    vocab = load_vocabulary("mesh-bundled")
    texts = [d.text for d in read_csv_reports(IU)]
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="medkg-bench-") as tmp:
        lexicon_path = Path(tmp) / "lexicon.pkl"
        Lexicon.from_vocabulary(vocab).save(lexicon_path)
        extractor = Extractor(lexicon_path, without=frozenset({"relations"}))
        for name, clinical in (("as literature", False), ("report-aware", True)):
            row: dict = {}
            for part in ("tune", "check"):
                scored = reports.evaluate(IU, vocab, lambda t, c=clinical: extractor.mentions_many(t, clinical=c),
                                          part=part).to_dict()
                row[part] = {k: scored[k] for k in ("reports", "recall", "precision", "f1", "normal_fp")}
            row["reports_per_s"] = round(throughput(extractor, texts, clinical, args.repeat), 1)
            rows[name] = row
    base = rows["as literature"]["reports_per_s"]
    print(f"{len(texts)} IU development reports; tune/check halves by uid")
    print(f"{'reading':14s} {'part':6s} {'recall':>7s} {'prec.':>7s} {'f1':>7s} {'normal_fp':>9s} {'reports/s':>10s} "
          f"{'ratio':>6s}")
    for name, row in rows.items():
        for part in ("tune", "check"):
            m = row[part]
            print(f"{name:14s} {part:6s} {m['recall']:7.3f} {m['precision']:7.3f} {m['f1']:7.3f} "
                  f"{m['normal_fp']:9.3f} {row['reports_per_s']:10.1f} {row['reports_per_s'] / base:6.2f}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"dataset": str(IU.name), "baseline": "as literature", "results": rows}, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
