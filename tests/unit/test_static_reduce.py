"""The reduction step of the static embedder's distillation (pure numpy, no model)."""

from __future__ import annotations

import numpy as np

from medkg.pipelines.embedding.static import reduce


def test_reduce_is_deterministic_up_to_row_order_and_sign_fixed() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 24)).astype(np.float32)
    a = reduce(vectors, 8)
    b = reduce(-vectors, 8)  # the same data mirrored: SVD may flip signs, the convention must undo it
    assert a.shape == (500, 8) and a.dtype == np.float32
    assert np.allclose(a, -b, atol=1e-4)  # mirrored input gives mirrored rows, not arbitrary sign flips
    assert np.allclose(a, reduce(vectors.copy(), 8))


def test_reduce_weights_frequent_pieces_down() -> None:
    """Rows early in the vocabulary (frequent pieces) are shrunk more than rare ones of the same length."""
    vectors = np.tile(np.eye(4, dtype=np.float32), (7500, 1)) + 0.01  # a vocabulary the size of BERT's
    norms = np.linalg.norm(reduce(vectors, 4), axis=1)
    assert norms[0] < norms[4] < norms[400] < norms[20000]
    assert norms[0] / norms[20000] < 0.01  # "the", "of" hardly count in an average
    assert norms[29996] / norms[20000] < 1.2  # the weight saturates in the rare tail
