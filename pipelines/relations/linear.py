"""A sparse linear (logistic) model over string features: train, score, save, load.

Scoring is a dictionary lookup per active feature, so inference needs neither sklearn
nor scipy and costs microseconds per pair.  Training uses sklearn's LogisticRegression.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: A feature vector: binary feature names, or a mapping of names to values.
Features = Sequence[str] | Mapping[str, float]


def items(feats: Features) -> Iterator[tuple[str, float]]:
    """(name, value) pairs of a feature vector."""
    if isinstance(feats, Mapping):
        yield from feats.items()
    else:
        for f in feats:
            yield f, 1.0


@dataclass(slots=True)
class LinearModel:
    """Weights per feature string, a bias, and the decision threshold on the probability."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5
    meta: dict = field(default_factory=dict)

    def margin(self, feats: Features) -> float:
        w = self.weights
        if isinstance(feats, Mapping):
            return self.bias + sum([w.get(f, 0.0) * v for f, v in feats.items()])
        return self.bias + sum([w.get(f, 0.0) for f in feats])

    def prob(self, feats: Features) -> float:
        return sigmoid(self.margin(feats))

    def save(self, path: str | Path) -> None:
        data = {"bias": self.bias, "threshold": self.threshold, "meta": self.meta,
                "weights": {k: round(v, 5) for k, v in self.weights.items()}}
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))

    @classmethod
    def load(cls, path: str | Path) -> LinearModel:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        return cls(data["weights"], data["bias"], data["threshold"], data.get("meta", {}))


def average_models(models: Sequence[LinearModel]) -> LinearModel:
    """One linear model whose margin is the mean of the models' margins."""
    n = len(models)
    weights: dict[str, float] = {}
    for m in models:
        for f, w in m.weights.items():
            weights[f] = weights.get(f, 0.0) + w / n
    return LinearModel(weights, sum(m.bias for m in models) / n, models[0].threshold, dict(models[0].meta))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def train_logistic(X: Sequence[Features], y: Sequence[bool], C: float = 1.0, min_count: int = 2,
                   class_weight: str | None = None, max_iter: int = 2000) -> LinearModel:
    """L2-regularised logistic regression on binary string features seen ``min_count`` times."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for feats in X for f in set(feats))
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= min_count))}
    indptr, indices, values = [0], [], []
    for feats in X:
        row = {vocab[f]: v for f, v in items(feats) if f in vocab}
        for j in sorted(row):
            indices.append(j)
            values.append(row[j])
        indptr.append(len(indices))
    mat = csr_matrix((values, indices, indptr), shape=(len(X), len(vocab)))
    clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, solver="liblinear")
    clf.fit(mat, np.asarray(y, dtype=int))
    coef = clf.coef_[0]
    weights = {f: float(coef[i]) for f, i in vocab.items() if abs(coef[i]) > 1e-6}
    log.info("trained logistic model: %d features, %d non-zero", len(vocab), len(weights))
    return LinearModel(weights, float(clf.intercept_[0]))
