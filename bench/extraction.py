"""Throughput of the extraction front end (mention finding, linking, abbreviations, context).

Runs over real abstracts: the BC5CDR development set from ../shared/data when
it is there, else the bundled sample. Side by side, on the same documents:

- ``baseline``: spaCy's blank English tokenizer and sentencizer alone, the floor
  any spaCy pipeline pays;
- ``full``: the extraction pipeline as builds run it (``Extractor.extract_many``
  over batches of 32: tokenizer, abbreviations, NER, linking, context, chunks,
  entities, relations), in this one process;
- the full pipeline with each optional step switched off in turn;
- ``full, N processes``: what a build gets from this machine, the same batches
  through the build's process pool (``extract_batches``, one worker per core;
  the parent only hands out batches), timed from the first batch submitted to
  the last result back, after the workers have loaded their models.

Prints a table and writes ``bench/results/extraction.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import spacy

from medkg.kg.records import Document
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.build import sample_paths
from medkg.pipelines.extractor import OPTIONAL_STEPS, Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.reading import read_documents, read_pubtator
from medkg.pipelines.workers import batched, extract_batches

BATCH = 32
DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BC5CDR_DEV = DATA / "el" / "bc5cdr" / "CDR_DevelopmentSet.PubTator.txt"


def corpus() -> tuple[str, list[Document]]:
    if BC5CDR_DEV.is_file():
        return "BC5CDR dev", list(read_pubtator(BC5CDR_DEV))
    return "bundled sample", [d for d in read_documents(sample_paths()) if d.tier == 2]


def timed(run, docs: list[Document], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for batch in batched(docs, BATCH):
            run(batch)
        best = min(best, time.perf_counter() - t0)
    return best


def timed_pool(lexicon_path: Path, docs: list[Document], workers: int, repeats: int) -> float:
    """Steady-state seconds per pass of ``docs`` through one build pool (the best of ``repeats``).

    A first, small pass loads the workers' models; each later pass is timed from
    the last result of the pass before it to its own last result, so the pool
    never idles between passes and loading is not counted.
    """
    passes = [docs[: BATCH * workers]] + [docs] * repeats
    ends = [sum(len(p) for p in passes[: k + 1]) for k in range(len(passes))]
    stamps, done = [], 0
    batches = (batch for p in passes for batch in batched(p, BATCH))
    for out in extract_batches(batches, lexicon_path, workers):
        done += len(out)
        if done in ends:
            stamps.append(time.perf_counter())
    return min(b - a for a, b in zip(stamps, stamps[1:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N documents")
    ap.add_argument("--repeats", type=int, default=2, help="best of N passes")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "extraction.json")
    args = ap.parse_args()
    name, docs = corpus()
    docs = docs[: args.limit or None]
    chars = sum(len(d.text) for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        lexicon_path = Path(tmp) / "lexicon.pkl"
        t0 = time.perf_counter()
        Lexicon.from_vocabulary(load_vocabulary()).save(lexicon_path)
        lexicon_s = time.perf_counter() - t0
        blank = spacy.blank("en")
        blank.add_pipe("sentencizer")
        runs = {"baseline (tokenizer + sentencizer)": lambda b: list(blank.pipe(d.text for d in b)),
                "full": Extractor(lexicon_path).extract_many}
        for step in OPTIONAL_STEPS:
            runs[f"without {step}"] = Extractor(lexicon_path, without=frozenset({step})).extract_many
        for run in runs.values():  # warm-up
            run(docs[:2])
        seconds = {label: timed(run, docs, args.repeats) for label, run in runs.items()}
        workers = os.cpu_count() or 1
        seconds[f"full, {workers} processes"] = timed_pool(lexicon_path, docs, workers, args.repeats)
    base = seconds["baseline (tokenizer + sentencizer)"]
    rows = [{"run": label, "seconds": round(s, 3), "docs_per_s": round(len(docs) / s, 1),
             "chars_per_s": round(chars / s), "time_vs_baseline": round(s / base, 2)} for label, s in seconds.items()]
    print(f"{name}: {len(docs)} documents, {chars} characters; lexicon built in {lexicon_s:.1f} s")
    print(f"{'run':36s} {'seconds':>8s} {'docs/s':>8s} {'x baseline':>10s}")
    for r in rows:
        print(f"{r['run']:36s} {r['seconds']:8.2f} {r['docs_per_s']:8.1f} {r['time_vs_baseline']:10.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"corpus": name, "documents": len(docs), "characters": chars,
                                    "lexicon_build_s": round(lexicon_s, 2), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
