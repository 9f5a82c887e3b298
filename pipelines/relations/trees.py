"""Gradient-boosted trees (sklearn HistGradientBoosting) exported to flat arrays.

sklearn's own ``predict_proba`` costs about a millisecond per call whatever the batch
size, too much per abstract.  The trees are exported into padded arrays and all trees
are walked at once with numpy, one step per tree level: microseconds for the ten-odd
candidate pairs of an abstract.  Only numeric splits are supported (no categorical
features, no missing values: absent features are 0 or an explicit stand-in value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class TreeEnsemble:
    keys: list[str]  # feature name of each column
    feature: np.ndarray  # (n_trees, n_nodes) int32
    threshold: np.ndarray  # (n_trees, n_nodes) float64; go left when x <= threshold
    left: np.ndarray  # (n_trees, n_nodes) int32
    right: np.ndarray
    leaf: np.ndarray  # (n_trees, n_nodes) bool
    value: np.ndarray  # (n_trees, n_nodes) float64
    baseline: float
    depth: int

    def matrix(self, vectors: Sequence[Mapping[str, float]]) -> np.ndarray:
        col = getattr(self, "_col", None)
        if col is None:
            col = self._col = {k: j for j, k in enumerate(self.keys)}
        return to_matrix(self.keys, vectors, col)

    def decision(self, X: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of ``X``."""
        # Flat indexing: a node is (tree offset + node id); children of a leaf point to itself.
        n, (t, w) = X.shape[0], self.feature.shape
        base = (np.arange(t) * w)[None, :]
        flat_x = X.ravel()
        row_base = (np.arange(n) * X.shape[1])[:, None]
        left, right, feature, thr = self._flat()
        node = np.broadcast_to(base, (n, t)).copy()
        for _ in range(self.depth):
            go_left = flat_x.take(row_base + feature.take(node)) <= thr.take(node)
            node = np.where(go_left, left.take(node), right.take(node))
        return self.baseline + self.value.ravel().take(node).sum(axis=1)

    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flattened node arrays with absolute child indices (cached)."""
        cached = getattr(self, "_cache", None)
        if cached is None:
            t, w = self.feature.shape
            base = (np.arange(t) * w)[:, None]
            own = base + np.arange(w)[None, :]
            left = np.where(self.leaf, own, base + self.left).ravel()
            right = np.where(self.leaf, own, base + self.right).ravel()
            cached = (left, right, self.feature.ravel(), self.threshold.ravel())
            object.__setattr__(self, "_cache", cached)
        return cached

    def prob(self, vectors: Sequence[Mapping[str, float]]) -> np.ndarray:
        if not vectors:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.decision(self.matrix(vectors))))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, keys=np.array(self.keys), feature=self.feature, threshold=self.threshold,
                            left=self.left, right=self.right, leaf=self.leaf, value=self.value,
                            baseline=np.array([self.baseline]), depth=np.array([self.depth]))

    @classmethod
    def load(cls, path: str | Path) -> TreeEnsemble:
        z = np.load(path)
        return cls([str(k) for k in z["keys"]], z["feature"], z["threshold"], z["left"], z["right"],
                   z["leaf"], z["value"], float(z["baseline"][0]), int(z["depth"][0]))


def to_matrix(keys: Sequence[str], vectors: Sequence[Mapping[str, float]],
              col: Mapping[str, int] | None = None) -> np.ndarray:
    """Dense rows of named feature vectors (absent features are 0); ``col`` maps keys to columns if known."""
    col = col if col is not None else {k: j for j, k in enumerate(keys)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, v in enumerate(vectors):
        for k, x in v.items():
            j = col.get(k)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(x)
    X = np.zeros((len(vectors), len(keys)))
    X[rows, cols] = vals  # one fancy-indexed store instead of an item assignment per value
    return X


def concat_ensembles(parts: Sequence[TreeEnsemble]) -> TreeEnsemble:
    """One ensemble whose raw score is the mean of the parts' raw scores (same feature keys)."""
    if any(p.keys != parts[0].keys for p in parts):
        raise ValueError("ensembles over different features")
    width = max(p.feature.shape[1] for p in parts)

    def pad(a: np.ndarray, fill: float | bool | int) -> np.ndarray:
        out = np.full((a.shape[0], width), fill, dtype=a.dtype)
        out[:, :a.shape[1]] = a
        return out

    n = len(parts)
    cat = {name: np.concatenate([pad(getattr(p, name), fill) for p in parts])
           for name, fill in (("feature", 0), ("threshold", 0.0), ("left", 0), ("right", 0), ("leaf", True),
                              ("value", 0.0))}
    return TreeEnsemble(parts[0].keys, cat["feature"], cat["threshold"], cat["left"], cat["right"], cat["leaf"],
                        cat["value"] / n, sum(p.baseline for p in parts) / n, max(p.depth for p in parts))


def train_trees(X: Sequence[Mapping[str, float]], y: Sequence[bool], keys: list[str], max_iter: int = 200,
                learning_rate: float = 0.05, max_leaf_nodes: int = 15, max_depth: int = 6,
                seed: int = 0) -> TreeEnsemble:
    """Fit sklearn's HistGradientBoostingClassifier on the ``keys`` columns and export it."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=learning_rate,
                                         max_leaf_nodes=max_leaf_nodes, max_depth=max_depth,
                                         min_samples_leaf=20, l2_regularization=1.0, random_state=seed)
    clf.fit(to_matrix(keys, X), np.asarray(y, dtype=int))
    return export(clf, keys, max_depth)


def export(clf, keys: list[str], max_depth: int) -> TreeEnsemble:
    """Padded node arrays of a fitted binary HistGradientBoostingClassifier."""
    preds = [p[0] for p in clf._predictors]  # one tree per boosting iteration (binary task)
    width = max(len(p.nodes) for p in preds)
    shape = (len(preds), width)
    feature = np.zeros(shape, np.int32)
    threshold = np.zeros(shape)
    left = np.zeros(shape, np.int32)
    right = np.zeros(shape, np.int32)
    leaf = np.ones(shape, bool)
    value = np.zeros(shape)
    for t, p in enumerate(preds):
        nd = p.nodes
        if nd["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        k = len(nd)
        feature[t, :k], threshold[t, :k] = nd["feature_idx"], nd["num_threshold"]
        left[t, :k], right[t, :k] = nd["left"], nd["right"]
        leaf[t, :k], value[t, :k] = nd["is_leaf"], nd["value"]
    baseline = float(np.ravel(clf._baseline_prediction)[0])
    return TreeEnsemble(keys, feature, threshold, left, right, leaf, value, baseline, max_depth + 1)
