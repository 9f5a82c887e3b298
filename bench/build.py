"""Batch builds at growing sizes: documents/s, peak memory, store size, re-run cost, Bolt vs embedded, ask latency.

Corpus: the real abstracts in ../shared/data (BC5CDR train+dev, NCBI-disease
train+dev, PubMedQA PQA-L dev: 2,192 distinct documents). Sizes beyond
that repeat them with new ids (``PMID:123~r2``) and the report says so.

For each size, side by side:

- ``embedded``: ``medkg build`` as users run it (extraction in a worker process
  beside embedding in the parent, then the view: store by COPY, index,
  summaries), in a child process so its peak RSS (parent + workers) is its own;
- ``rerun``: the same command again (must change nothing; its time is the
  cost of checking the inputs against the ledger);
- ``neo4j`` (``--bolt-size``): the same ledger loaded into a Bolt server
  (ArcadeDB started here) instead; extraction is shared, so the table gives the
  store phase of both and the whole-build rate of both (extraction + store);
- ``--view-size N``: a view over N documents made by replicating the largest
  built ledger's records (or ``--view-from GRAPH``'s) with new ids (extraction and embedding are not rerun:
  their cost grows linearly and is measured above), to time the store/index
  phase and ``retrieve`` (U-Retrieve, LLM excluded) on a graph of that size.

Prints a table and writes ``bench/results/build.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MODELS_DIR = Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else None  # the static embedder
SOURCES = ["el/bc5cdr/CDR_TrainingSet.PubTator.txt", "el/bc5cdr/CDR_DevelopmentSet.PubTator.txt",
           "el/ncbi_disease/NCBItrainset_corpus.txt", "el/ncbi_disease/NCBIdevelopset_corpus.txt",
           "qa/pubmedqa/pqal_dev.json"]


def write_corpus(n: int, out: Path) -> dict:
    from medkg.pipelines.reading import read_pubmedqa, read_pubtator

    docs, seen = [], set()
    for rel in SOURCES:
        path = DATA / rel
        reader = read_pubmedqa if path.suffix == ".json" else read_pubtator
        for d in reader(path):
            if d.id not in seen:
                seen.add(d.id)
                docs.append(d)
    distinct = len(docs)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            d = docs[i % distinct]
            rep = i // distinct
            f.write(json.dumps({"id": d.id if rep == 0 else f"{d.id}~r{rep + 1}", "text": d.text, "tier": 2,
                                "title": d.title, "pmid": d.pmid,
                                "sections": [{"label": s.label, "start": s.start, "end": s.end} for s in d.sections]})
                    + "\n")
    return {"documents": n, "distinct": min(n, distinct), "replicated": max(0, n - distinct)}


def run_child(args: list[str], env: dict | None = None) -> dict:
    """Run this script's --child mode; it prints one JSON line with its timings and peak RSS."""
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    if res.returncode != 0:
        raise SystemExit(f"child failed: {res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def child(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs")
    ap.add_argument("graph")
    ap.add_argument("--store", default="embedded")
    ap.add_argument("--options", default="{}")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--embedder")
    a = ap.parse_args(argv)
    from medkg.pipelines.build import build_graph

    t0 = time.perf_counter()
    r = build_graph([Path(a.inputs)], Path(a.graph), store=a.store, store_options=json.loads(a.options),
                    workers=a.workers, embedder=a.embedder, models_dir=MODELS_DIR)
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "processed": r.processed,
                      "documents": r.documents, "stages": r.stage_seconds, "peak_rss_mb": round(rss / 1024),
                      "counts": r.counts}))


def dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def replicate_ledger(src: Path, dst: Path, n: int) -> None:
    """A ledger of n documents: src's records, repeated with new ids (``~vK``) in every id they contain."""
    from medkg.kg.ledger import Ledger

    with Ledger(src) as a:
        base = list(a.records())
        fingerprint = a.get_meta("fingerprint") or ""
        vocabularies = a.get_meta("vocabularies") or "{}"
    with Ledger(dst) as b:
        b.set_meta("fingerprint", fingerprint)
        b.set_meta("vocabularies", vocabularies)
        batch = []
        for i in range(n):
            rec = base[i % len(base)]
            k = i // len(base)
            batch.append(rec if k == 0 else _renamed(rec, f"~v{k + 1}"))
            if len(batch) == 1000:
                b.put(batch, fingerprint)
                batch = []
        if batch:
            b.put(batch, fingerprint)


def _renamed(rec, suffix: str):
    from medkg.kg.ledger import LedgerRecord
    from medkg.kg.records import ChunkGraph

    old = rec.document.id
    new = old + suffix

    def re_id(x: str) -> str:
        return new + x[len(old):] if x.startswith(old) else x

    graphs = []
    for g in rec.graphs:
        chunk = replace(g.chunk, id=re_id(g.chunk.id), doc_id=new)
        ents = []
        for e in g.entities:
            e2 = type(e)(id=re_id(e.id), chunk_id=chunk.id, tier=e.tier, name=e.name, semantic_group=e.semantic_group,
                         link=e.link, mentions=e.mentions)
            ents.append(e2)
        rels = [replace(r, source=re_id(r.source), target=re_id(r.target), chunk_id=chunk.id) for r in g.relations]
        graphs.append(ChunkGraph(chunk=chunk, entities=ents, relations=rels))
    return LedgerRecord(replace(rec.document, id=new), graphs, rec.vectors)


def retrieval_latency(graph: Path, questions: int = 20) -> dict:
    from medkg.queries.api import KnowledgeGraph

    data = json.loads((DATA / "qa/pubmedqa/pqal_dev.json").read_text(encoding="utf-8"))
    qs = [r["QUESTION"] for r in list(data.values())[:questions]]
    t0 = time.perf_counter()
    with KnowledgeGraph.open(graph, models_dir=MODELS_DIR) as g:
        opened = time.perf_counter() - t0
        g.retrieve(qs[0])  # loads the embedder and the NLP pipeline once
        times = []
        for q in qs:
            t = time.perf_counter()
            g.retrieve(q)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"open_s": round(opened, 2), "retrieve_p50_ms": round(statistics.median(times), 1),
            "retrieve_p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "questions": len(qs)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="documents per embedded build (empty: none)")
    ap.add_argument("--bolt-size", type=int, default=1000, help="also load this size's ledger into ArcadeDB (0: no)")
    ap.add_argument("--view-size", type=int, default=0, help="a replicated view of this many documents (0: none)")
    ap.add_argument("--view-from", type=Path,
                    help="replicate this built graph's ledger (default: the largest built here)")
    ap.add_argument("--embedders", default="all-MiniLM-L6-v2",
                    help="comma-separated: build each size with each (e.g. all-MiniLM-L6-v2,static-MiniLM-L6-v2)")
    ap.add_argument("--workdir", type=Path, help="keep the graphs here (default: a temporary directory)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "build.json")
    args = ap.parse_args()
    if not (DATA / SOURCES[0]).exists():
        raise SystemExit(f"{DATA}: the shared data is not there (set MEDKG_DATA)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="medkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows, results = [], {"machine": {"cpus": os.cpu_count()}, "builds": []}
    embedders = [e for e in args.embedders.split(",") if e]
    for n, embedder in [(int(s), e) for s in args.sizes.split(",") if s for e in embedders]:
        inputs = work / f"corpus-{n}.jsonl"
        info = write_corpus(n, inputs)
        graph = work / f"g{n}-{embedder}"
        shutil.rmtree(graph, ignore_errors=True)
        first = run_child([str(inputs), str(graph), "--embedder", embedder])
        rerun = run_child([str(inputs), str(graph), "--embedder", embedder])
        entry = {"size": n, "embedder": embedder, **info, "embedded": first, "rerun_seconds": rerun["seconds"],
                 "rerun_processed": rerun["processed"], "graph_mb": dir_mb(graph),
                 "docs_per_s": round(n / first["seconds"], 2)}
        entry["retrieval"] = retrieval_latency(graph)
        if n == args.bolt_size and embedder == embedders[0]:
            entry["neo4j"] = bolt_build(work, graph, inputs)
        results["builds"].append(entry)
        rows.append(entry)
        print_row(entry)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.view_size and (rows or args.view_from):
        src = args.view_from or work / f"g{rows[-1]['size']}-{rows[-1]['embedder']}"
        results["replicated_view"] = replicated_view(work, src, args.view_size)
        print(json.dumps(results["replicated_view"], indent=2))
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


def bolt_build(work: Path, graph: Path, inputs: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
    from bolt_server import ArcadeDB

    root = work / "arcadedb"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    server = ArcadeDB(root).start()
    try:
        server.create_database("bench")
        target = work / (graph.name + "-bolt")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        shutil.copy(graph / "ledger.sqlite", target / "ledger.sqlite")  # the same extraction, done once
        out = run_child([str(inputs), str(target), "--store", "neo4j", "--options",
                         json.dumps(server.options("bench"))])
        return out
    finally:
        server.stop()


def replicated_view(work: Path, src: Path, n: int) -> dict:
    dst = work / f"view{n}"
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir()
    shutil.copy(src / "lexicon.pkl", dst / "lexicon.pkl")
    t0 = time.perf_counter()
    replicate_ledger(src / "ledger.sqlite", dst / "ledger.sqlite", n)
    ledger_s = time.perf_counter() - t0
    inputs = work / "one.jsonl"  # a document already in the ledger: the run only builds the view
    from medkg.kg.ledger import Ledger

    with Ledger(dst / "ledger.sqlite") as ledger:
        doc = next(ledger.records()).document
    inputs.write_text(json.dumps({"id": doc.id, "text": doc.text, "tier": doc.tier, "title": doc.title,
                                  "pmid": doc.pmid, "sections": [{"label": s.label, "start": s.start, "end": s.end}
                                                                 for s in doc.sections]}) + "\n", encoding="utf-8")
    # the source's embedder: another one would change the fingerprint and re-extract every replicated document
    embedder = json.loads((src / "manifest.json").read_text(encoding="utf-8"))["embedder"]
    view = run_child([str(inputs), str(dst), "--embedder", embedder])
    return {"documents": n, "replicated_from": str(src), "embedder": embedder, "ledger_seconds": round(ledger_s, 1),
            "view_build": view, "graph_mb": dir_mb(dst), "retrieval": retrieval_latency(dst)}


def print_row(e: dict) -> None:
    emb = e["embedded"]
    st = emb["stages"]
    print(f"\n{e['size']:>7} docs ({e['replicated']} replicated), {e['embedder']}: {e['docs_per_s']:.1f} docs/s, "
          f"{emb['seconds']:.0f} s, peak RSS {emb['peak_rss_mb']} MB, graph {e['graph_mb']} MB; "
          f"re-run {e['rerun_seconds']:.1f} s ({e['rerun_processed']} processed)")
    print("   stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in st.items()))
    r = e["retrieval"]
    print(f"   retrieve p50 {r['retrieve_p50_ms']} ms, p95 {r['retrieve_p95_ms']} ms (open {r['open_s']} s)")
    if "neo4j" in e:
        nb = e["neo4j"]["stages"]
        emb_store = st.get("store", 0.0) + st.get("link+summaries+index", 0.0)
        bolt_store = nb.get("store", 0.0) + nb.get("link+summaries+index", 0.0)
        extract = st.get("extract+embed", 0.0)
        print(f"   Bolt (ArcadeDB): store phase {bolt_store:.1f} s vs embedded {emb_store:.1f} s; whole-build rate "
              f"{(extract + emb_store) / (extract + bolt_store):.2f} of embedded")


if __name__ == "__main__":
    main()
