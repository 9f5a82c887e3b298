"""Retrieval quality and speed of the embedders, side by side, on NFCorpus dev.

NFCorpus (../shared/data/ir/nfcorpus): 3,193 medical documents and 325 title
queries with graded relevance (the 3-2-1 qrels). For each embedder, with the
same documents and queries:

- ``docs/s``: documents embedded per second (batches as the build uses them);
- ``dense``, ``bm25``, ``hybrid`` NDCG@10 and recall@100: cosine over the
  embedder's vectors alone, medkg's BM25 alone (the same for every embedder: the
  floor dense search must add to), and the mix medkg's retrieval uses
  (``RetrievalSettings``: 0.7 dense + 0.2 BM25 scaled by its best score);
- the last column gives each figure as a ratio of the first embedder's.

Prints a table and writes ``bench/results/embedders.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from medkg.kg.search import SearchIndex
from medkg.pipelines.embedding.embedder import DEFAULT_EMBEDDER, STATIC_EMBEDDER, Embedder
from medkg.queries.retrieval import RetrievalSettings

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NF = DATA / "ir" / "nfcorpus"


def _tsv(path: Path) -> dict[str, str]:
    rows = (line.rstrip("\n").split("\t", 1) for line in path.open(encoding="utf-8"))
    return {k: v for k, v in rows}


def load() -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, int]]]:
    docs, queries = _tsv(NF / "dev.docs"), _tsv(NF / "dev.titles.queries")
    qrels: dict[str, dict[str, int]] = {}
    for line in (NF / "dev.3-2-1.qrel").open(encoding="utf-8"):
        q, _, d, r = line.split()
        qrels.setdefault(q, {})[d] = int(r)
    return docs, {q: t for q, t in queries.items() if q in qrels}, qrels


def ndcg(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    best = sum((2 ** r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / best if best else 0.0


def measure(embedder: Embedder, docs: dict[str, str], queries: dict[str, str], qrels: dict[str, dict[str, int]],
            settings: RetrievalSettings) -> dict[str, float]:
    ids = list(docs)
    t0 = time.perf_counter()
    vectors = embedder.encode([docs[i] for i in ids])
    seconds = time.perf_counter() - t0
    index = SearchIndex.build(ids, [docs[i] for i in ids], vectors)
    qvecs = embedder.encode(list(queries.values()))
    mixes = {"dense": (1.0, 0.0), "bm25": (0.0, 1.0), "hybrid": (settings.dense_weight, settings.bm25_weight)}
    out: dict[str, float] = {"docs_per_s": round(len(ids) / seconds, 1)}
    for name, (dw, bw) in mixes.items():
        nd, rec = [], []
        for (q, text), qv in zip(queries.items(), qvecs):
            scores = dw * index.dense_scores(qv) + (bw * index.bm25_scores(text) if bw else 0.0)
            ranked = [ids[k] for k in np.argsort(-scores)[:100]]
            nd.append(ndcg(ranked, qrels[q]))
            rec.append(len(set(ranked) & set(qrels[q])) / len(qrels[q]))
        out[f"{name}_ndcg@10"] = round(float(np.mean(nd)), 4)
        out[f"{name}_recall@100"] = round(float(np.mean(rec)), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedders", default=f"{DEFAULT_EMBEDDER},{STATIC_EMBEDDER}",
                    help="comma-separated names or directories; the first is the baseline of the ratios")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "embedders.json")
    args = ap.parse_args()
    if not NF.exists():
        raise SystemExit(f"{NF}: NFCorpus is not there (set MEDKG_DATA)")
    models_dir = Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else None
    docs, queries, qrels = load()
    results: dict[str, dict[str, float]] = {}
    for spec in [e for e in args.embedders.split(",") if e]:
        results[spec] = measure(Embedder.named(spec, models_dir), docs, queries, qrels, RetrievalSettings())
    base = next(iter(results.values()))
    keys = list(base)
    print(f"NFCorpus dev: {len(docs)} documents, {len(queries)} queries (graded qrels 3-2-1)")
    print(f"{'':24s}" + "".join(f"{k:>19s}" for k in keys))
    for name, row in results.items():
        print(f"{name:24s}" + "".join(f"{row[k]:>12} ({row[k] / base[k] if base[k] else 0:4.2f})" for k in keys))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"dataset": "NFCorpus dev", "documents": len(docs), "queries": len(queries),
                                    "baseline": next(iter(results)), "embedders": results}, indent=2),
                        encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
