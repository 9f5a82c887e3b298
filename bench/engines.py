"""Extraction engines side by side: the local process pool against Ray on this machine.

The same inputs (the real abstracts of ../shared/data, repeated with new ids
beyond 2,192, as in bench/build.py) are built twice into fresh graphs, once
with ``--engine local`` and once with ``--engine ray`` (a local Ray cluster
started by the build, one worker per core), each build in a child process.
On two cores this measures the engine's overhead, not a speed-up: Ray's
processes, one model load per worker instead of one per pool process plus the
parent's embedder, and shards through the file system. Both builds must end
with the same ledger (checked).

Per size: whole-build documents/s, the extract+embed stage's documents/s, and
the ratio ray/local. Prints a table and writes ``bench/results/engines.json``.

    python bench/engines.py --sizes 1000:all-MiniLM-L6-v2,10000:static-MiniLM-L6-v2 --workdir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import write_corpus  # the same corpus as bench/build.py

MODELS_DIR = Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else None
RESULTS = Path(__file__).resolve().parent / "results" / "engines.json"


def child(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs")
    ap.add_argument("graph")
    ap.add_argument("--engine", default="local")
    ap.add_argument("--embedder")
    a = ap.parse_args(argv)
    from medkg.pipelines.build import build_graph

    t0 = time.perf_counter()
    r = build_graph([Path(a.inputs)], Path(a.graph), embedder=a.embedder, models_dir=MODELS_DIR, engine=a.engine)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "processed": r.processed,
                      "stages": r.stage_seconds, "counts": r.counts}))


def run_child(args: list[str]) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    if res.returncode != 0:
        raise SystemExit(f"child failed: {res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def ledger_state(graph: Path) -> str:
    from medkg.kg.ledger import Ledger

    with Ledger(graph / "ledger.sqlite") as ledger:
        return ledger.state()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000:all-MiniLM-L6-v2,10000:static-MiniLM-L6-v2",
                    help="SIZE:EMBEDDER pairs, comma-separated")
    ap.add_argument("--workdir", type=Path, help="default: a temporary directory, removed at the end")
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="medkg-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for spec in a.sizes.split(","):
        size_s, embedder = spec.split(":")
        size = int(size_s)
        inputs = work / f"corpus-{size}.jsonl"
        corpus = write_corpus(size, inputs)
        row: dict = {"documents": size, "embedder": embedder, "corpus": corpus}
        for engine in ("local", "ray"):
            graph = work / f"g{size}-{embedder}-{engine}"
            r = run_child([str(inputs), str(graph), "--engine", engine, "--embedder", embedder])
            extract = r["stages"].get("extract+embed", 0.0)
            row[engine] = {"seconds": r["seconds"], "docs_per_s": round(r["processed"] / r["seconds"], 2),
                           "extract_seconds": extract,
                           "extract_docs_per_s": round(r["processed"] / extract, 2) if extract else None,
                           "stages": r["stages"]}
            print(f"{size} {embedder} {engine}: {r['seconds']} s", file=sys.stderr)
        row["same_ledger"] = ledger_state(work / f"g{size}-{embedder}-local") == \
            ledger_state(work / f"g{size}-{embedder}-ray")
        row["ratio_ray_local"] = round(row["ray"]["docs_per_s"] / row["local"]["docs_per_s"], 3)
        row["ratio_extract_ray_local"] = round(row["ray"]["extract_docs_per_s"] / row["local"]["extract_docs_per_s"], 3)
        rows.append(row)
    out = {"cpus": os.cpu_count(), "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    print("| documents | embedder | local docs/s (extract+embed) | ray docs/s (extract+embed) | ray/local "
          "| same ledger |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        lo, ra = r["local"], r["ray"]
        print(f"| {r['documents']:,} | {r['embedder']} | {lo['docs_per_s']} ({lo['extract_docs_per_s']}) | "
              f"{ra['docs_per_s']} ({ra['extract_docs_per_s']}) | {r['ratio_ray_local']} "
              f"({r['ratio_extract_ray_local']}) | {r['same_ledger']} |")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
