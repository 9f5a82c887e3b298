"""De-identification of clinical reports: recall per identifier type, its speed, and what it costs extraction.

On the test set of ``bench/deid_data.py`` (MTSamples and IU report text with invented identifiers inserted at
known offsets; made on the fly under /tmp when ``--testset`` is missing), on the ``heldout`` split (odd rows,
with names, places and sentence templates the ``tune`` split, where the recognisers were chosen, never had):

- *recall* per identifier type: the share of inserted identifiers whose every character (spaces and
  punctuation aside) ends up inside some replaced span, whatever type it was given (what matters for privacy),
  and the share replaced under their own type;
- *precision* per type: the share of replaced spans of that type that touch an inserted identifier. A lower
  bound: MTSamples still holds identifiers of its own (``Dr. Tandoc``, ``Greenwich``) that count against it;
- documents/s and characters/s of ``Deidentifier.deidentify`` (analyzer loaded beforehand);
- what it changes in the 952 IU development reports with text, as they are (no identifier inserted): every
  replacement there is a false positive, and could cost extraction a finding; and its speed on these short
  reports;
- the extraction F1 on the IU development reports with and without de-identification (``medkg eval reports
  --dataset ... --json [--deidentify]``, run as subprocesses; ``--skip-f1`` leaves this out, it takes minutes).

Prints a table and writes ``bench/results/deid.json``.

    .venv/bin/python bench/deid.py [--testset FILE.jsonl] [--split heldout] [--limit N] [--skip-f1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import deid_data  # the generator beside this script (its folder is first on sys.path when run as a script)

from medkg.kg.records import TIER_REPORT, Document
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.deid import Deidentifier, VocabularyTerms
from medkg.pipelines.deid.recognizers import analyzer

IU_DEV = deid_data.IU
SECRET = b"bench-deid"  # a fixed key: the same shifts on every run


def load_testset(path: Path, split: str, limit: int) -> list[dict]:
    if not path.exists():
        print(f"{path} is missing; generating it (bench/deid_data.py)", file=sys.stderr)
        deid_data.main([str(path)])
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if split == "all" or r["split"] == split][: limit or None]


def _covered(spans: list[tuple[int, int]], length: int) -> bytearray:
    mask = bytearray(length)
    for s, e in spans:
        mask[s:e] = b"\x01" * (e - s)
    return mask


def score(records: list[dict], deid: Deidentifier) -> dict:
    """Per type: gold spans, covered by any replacement, by one of the same type; replacements, true ones.

    Replacements are the edits made (a date the model saw but that names no calendar day is not one)."""
    counts: dict[str, Counter[str]] = {}
    for r in records:
        text = r["text"]
        spans = deid.edits(text, f"report:{r['id']}")
        any_mask = _covered([(s.start, s.end) for s in spans], len(text))
        for g in r["spans"]:
            c = counts.setdefault(g["type"], Counter())
            c["gold"] += 1
            inside = [i for i in range(g["start"], g["end"]) if not (text[i].isspace() or text[i] in ",.")]
            c["covered"] += all(any_mask[i] for i in inside)
            same = _covered([(s.start, s.end) for s in spans if s.type == g["type"]], len(text))
            c["covered_same_type"] += all(same[i] for i in inside)
        for s in spans:
            c = counts.setdefault(s.type, Counter())
            c["replaced"] += 1
            c["replaced_true"] += any(g["start"] < s.end and s.start < g["end"] for g in r["spans"])
    return {t: dict(c) for t, c in sorted(counts.items())}


def speed(records: list[dict], deid: Deidentifier) -> tuple[float, float, int, int]:
    """Seconds one at a time (``Deidentifier.deidentify``) and in batches (``deidentify_many``, as a build
    reads reports), reports and characters, over (up to 200 of) ``records``."""
    docs = [Document(id=f"report:{r['id']}", text=r["text"], tier=TIER_REPORT, kind="report") for r in records[:200]]
    t0 = time.perf_counter()
    for doc in docs:
        deid.deidentify(doc)
    t1 = time.perf_counter()
    deid.deidentify_many(docs)
    return t1 - t0, time.perf_counter() - t1, len(docs), sum(len(d.text) for d in docs)


def iu_changes(deid: Deidentifier) -> dict:
    """What de-identification replaces in the IU development reports as they are (no identifier inserted)."""
    import csv

    with IU_DEV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    changed: Counter[str] = Counter()
    docs: list[Document] = []
    seconds = 0.0
    for row in rows:
        text = "\n".join(f"{k.upper()}: {row[k]}" for k in ("indication", "comparison", "findings", "impression")
                         if (row.get(k) or "").strip())
        if not text:
            continue
        docs.append(Document(id=f"iu:{row['uid']}", text=text, tier=TIER_REPORT, kind="report"))
        t0 = time.perf_counter()
        _, report = deid.deidentify(docs[-1])
        seconds += time.perf_counter() - t0
        changed.update(report.counts)
    t0 = time.perf_counter()
    deid.deidentify_many(docs)
    batched = time.perf_counter() - t0
    return {"reports": len(docs), "replacements": dict(sorted(changed.items())), "total": sum(changed.values()),
            "docs_per_s": round(len(docs) / seconds, 1), "docs_per_s_batched": round(len(docs) / batched, 1)}


def eval_reports(dataset: Path, deidentify: bool) -> dict | None:
    """``medkg eval reports --dataset ... --json [--deidentify]`` in a subprocess; None when it fails."""
    cmd = [sys.executable, "-m", "medkg", "eval", "reports", "--dataset", str(dataset), "--json"]
    done = subprocess.run(cmd + (["--deidentify"] if deidentify else []), capture_output=True, text=True)
    if done.returncode != 0:
        print(f"medkg eval reports{' --deidentify' if deidentify else ''} failed (exit {done.returncode}): "
              f"{done.stderr.strip().splitlines()[-1:] or ''}", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--testset", type=Path, default=deid_data.DEFAULT_OUT)
    ap.add_argument("--split", choices=("heldout", "tune", "all"), default="heldout")
    ap.add_argument("--limit", type=int, default=0, help="only the first N reports of the split")
    ap.add_argument("--skip-f1", action="store_true", help="leave out the extraction F1 runs (minutes)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "deid.json")
    args = ap.parse_args()

    records = load_testset(args.testset, args.split, args.limit)
    t0 = time.perf_counter()
    analyzer()
    load_s = time.perf_counter() - t0
    deid = Deidentifier(SECRET, medical_terms=VocabularyTerms(load_vocabulary("mesh-bundled")))
    deid.deidentify(Document(id="warm-up", text="Seen by Dr. Smith on 03/14/2019 for asthma.", tier=TIER_REPORT))
    seconds, batched, timed, chars = speed(records, deid)
    per_type = score(records, deid)
    result: dict = {"testset": str(args.testset), "split": args.split, "reports": len(records),
                    "analyzer_load_s": round(load_s, 2), "docs_per_s": round(timed / seconds, 1),
                    "docs_per_s_batched": round(timed / batched, 1),
                    "chars_per_s": round(chars / seconds), "mean_chars": round(chars / timed), "types": {}}
    print(f"{args.split}: {len(records)} reports; analyzer loaded in {load_s:.1f} s; {result['docs_per_s']} "
          f"reports/s ({result['chars_per_s']} characters/s, {result['mean_chars']} characters a report); in "
          f"batches as a build reads them {result['docs_per_s_batched']} reports/s "
          f"({result['docs_per_s_batched'] / result['docs_per_s']:.2f}x)")
    print(f"{'type':10s} {'inserted':>8s} {'recall':>7s} {'same type':>9s} {'replaced':>8s} {'precision':>9s}")
    for t, c in per_type.items():
        gold, replaced = c.get("gold", 0), c.get("replaced", 0)
        row = {"inserted": gold, "recall": round(c.get("covered", 0) / gold, 4) if gold else None,
               "recall_same_type": round(c.get("covered_same_type", 0) / gold, 4) if gold else None,
               "replaced": replaced,
               "precision": round(c.get("replaced_true", 0) / replaced, 4) if replaced else None}
        result["types"][t] = row
        fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else "-"  # noqa: E731
        print(f"{t:10s} {gold:8d} {fmt(row['recall']):>7s} {fmt(row['recall_same_type']):>9s} {replaced:8d} "
              f"{fmt(row['precision']):>9s}")
    if IU_DEV.exists():
        result["iu_dev_as_is"] = iu_changes(deid)
        iu = result["iu_dev_as_is"]
        print(f"IU development reports as they are: {iu['total']} replacements in {iu['reports']} reports "
              f"{iu['replacements']}; {iu['docs_per_s']} reports/s, in batches {iu['docs_per_s_batched']}")
    if not args.skip_f1 and IU_DEV.exists():
        plain, deidentified = eval_reports(IU_DEV, False), eval_reports(IU_DEV, True)
        if plain and deidentified:
            result["extraction_f1"] = {"plain": plain["f1"], "deidentified": deidentified["f1"],
                                       "cost_points": round(100 * (plain["f1"] - deidentified["f1"]), 2)}
            print(f"extraction F1 on the IU development reports: {plain['f1']:.4f} as they are, "
                  f"{deidentified['f1']:.4f} de-identified ({result['extraction_f1']['cost_points']:+.2f} points)")
        else:
            result["extraction_f1"] = None
            print("extraction F1: not measured (medkg eval reports failed; see above)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
