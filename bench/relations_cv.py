"""Model selection for the relation model: cross-validation by document on training data only.

Every choice of the bundled relation model (features, learners, regularisation, the decision threshold) was
made with this script on the BioCreative V CDR training split (INDUCES) and on the train split of the TREATS
labels; the development split and the held-out labels are only read by ``bench/relations.py``, to report.

Prints, per fold seed, P/R/F1 at the configured threshold and at the best threshold, then the F1 curve
averaged over the seeds; writes JSON.

    .venv/bin/python bench/relations_cv.py --seeds 13 14 15                    # INDUCES, the bundled settings
    .venv/bin/python bench/relations_cv.py --set use_priors=1                  # with per-concept training priors
    .venv/bin/python bench/relations_cv.py --type TREATS --seeds 13 14 15      # TREATS, on the labels' train split
    .venv/bin/python bench/relations_cv.py --type both --seeds 13 14 15        # both, with and without one type a pair
    .venv/bin/python bench/relations_cv.py --type TREATS --seeds 13 14 15 --train-share 0.5   # learning curve

``--train-share`` trains each fold's model on that share of its training documents (a fixed sample per fold
seed) and scores the same held-out fold: how precision and F1 grow with the number of labelled abstracts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from medkg.ontologies.vocabulary import load_vocabulary
from medkg.pipelines.relations.classifier import TrainConfig, fit
from medkg.pipelines.relations.extract import _evidence
from medkg.pipelines.relations.mesh import build_mesh_resource
from medkg.pipelines.relations.records import AnnotatedText
from medkg.pipelines.relations.training import annotated_texts, labelled_texts, read_pair_labels

DATA = Path(os.environ.get("MEDKG_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
TRAIN = DATA / "el" / "bc5cdr" / "CDR_TrainingSet.PubTator.txt"
LABELS = Path(__file__).resolve().parent / "relations" / "treats_labels.tsv"
THRESHOLDS = [x / 100 for x in range(10, 91, 2)]


def folds(n_docs: int, k: int, seed: int) -> list[int]:
    order = list(range(n_docs))
    random.Random(seed).shuffle(order)
    fold = [0] * n_docs
    for rank, i in enumerate(order):
        fold[i] = rank % k
    return fold


def prf(pred: set, gold: set) -> tuple[float, float, float]:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def out_of_fold(docs: list[AnnotatedText], mesh, cfg: TrainConfig, rtype: str, k: int, seed: int,
                train_share: float = 1.0) -> list[tuple[float, tuple[str, str, str]]]:
    """(probability, pair) of every candidate, each scored by a model that did not see its document (and was
    trained on ``train_share`` of the other folds' documents)."""
    fold = folds(len(docs), k, seed)
    scored = []
    for f in range(k):
        train = [d for i, d in enumerate(docs) if fold[i] != f]
        if train_share < 1.0:
            train = random.Random(seed * 31 + f).sample(train, max(1, round(len(train) * train_share)))
        clf = fit(train, mesh, cfg, rtype)
        for i, d in enumerate(docs):
            if fold[i] != f:
                continue
            insts = clf.instances(d)
            probs, logits = clf.score_document(insts)
            cache = insts[0].pair.ctx.memo.setdefault("collapsed", {}) if insts else {}
            for inst, p, z in zip(insts, probs, logits):  # a pair whose every statement is negated: not asserted
                negated = _evidence(inst, z, cache)[1] if inst.pair.mention_pairs else False
                scored.append((0.0 if negated else p, (d.doc_id, inst.pair.chemical, inst.pair.disease)))
    return scored


def exclusive_cv(texts: list[AnnotatedText], seeds: list[int], k: int) -> None:
    """Both types on the TREATS labels' train split, scored with and without "one type a pair" (the more
    probable of the two types wins when both pass their thresholds)."""
    from medkg.pipelines.relations.training import DEFAULT_CONFIGS

    treats = labelled_texts(texts, read_pair_labels(LABELS, "TREATS"), "train")
    cid = {t.doc_id: t for t in texts}
    induces = [cid[t.doc_id] for t in treats]  # the same documents with their CID pairs
    mesh = build_mesh_resource(load_vocabulary("mesh-bundled"))
    gold = {"INDUCES": {(d.doc_id, c, x) for d in induces for c, x in d.relations},
            "TREATS": {(d.doc_id, c, x) for d in treats for c, x in d.relations}}
    for seed in seeds:
        scored = {"INDUCES": dict((pair, p) for p, pair in out_of_fold(induces, mesh, DEFAULT_CONFIGS["INDUCES"],
                                                                         "INDUCES", k, seed)),
                  "TREATS": dict((pair, p) for p, pair in out_of_fold(treats, mesh, DEFAULT_CONFIGS["TREATS"],
                                                                        "TREATS", k, seed))}
        t = {r: DEFAULT_CONFIGS[r].threshold for r in scored}
        for rtype, other in (("INDUCES", "TREATS"), ("TREATS", "INDUCES")):
            plain = {pair for pair, p in scored[rtype].items() if p >= t[rtype]}
            excl = {pair for pair in plain if not (scored[other].get(pair, 0.0) >= t[other]
                                                   and scored[other].get(pair, 0.0) > scored[rtype][pair])}
            a, b = prf(plain, gold[rtype]), prf(excl, gold[rtype])
            print(f"seed {seed} {rtype}: plain P={a[0]:.4f} R={a[1]:.4f} F1={a[2]:.4f}; one type a pair "
                  f"P={b[0]:.4f} R={b[1]:.4f} F1={b[2]:.4f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--type", default="INDUCES", choices=("INDUCES", "TREATS", "both"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[13])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--train-share", type=float, default=1.0,
                    help="train each fold on this share of its training documents (a learning curve)")
    ap.add_argument("--set", nargs="*", default=[], help="TrainConfig or FeatureConfig field=value overrides")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "relations_cv.json")
    a = ap.parse_args()
    if not TRAIN.exists():
        sys.exit(f"{TRAIN}: not found; set MEDKG_DATA to the data folder")
    texts = annotated_texts(TRAIN)
    if a.type == "both":
        return exclusive_cv(texts, a.seeds, a.folds)
    docs = texts if a.type == "INDUCES" else labelled_texts(texts, read_pair_labels(LABELS, a.type), "train")
    cfg = TrainConfig()
    for kv in a.set:
        key, val = kv.split("=")
        target = cfg if hasattr(cfg, key) else cfg.features
        cur = getattr(target, key)
        setattr(target, key, type(cur)(float(val)) if not isinstance(cur, bool) else bool(int(val)))
    mesh = build_mesh_resource(load_vocabulary("mesh-bundled"))
    gold = {(d.doc_id, c, x) for d in docs for c, x in d.relations}
    t0 = time.time()
    curves, at_cfg = [], []
    for seed in a.seeds:
        scored = out_of_fold(docs, mesh, replace(cfg), a.type, a.folds, seed, a.train_share)
        curve = {t: prf({pair for p, pair in scored if p >= t}, gold) for t in THRESHOLDS}
        best = max(curve.items(), key=lambda kv: kv[1][2])
        own = prf({pair for p, pair in scored if p >= cfg.threshold}, gold)
        print(f"seed {seed}: t={cfg.threshold}: P={own[0]:.4f} R={own[1]:.4f} F1={own[2]:.4f}; "
              f"best t={best[0]}: P={best[1][0]:.4f} R={best[1][1]:.4f} F1={best[1][2]:.4f}", flush=True)
        curves.append(curve)
        at_cfg.append(own)
    mean = {t: tuple(sum(c[t][j] for c in curves) / len(curves) for j in range(3)) for t in THRESHOLDS}
    top = sorted(mean.items(), key=lambda kv: -kv[1][2])[:4]
    print(f"{a.type}, {len(docs)} documents, {len(gold)} positive pairs, {a.folds}-fold, seeds {a.seeds} "
          f"({time.time() - t0:.0f} s)")
    print("mean F1 by threshold (best 4): " + ", ".join(f"t={t:.2f}: P={v[0]:.4f} R={v[1]:.4f} F1={v[2]:.4f}"
                                                         for t, v in top))
    print(f"mean at t={cfg.threshold}: F1={sum(x[2] for x in at_cfg) / len(at_cfg):.4f}")
    at_half = max(((v[0], t, v[1]) for t, v in mean.items() if v[1] >= 0.5), default=None)
    if at_half:  # the operating point the TREATS target names: precision at recall >= 0.50
        print(f"best mean precision at recall >= 0.50: P={at_half[0]:.4f} R={at_half[2]:.4f} (t={at_half[1]:.2f})")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"type": a.type, "seeds": a.seeds, "train_share": a.train_share,
                                 "config": asdict(cfg),
                                 "mean_curve": {str(t): v for t, v in mean.items()}}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
