"""The speed-ups of the extraction front end must not change what it computes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from thinc.api import NumpyOps

from medkg.kg.records import Chunk, ChunkGraph, Entity, Link, Mention, Relation, _restore
from medkg.pipelines.ner.blas_ops import BlasOps


@pytest.mark.parametrize("trans1,trans2", [(False, False), (True, False), (False, True), (True, True)])
def test_blas_gemm_matches_thincs(trans1: bool, trans2: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5) if not trans1 else (5, 7)).astype(np.float32)
    y = rng.normal(size=(5, 3) if not trans2 else (3, 5)).astype(np.float32)
    want = NumpyOps().gemm(x, y, trans1=trans1, trans2=trans2)
    got = BlasOps().gemm(x, y, trans1=trans1, trans2=trans2)
    assert got.dtype == np.float32 and np.allclose(got, want, atol=1e-5)
    out = np.zeros((7, 3), dtype=np.float32)
    assert BlasOps().gemm(x, y, out=out, trans1=trans1, trans2=trans2) is out and np.allclose(out, want, atol=1e-5)


def _graph() -> ChunkGraph:
    link = Link("MESH:D003920", 1.0, "dictionary", ("MESH:D003924",))
    m = Mention(4, 12, "diabetes", link, "DISO", sentence=1, negated=True)
    e = Entity("d#c0/e0", "d#c0", 2, "Diabetes Mellitus", "DISO", link, [m])
    r = Relation("d#c0/e0", "d#c0/e1", "RELATED", "d#c0", 0, 20, 0.5, "cooccurrence")
    return ChunkGraph(Chunk("d#c0", "d", 2, 0, 0, 20, "no diabetes here ok.", "RESULTS"), [e], [r])


def test_records_round_trip_through_pickle() -> None:
    g = _graph()
    back = pickle.loads(pickle.dumps(g, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == g and back.entities[0].mentions[0].negated is True


def test_records_pickled_before_a_field_was_added_still_load() -> None:
    """A payload names its fields: one written without ``family`` loads with the field's default."""
    old = ("start", "end", "text", "link", "semantic_group", "sentence", "negated", "uncertain", "historical")
    m = _restore(Mention, old, (4, 12, "diabetes", Link("MESH:D003920", 1.0, "dictionary"), "DISO", 0, False,
                                True, False))
    assert m.uncertain is True and m.family is False and m.text == "diabetes"
