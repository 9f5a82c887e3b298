"""Linking quality on the development splits, with each component switched off in turn.

For BC5CDR dev and NCBI-disease dev (from ../shared/data or ``MEDKG_DATA``),
scores strict span + concept id (``medkg eval linking``'s headline figure) and
strict span alone, for:

- ``full``: the bundled MeSH plus the names annotators used in the two
  *training* splits (``medkg vocab load pubtator``), the bundled NER model,
  exact + TF-IDF linking, abbreviations, context;
- ``without X``: the same with one step off (``ner``, ``priors`` (the NER
  model's match priors), ``dictionary``, ``tfidf``, ``abbreviations``,
  ``salts``, ``composites``, ``context``), or ``without annotated names`` (the bundled
  MeSH alone, as a fresh install links), or ``NER without lexicon features``
  (``--plain-model DIR``: a model trained with ``--no-lexicon-features``);
- ``dictionary only``: no NER model and no annotated names, the front end as it
  was before the NER model (the baseline the ratios are against).

Also counts, per run, the gold mentions whose ids the vocabulary lacks (a corpus
annotated with an older MeSH: ids since replaced), which no link can get right.

Prints a table and writes ``bench/results/linking_ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from medkg.evaluation.linking import evaluate
from medkg.ontologies.annotated import read_annotated_names
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.extractor import OPTIONAL_STEPS, Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.ner.model import NER_MODEL_DIR
from medkg.pipelines.reading import read_gold

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TRAIN = [DATA / "el/bc5cdr/CDR_TrainingSet.PubTator.txt", DATA / "el/ncbi_disease/NCBItrainset_corpus.txt"]
DEV = {"BC5CDR dev": DATA / "el/bc5cdr/CDR_DevelopmentSet.PubTator.txt",
       "NCBI-disease dev": DATA / "el/ncbi_disease/NCBIdevelopset_corpus.txt"}


def lexicons(tmp: Path) -> dict[str, Path]:
    plain = load_vocabulary()
    Lexicon.from_vocabulary(plain).save(tmp / "mesh.pkl")
    for path in TRAIN:
        plain.add(read_annotated_names(path))
    Lexicon.from_vocabulary(plain).save(tmp / "annotated.pkl")
    return {"mesh": tmp / "mesh.pkl", "annotated": tmp / "annotated.pkl"}


def configs(plain_model: Path | None) -> list[tuple[str, str, frozenset[str], Path]]:
    out = [("full", "annotated", frozenset(), NER_MODEL_DIR)]
    for step in OPTIONAL_STEPS:
        out.append((f"without {step}", "annotated", frozenset({step}), NER_MODEL_DIR))
    out.append(("without annotated names", "mesh", frozenset(), NER_MODEL_DIR))
    if plain_model is not None:
        out.append(("NER without lexicon features", "annotated", frozenset(), plain_model))
    out.append(("dictionary only (before)", "mesh", frozenset({"ner"}), NER_MODEL_DIR))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plain-model", type=Path, help="a NER model trained with --no-lexicon-features")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "linking_ablation.json")
    args = ap.parse_args()
    missing = [p for p in [*TRAIN, *DEV.values()] if not p.is_file()]
    if missing:
        raise SystemExit(f"needs ../shared/data (or MEDKG_DATA): {missing[0]} is missing")
    gold = {name: read_gold(path) for name, path in DEV.items()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lex = lexicons(Path(tmp))
        for label, lexicon, without, model in configs(args.plain_model):
            extractor = Extractor(lex[lexicon], without=without, ner_dir=model)
            row: dict[str, object] = {"run": label}
            for name, (documents, mentions) in gold.items():
                t0 = time.perf_counter()
                concepts = extractor.lexicon.concepts
                report = evaluate(documents, mentions, extractor.mentions_many,
                                  known=concepts.__contains__).to_dict()
                lacking = report["outside_vocabulary"]
                tp, fp, fn = report["tp"], report["fp"], report["fn"]
                row[name] = {"f1": report["f1"], "precision": report["precision"], "recall": report["recall"],
                             "mention_f1": report["levels"]["mention"]["all"]["f1"],
                             "outside_vocabulary": lacking,
                             # if the right span counted where no link could be right (the vocabulary's version)
                             "f1_outside_vocabulary_spans_counted":
                                 round(2 * (tp + lacking["span_found"]) / (2 * tp + fp + fn), 4),
                             "seconds": round(time.perf_counter() - t0, 1)}
            rows.append(row)
            print(label, {n: row[n]["f1"] for n in DEV}, flush=True)  # type: ignore[index]
    base = rows[-1]
    print(f"\n{'run':32s} " + " ".join(f"{n + ' F1':>20s} {'span F1':>8s} {'x base':>7s}" for n in DEV))
    for r in rows:
        cells = []
        for n in DEV:
            m, b = r[n], base[n]  # type: ignore[index]
            cells.append(f"{m['f1']:20.4f} {m['mention_f1']:8.4f} {m['f1'] / b['f1']:7.2f}")  # type: ignore[index]
        print(f"{r['run']:32s} " + " ".join(cells))
    for n in DEV:
        full = rows[0][n]  # type: ignore[index]
        lacking = full["outside_vocabulary"]
        print(f"{n}: {lacking['gold_mentions']} gold mentions have ids the vocabulary lacks; the full pipeline found "
              f"{lacking['span_found']} of them with the right span "
              f"(F1 {full['f1_outside_vocabulary_spans_counted']:.4f} "
              "if those counted)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"datasets": {n: str(p) for n, p in DEV.items()}, "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
