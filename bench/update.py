"""Single-document updates of a large graph: a patched view (MERGE) against a full view rebuild.

On two copies of a built graph (``bench/build.py --workdir DIR`` leaves one;
e.g. 10,000 abstracts), the same three operations run in turn:

1. add one abstract (a real one from ../shared/data, under a new id),
2. change one stored abstract (its text replaced by another real abstract's),
3. delete the abstract added in 1,

on one copy as ``medkg build`` / ``medkg delete`` do by default (the view is
patched) and on the other with ``full=True`` (the view is rebuilt from the
ledger, as every change was before patching existed). The vocabulary is
loaded once and passed in, so the times are the update itself: reading the
inputs, extraction and embedding of the one document, and the view.
After each operation both copies must hold the same documents, chunks,
entities, concepts and edges (topic summaries aside: a patch places new chunks,
a rebuild re-clusters).

Prints a table and writes ``bench/results/update.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MODELS_DIR = Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else None  # the static embedder
SOURCE = "qa/pubmedqa/pqal_dev.json"
COMPARED = ("Document", "Chunk", "Entity", "Concept", "MENTIONS", "RELATED", "IS_A", "REFERENCES", "BROADER",
            "MAPS_TO", "HAS_CHUNK", "NEXT", "SUMMARIZES")


def _abstracts(n: int) -> list:
    from medkg.pipelines.reading import read_pubmedqa

    path = DATA / SOURCE
    if not path.exists():
        sys.exit(f"bench/update.py: {path} not found (set MEDKG_DATA to the shared data directory)")
    return [d for _, d in zip(range(n), read_pubmedqa(path))]


def _write(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def _operations(graph: Path, work: Path) -> list[tuple[str, object]]:
    """(name, input file or ids to delete) for the three operations."""
    from medkg.kg.ledger import Ledger

    new, other = _abstracts(2)
    with Ledger(graph / "ledger.sqlite") as ledger:
        stored = sorted(ledger.known())[len(ledger) // 2]
        doc = next(ledger.records([stored])).document
    added = {"id": "PMID:bench-update-1", "text": new.text, "title": new.title, "tier": 2}
    changed = {"id": doc.id, "text": other.text, "title": other.title, "tier": doc.tier, "pmid": doc.pmid}
    return [("add 1 abstract", _write(work / "add.jsonl", [added])),
            ("change 1 abstract", _write(work / "change.jsonl", [changed])),
            ("delete 1 abstract", [added["id"]])]


def _run(op: object, graph: Path, vocab, full: bool) -> dict:
    from medkg.pipelines.build import build_graph, delete_documents

    t0 = time.perf_counter()
    if isinstance(op, list):
        _, report = delete_documents(op, graph, vocabulary=vocab, full=full)
    else:
        report = build_graph([op], graph, vocabulary=vocab, models_dir=MODELS_DIR, full=full)
    return {"seconds": round(time.perf_counter() - t0, 2), "patched": report.view_patched,
            "stages": report.stage_seconds, "counts": report.counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("graph", type=Path, help="a built graph (it is copied, never changed)")
    ap.add_argument("--workdir", type=Path, help="where the two copies go (default: a temporary directory)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "update.json")
    args = ap.parse_args()

    from medkg.ontologies.vocabulary import load_vocabulary

    work = Path(tempfile.mkdtemp(prefix="medkg-update-", dir=args.workdir))
    try:
        copies = {"patch": work / "patch", "full": work / "full"}
        for path in copies.values():
            shutil.copytree(args.graph, path)
        documents = json.loads((args.graph / "manifest.json").read_text())["documents"]
        vocab = load_vocabulary("mesh-bundled")
        rows = []
        for name, op in _operations(args.graph, work):
            res = {mode: _run(op, path, vocab, full=(mode == "full")) for mode, path in copies.items()}
            same = all(res["patch"]["counts"][t] == res["full"]["counts"][t] for t in COMPARED)
            rows.append({"operation": name, "patch": res["patch"], "full": res["full"], "same_graph": same,
                         "speed-up": round(res["full"]["seconds"] / res["patch"]["seconds"], 1)})
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nsingle-document updates of a {documents:,}-document graph (vocabulary preloaded)\n")
    print(f"{'operation':<20} {'patched view':>13} {'full rebuild':>13} {'speed-up':>9}  same graph  patch stages")
    for r in rows:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["patch"]["stages"].items() if k != "vocabulary")
        print(f"{r['operation']:<20} {r['patch']['seconds']:>11.1f} s {r['full']['seconds']:>11.1f} s "
              f"{r['speed-up']:>8.1f}x  {str(r['same_graph']):<10}  {stages}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"graph_documents": documents, "rows": rows}, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
