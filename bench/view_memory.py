"""Peak memory and time of view assembly at 100k and 1M documents, and retrieval on the views it makes.

The views are built from ledgers made by replicating a built graph's ledger
(``--from GRAPH``, e.g. the 10k graph bench/build.py leaves) with new ids
(``PMID:123~v2``): extraction is not rerun, only the view (store rows and
``COPY``, BM25, vectors, topics and themes, the concept closure) is assembled,
as ``medkg build --full`` does. Each build runs in a child process, whose peak
RSS is its own.

``--baseline REF`` builds the same views with the code of a git revision (a
worktree of REF, imported instead of this checkout) side by side, for sizes
in ``--baseline-sizes`` (the in-memory assembly it replaced needs about 88 GB
at 1M, so by default only 100k).

Retrieval is measured on each view (p50/p95 of 20 PubMedQA dev questions); a view with an IVF index (a million
passages and more) is also measured against exact dense search on 100 questions, side by side: latency, and how
often both pack the same passages. ``--measure-only`` measures the views already in ``--workdir``.

Prints a table and writes ``bench/results/view_memory.json``.

    python bench/view_memory.py --from DIR/g10000-static-MiniLM-L6-v2 --baseline 29d81ff
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import DATA, MODELS_DIR, dir_mb, replicate_ledger, retrieval_latency

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "view_memory.json"
PACKAGES = {"kg": "kg", "pipelines": "pipelines", "queries": "queries", "ontologies": "ontologies"}


def child(graph: Path) -> None:
    """Rebuild ``graph``'s view in full from its ledger; print seconds, peak RSS and stage times as JSON."""
    from medkg.kg.ledger import Ledger
    from medkg.pipelines.build import build_graph

    with Ledger(graph / "ledger.sqlite") as ledger:
        doc = next(ledger.records()).document
    one = graph.parent / (graph.name + "-one.jsonl")  # a document the ledger holds: nothing to extract
    one.write_text(json.dumps({"id": doc.id, "text": doc.text, "tier": doc.tier, "title": doc.title,
                               "pmid": doc.pmid, "sections": [{"label": s.label, "start": s.start, "end": s.end}
                                                              for s in doc.sections]}) + "\n", encoding="utf-8")
    embedder = json.loads((graph / "source.json").read_text(encoding="utf-8"))["embedder"]
    t = time.perf_counter()
    r = build_graph([one], graph, embedder=embedder, full=True, workers=0)
    print(json.dumps({"seconds": round(time.perf_counter() - t, 1),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "stages": r.stage_seconds, "documents": r.documents, "counts": r.counts}))


def run_child(graph: Path, code: Path | None) -> dict:
    """The child with this checkout's code, or with the checkout at ``code`` imported instead of it."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    res = subprocess.run([sys.executable, __file__, "--child", str(graph)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"view build failed: {res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def baseline_code(ref: str, work: Path) -> Path:
    """A directory whose ``medkg`` package is revision ``ref``'s (its folders arranged as installed)."""
    tree = work / f"baseline-{ref}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref], check=True,
                       capture_output=True)
    code = work / f"baseline-{ref}-import"
    pkg = code / "medkg"
    if not pkg.exists():
        pkg.mkdir(parents=True)
        for entry in (tree / "medkg").iterdir():
            (pkg / entry.name).symlink_to(entry)
        for name, folder in PACKAGES.items():
            (pkg / name).symlink_to(tree / folder)
    return code


def ledger_of(size: int, source: Path, work: Path) -> Path:
    """A graph directory holding a ledger of ``size`` documents replicated from ``source`` (made once)."""
    graph = work / f"view{size}"
    done = graph / "source.json"
    if done.exists() and json.loads(done.read_text(encoding="utf-8"))["documents"] == size:
        return graph
    shutil.rmtree(graph, ignore_errors=True)
    graph.mkdir(parents=True)
    shutil.copy(source / "lexicon.pkl", graph / "lexicon.pkl")
    t = time.perf_counter()
    replicate_ledger(source / "ledger.sqlite", graph / "ledger.sqlite", size)
    embedder = json.loads((source / "manifest.json").read_text(encoding="utf-8"))["embedder"]
    done.write_text(json.dumps({"documents": size, "from": str(source), "embedder": embedder,
                                "seconds": round(time.perf_counter() - t, 1)}), encoding="utf-8")
    return graph


def fresh(graph: Path) -> None:
    """Only the ledger and lexicon: the next build assembles the view from nothing."""
    for p in graph.iterdir():
        if p.name.startswith("view-") or p.name == "manifest.json":
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def ivf_against_exact(graph: Path, questions: int = 100) -> dict | None:
    """Where the view has an IVF index: retrieval with it and with exact dense search, side by side on the
    same questions (PubMedQA dev), and how often both pack the same passages. Replicated documents are
    compared by the passage they copy (``~r``/``~v`` suffixes dropped): copies tie, and either is right."""
    from medkg.queries.api import KnowledgeGraph

    data = json.loads((DATA / "qa/pubmedqa/pqal_dev.json").read_text(encoding="utf-8"))
    qs = [r["QUESTION"] for r in list(data.values())[:questions]]
    base = functools.partial(re.sub, r"~[rv]\d+", "")
    runs: dict[str, list] = {}
    with KnowledgeGraph.open(graph, models_dir=MODELS_DIR) as g:
        index = g.index
        if index.ivf is None:
            return None
        g.retrieve(qs[0])
        for mode, ivf_index in (("ivf", index.ivf), ("exact", None)):
            index.ivf = ivf_index
            times, got = [], []
            for q in qs:
                t = time.perf_counter()
                r = g.retrieve(q)
                times.append((time.perf_counter() - t) * 1000)
                got.append([base(p.chunk_id) for p in r.passages])
            runs[mode] = [statistics.median(times), got]
    pairs = list(zip(runs["ivf"][1], runs["exact"][1]))
    return {"questions": len(qs), "ivf_p50_ms": round(runs["ivf"][0], 1), "exact_p50_ms": round(runs["exact"][0], 1),
            "same_passages": sum(a == b for a, b in pairs),
            "passage_overlap": round(statistics.mean(len(set(a) & set(b)) / max(1, len(set(b))) for a, b in pairs), 3)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="source", type=Path, required=True, help="a built graph whose ledger to replicate")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--baseline", help="a git revision to build the same views with, side by side")
    ap.add_argument("--baseline-sizes", default="100000")
    ap.add_argument("--workdir", type=Path, help="default: a temporary directory")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--measure-only", action="store_true",
                    help="measure retrieval on the views already in --workdir, without building them")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="medkg-viewmem-"))
    work.mkdir(parents=True, exist_ok=True)
    code = baseline_code(args.baseline, work) if args.baseline else None
    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        graph = ledger_of(size, args.source, work)
        runs = [("this", None)]
        if code is not None and str(size) in args.baseline_sizes.split(","):
            runs.insert(0, (f"baseline {args.baseline}", code))
        for label, where in runs if not args.measure_only else [("this", None)]:
            out = {"seconds": 0.0, "peak_rss_mb": 0}
            if not args.measure_only:
                fresh(graph)
                out = run_child(graph, where)
            out.update(size=size, code=label, view_mb=dir_mb(graph), retrieval=retrieval_latency(graph))
            out["ivf"] = ivf_against_exact(graph)
            rows.append(out)
            print_row(out, rows)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"machine": {"cpus": os.cpu_count()}, "runs": rows}, indent=2),
                                encoding="utf-8")
    print(f"wrote {args.out}")


def print_row(r: dict, rows: list[dict]) -> None:
    base = next((b for b in rows if b["size"] == r["size"] and b["code"].startswith("baseline")), None)
    ratio = (f"  (x{r['peak_rss_mb'] / base['peak_rss_mb']:.2f} memory, x{r['seconds'] / base['seconds']:.2f} time "
             "of the baseline)") if base and base is not r else ""
    print(f"{r['size']:>9,} documents, {r['code']}: {r['seconds']:.0f} s, peak {r['peak_rss_mb']:,} MB, "
          f"retrieve p50 {r['retrieval']['retrieve_p50_ms']} ms, view {r['view_mb']:,.0f} MB{ratio}", flush=True)
    if r.get("ivf"):
        v = r["ivf"]
        print(f"{'':>9}  IVF against exact dense search, {v['questions']} questions: p50 {v['ivf_p50_ms']} vs "
              f"{v['exact_p50_ms']} ms, same passages {v['same_passages']}/{v['questions']}, "
              f"overlap {v['passage_overlap']}", flush=True)


if __name__ == "__main__":
    main()
