"""Typed relations of the bundled relation model, scored on data no choice was made on.

Side by side, on the BioCreative V CDR development split (document-level CID pairs, as the task scored them):

- ``gold entities``: the annotated mentions given, the relation stage alone;
- ``end to end``: medkg's own mentions and links (a fresh install: the bundled MeSH), then its relations;
- ``end to end, annotated names``: the same after ``medkg vocab load pubtator`` of the training splits (the
  configuration of the linking figures);
- the baseline a co-occurrence graph gives: every chemical-disease pair named in one sentence (gold entities).

And TREATS on the held-out split of medkg's own labels (``bench/relations/treats_labels.tsv``): the TREATS
classifier alone at several thresholds, and as the build extracts (one type per concept pair); plus the
relation stage's cost per abstract and the model's size.
Prints a table and writes ``bench/results/relations.json``. Needs ``$MEDKG_DATA`` (default: ../shared/data).

    .venv/bin/python bench/relations.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from medkg.evaluation import relations
from medkg.ontologies.library import VocabularyLibrary
from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.extractor import Extractor
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.reading import read_pubtator, read_relations
from medkg.pipelines.relations.candidates import generate_candidates, prepare
from medkg.pipelines.relations.extract import extract_batch
from medkg.pipelines.relations.model import RELATION_MODEL_DIR, RelationModel
from medkg.pipelines.relations.training import annotated_texts, labelled_texts, read_pair_labels

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CDR = DATA / "el" / "bc5cdr"
NCBI_TRAIN = DATA / "el" / "ncbi_disease" / "NCBItrainset_corpus.txt"
LABELS = Path(__file__).resolve().parent / "relations" / "treats_labels.tsv"


def end_to_end(dev: Path, vocab_dir: Path | None, limit: int) -> dict:
    documents = list(read_pubtator(dev))[: limit or None]
    keep = {d.id for d in documents}
    gold = [r for r in read_relations(dev) if r.doc_id in keep]
    vocab = VocabularyLibrary(vocab_dir).vocabulary() if vocab_dir else load_vocabulary("mesh-bundled")
    with tempfile.TemporaryDirectory(prefix="medkg-bench-") as tmp:
        Lexicon.from_vocabulary(vocab).save(Path(tmp) / "lexicon.pkl")
        return relations.end_to_end(documents, gold, Extractor(Path(tmp) / "lexicon.pkl")).to_dict()


def cooccurrence(dev: Path, limit: int) -> dict:
    """Every chemical-disease pair of gold mentions that share a sentence: what co-occurrence edges assert."""
    texts = annotated_texts(dev)[: limit or None]
    predicted = set()
    for t in texts:
        for p in generate_candidates(prepare(t), cross_with_same=False):
            if any(mp.same_sentence for mp in p.mention_pairs):
                predicted.add((t.doc_id, "INDUCES", f"MESH:{p.chemical}", f"MESH:{p.disease}"))
    keep = {t.doc_id for t in texts}
    gold = [r for r in read_relations(dev) if r.doc_id in keep]
    counts = relations.score(gold, predicted, ["INDUCES"])["INDUCES"]
    return counts.scores()


def treats(model: RelationModel, thresholds: list[float]) -> dict:
    texts = annotated_texts(CDR / "CDR_TrainingSet.PubTator.txt")
    heldout = labelled_texts(texts, read_pair_labels(LABELS, "TREATS"), "heldout")
    clf = model.classifiers["TREATS"]
    gold = {(t.doc_id, c, d) for t in heldout for c, d in t.relations}
    out = {"documents": len(heldout), "positives": len(gold), "threshold": clf.threshold, "curve": {}}
    for th in thresholds:
        pred = {(t.doc_id, r.chemical_id, r.disease_id) for t, found in
                zip(heldout, extract_batch(heldout, clf, threshold=th)) for r in found}
        tp = len(pred & gold)
        p, r = (tp / len(pred) if pred else 0.0), tp / len(gold)
        out["curve"][str(th)] = {"precision": round(p, 4), "recall": round(r, 4),
                                 "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    # as the build extracts them: every type at its own threshold, one type per pair (the more probable)
    shipped = {(t.doc_id, r.chemical_id, r.disease_id) for t, found in zip(heldout, model.extract(heldout))
               for r in found if r.type == "TREATS"}
    tp = len(shipped & gold)
    p, r = (tp / len(shipped) if shipped else 0.0), tp / len(gold)
    out["shipped"] = {"precision": round(p, 4), "recall": round(r, 4),
                      "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    out.update(out["shipped"])
    return out


def cost(model: RelationModel, dev: Path, limit: int) -> dict:
    texts = annotated_texts(dev)[: limit or None]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(0, len(texts), 32):
            model.extract(texts[i : i + 32])
        best = min(best, time.perf_counter() - t0)
    size = sum(p.stat().st_size for p in RELATION_MODEL_DIR.rglob("*") if p.is_file())
    return {"ms_per_abstract": round(1000 * best / len(texts), 2), "model_mb": round(size / 1e6, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N development abstracts")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "relations.json")
    a = ap.parse_args()
    dev = CDR / "CDR_DevelopmentSet.PubTator.txt"
    if not dev.exists():
        sys.exit(f"{dev}: not found; set MEDKG_DATA to the data folder")
    model = RelationModel.load(RELATION_MODEL_DIR)
    result: dict = {"model": model.info.get("trained_on"), "cid_dev": {}}
    result["cid_dev"]["gold entities"] = relations.gold_entities(dev, model, limit=a.limit).to_dict()
    result["cid_dev"]["co-occurrence, gold entities"] = cooccurrence(dev, a.limit)
    result["cid_dev"]["end to end"] = end_to_end(dev, None, a.limit)
    with tempfile.TemporaryDirectory(prefix="medkg-vocab-") as lib:
        library = VocabularyLibrary(Path(lib))
        library.load("pubtator", CDR / "CDR_TrainingSet.PubTator.txt")
        library.load("pubtator", NCBI_TRAIN)
        result["cid_dev"]["end to end, annotated names"] = end_to_end(dev, Path(lib), a.limit)
    result["treats_heldout"] = treats(model, [0.26, 0.34, 0.42, 0.5, 0.6, 0.7])
    result["cost"] = cost(model, dev, a.limit)
    print(f"{'CID, BC5CDR dev':40s} {'precision':>9s} {'recall':>7s} {'f1':>7s}")
    for name, m in result["cid_dev"].items():
        print(f"{name:40s} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:7.4f}")
    t = result["treats_heldout"]
    print(f"\nTREATS, held-out labels ({t['documents']} abstracts, {t['positives']} pairs), by threshold:")
    for th, m in t["curve"].items():
        mark = " (the model's)" if float(th) == t["threshold"] else ""
        print(f"  t={th:5s} precision {m['precision']:.4f} recall {m['recall']:.4f} f1 {m['f1']:.4f}{mark}")
    m = t["shipped"]
    print(f"  as built (t={t['threshold']}, one type per pair) precision {m['precision']:.4f} "
          f"recall {m['recall']:.4f} f1 {m['f1']:.4f}")
    c = result["cost"]
    print(f"\nrelation stage: {c['ms_per_abstract']} ms per abstract (gold entities, batches of 32); "
          f"model {c['model_mb']} MB on disk")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
