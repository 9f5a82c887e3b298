"""The build driver's own costs, which no number of workers divides: reading inputs and committing records.

With ``--engine ray`` the driver reads and checks every input and commits every
record the workers send back, so these two rates bound a distributed build
however large its cluster (docs/benchmarks.md#distributed-builds):

- *reading*: a PubMed baseline-sized file (30,000 ``PubmedArticle`` records, real
  abstracts of ../shared/data in PubMed XML, gzipped) read, checked and hashed
  (``content_key``), as a build does before handing documents to an engine;
- *committing*: the records of a built graph's ledger (``--ledger-from GRAPH``,
  e.g. a 10k graph that bench/engines.py or bench/build.py left) written again
  under new ids into a fresh ledger, 32 per transaction as a build commits them.

Prints a table and writes ``bench/results/driver.json``.

    python bench/driver.py --ledger-from DIR/g10000-static-MiniLM-L6-v2-local
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import write_corpus  # the same real abstracts as bench/build.py

RESULTS = Path(__file__).resolve().parent / "results" / "driver.json"


def pubmed_file(out: Path, n: int, work: Path) -> Path:
    corpus = work / "corpus.jsonl"
    write_corpus(min(n, 2192), corpus)
    docs = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    with gzip.open(out, "wt", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<PubmedArticleSet>\n')
        for i in range(n):
            d = docs[i % len(docs)]
            f.write(f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{40000000 + i}'
                    "</PMID><Article><Journal><JournalIssue><PubDate><Year>2024</Year></PubDate></JournalIssue>"
                    f"</Journal><ArticleTitle>{escape(d.get('title') or 'Untitled')}</ArticleTitle><Abstract>"
                    f"<AbstractText>{escape(d['text'])}</AbstractText></Abstract></Article></MedlineCitation>"
                    "</PubmedArticle>\n")
        f.write("</PubmedArticleSet>\n")
    return out


def reading(path: Path) -> dict:
    from medkg.pipelines.reading import read_documents

    t = time.perf_counter()
    n = sum(1 for d in read_documents([path]) if d.content_key)
    s = time.perf_counter() - t
    return {"articles": n, "seconds": round(s, 2), "per_s": round(n / s),
            "file_mb": round(path.stat().st_size / 1e6, 1)}


def committing(src: Path, work: Path) -> dict:
    from medkg.kg.ledger import Ledger

    with Ledger(src / "ledger.sqlite") as ledger:
        records = list(ledger.records())
    for r in records:
        r.document = replace(r.document, id=f"{r.document.id}~c")
    t = time.perf_counter()
    with Ledger(work / "ledger.sqlite") as out:
        for i in range(0, len(records), 32):
            out.put(records[i : i + 32], "bench")
    s = time.perf_counter() - t
    return {"records": len(records), "seconds": round(s, 2), "per_s": round(len(records) / s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger-from", type=Path, help="a built graph whose ledger records are committed again")
    ap.add_argument("--articles", type=int, default=30_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="medkg-driver-") as tmp:
        work = Path(tmp)
        out: dict = {"reading": reading(pubmed_file(work / "pubmed_synthetic.xml.gz", a.articles, work))}
        if a.ledger_from:
            out["committing"] = committing(a.ledger_from, work)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    print("| driver step | items | seconds | per second |")
    print("|---|---|---|---|")
    r = out["reading"]
    print(f"| read PubMed XML ({r['file_mb']} MB gzipped) | {r['articles']:,} | {r['seconds']} | {r['per_s']:,} |")
    if "committing" in out:
        c = out["committing"]
        print(f"| commit ledger records | {c['records']:,} | {c['seconds']} | {c['per_s']:,} |")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
