"""Thinc operations whose matrix products go to NumPy's BLAS instead of the ``blis`` package.

thinc's ``NumpyOps.gemm`` calls ``blis``, whose wheels on PyPI carry a generic
kernel: on this project's 2-core AMD EPYC machines it multiplies the NER
model's matrices at about 17 GFLOPS, where NumPy's OpenBLAS (one thread) does
about 50 (measured with thinc 8.3, blis 1.x, numpy 1.26). Everything else is
thinc's own code. The NER model's layers are switched to these ops after
loading (:func:`use_blas`); training keeps thinc's defaults.

Worker processes of the build's pool must not let OpenBLAS start a thread per
core each, or two workers on two cores fight over them:
``medkg.pipelines.workers`` limits BLAS to one thread per worker.
"""

from __future__ import annotations

import numpy as np
from thinc.api import Model, NumpyOps


class BlasOps(NumpyOps):
    """thinc ops whose matrix products go to NumPy's BLAS (3x thinc's ``blis`` here)."""

    name = "medkg-blas"

    def gemm(self, x, y, out=None, trans1: bool = False, trans2: bool = False):
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return np.matmul(a, b)
        np.matmul(a, b, out=out)
        return out


def use_blas(model: Model) -> Model:
    """Point every layer of ``model`` at :class:`BlasOps` (in place); returns the model."""
    ops = BlasOps()
    for node in model.walk():
        node.ops = ops
    return model
