"""End-to-end benchmark of the slice on the bundled sample corpus.

Builds the sample graph, then times, over the same questions:
- U-Retrieve (analysis + summary descent + graph expansion), LLM excluded;
- the baseline: plain dense search over all chunks (question embedding + top-k), LLM excluded;
- ``ask`` end to end with the default GGUF model.
Prints a table and writes ``bench/results/e2e_sample.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from medkg.pipelines.build import build_graph, sample_paths
from medkg.queries.api import KnowledgeGraph

QUESTIONS = [
    "Are leukocyte count and CRP useful to diagnose acute appendicitis?",
    "Do statins before coronary artery bypass grafting reduce postoperative atrial fibrillation?",
    "Is dexamethasone an alternative to prednisone for asthma exacerbations in children?",
    "Does hypoglycaemia increase the risk of cardiovascular events in type 2 diabetes?",
    "Can troponin I predict the course of pulmonary embolism?",
    "Does sex influence the response to thrombolysis in ischemic stroke?",
    "Which mutations cause hemochromatosis?",
    "Should oral hypoglycemic agents be continued when starting insulin?",
]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=len(QUESTIONS))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "e2e_sample.json")
    args = ap.parse_args()
    qs = QUESTIONS[: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        gdir = Path(tmp) / "graph"
        report = build_graph(sample_paths(), gdir)
        build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store_mb = sum(f.stat().st_size for f in gdir.rglob("*") if f.is_file()) / 1e6
        t = time.perf_counter()
        graph = KnowledgeGraph.open(gdir)
        open_s = time.perf_counter() - t
        graph.retrieve(qs[0])  # load embedder and pipeline once
        graph.llm  # noqa: B018
        uret, dense, asks = [], [], []
        for q in qs:
            t = time.perf_counter()
            graph.retrieve(q)
            uret.append(time.perf_counter() - t)
            t = time.perf_counter()
            v = graph.embedder.encode([q])[0]
            graph.index.dense_scores(v).argsort()[::-1][:4]
            dense.append(time.perf_counter() - t)
            asks.append(graph.ask(q).timings["total_s"])
        graph.close()
    result = {
        "documents": report.documents, "build_s": report.seconds, "build_docs_per_s": round(report.docs_per_second, 2),
        "build_stage_s": report.stage_seconds, "peak_rss_mb": round(build_rss, 1), "graph_mb": round(store_mb, 1),
        "open_s": round(open_s, 4), "questions": len(qs),
        "retrieve_p50_s": round(pct(uret, 0.5), 4), "retrieve_p95_s": round(pct(uret, 0.95), 4),
        "dense_baseline_p50_s": round(pct(dense, 0.5), 4), "dense_baseline_p95_s": round(pct(dense, 0.95), 4),
        "retrieve_vs_dense_p50_ratio": round(pct(uret, 0.5) / max(pct(dense, 0.5), 1e-9), 2),
        "ask_p50_s": round(statistics.median(asks), 3), "ask_p95_s": round(pct(asks, 0.95), 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    rows = [("build", f"{result['build_s']:.1f} s", f"{result['build_docs_per_s']} docs/s"),
            ("peak RSS (build)", f"{result['peak_rss_mb']} MB", ""),
            ("graph directory", f"{result['graph_mb']} MB", ""),
            ("open graph", f"{result['open_s'] * 1000:.0f} ms", ""),
            ("U-Retrieve p50 / p95",
             f"{result['retrieve_p50_s'] * 1000:.0f} / {result['retrieve_p95_s'] * 1000:.0f} ms",
             f"x{result['retrieve_vs_dense_p50_ratio']} of dense"),
            ("dense baseline p50 / p95",
             f"{result['dense_baseline_p50_s'] * 1000:.0f} / {result['dense_baseline_p95_s'] * 1000:.0f} ms", "x1.0"),
            ("ask (LLM) p50 / p95", f"{result['ask_p50_s']:.2f} / {result['ask_p95_s']:.2f} s", "")]
    print(f"{'measure':28s} {'value':>22s}  ratio")
    for name, val, ratio in rows:
        print(f"{name:28s} {val:>22s}  {ratio}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
