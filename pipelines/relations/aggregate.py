"""Document-level aggregation of mention-pair scores into concept-pair features.

The mention-pair model scores each statement; a concept pair's second-stage features
summarise those scores (best statement, best same-sentence and cross-sentence statement,
noisy-or) and compare them with the document's other pairs: is this the chemical's
best-scoring disease, and does a more specific disease of the same chemical score
higher (BioCreative annotates the most specific disease).
"""

from __future__ import annotations

import math

from medkg.pipelines.relations.features import PairInstance
from medkg.pipelines.relations.linear import sigmoid
from medkg.pipelines.relations.mesh import MeshResource

NONE = -6.0  # logit standing in for "no mention pair of this kind"


def _summary(inst: PairInstance, logits: list[float]) -> dict[str, float]:
    same = [z for z, mp in zip(logits, inst.pair.mention_pairs) if mp.same_sentence]
    cross = [z for z, mp in zip(logits, inst.pair.mention_pairs) if not mp.same_sentence]
    top = max(logits, default=NONE)
    noisy_or = 1.0 - math.prod(1.0 - sigmoid(z) for z in logits) if logits else 0.0
    out = {"a:max": top, "a:max_same": max(same, default=NONE), "a:max_cross": max(cross, default=NONE),
           "a:noisy_or": noisy_or, "a:n_pos": math.log1p(sum(1 for z in logits if z > 0))}
    if not same:
        out["a:no_same"] = 1.0
    if not logits:
        out["a:no_pairs"] = 1.0
    return out


def aggregate_document(insts: list[PairInstance], logits: list[list[float]],
                       mesh: MeshResource | None) -> list[dict[str, float]]:
    """Second-stage numeric features of every concept pair of one document."""
    summaries = [_summary(i, z) for i, z in zip(insts, logits)]
    best_for_chem: dict[str, float] = {}
    best_for_dis: dict[str, float] = {}
    by_pair: dict[tuple[str, str], float] = {}
    for inst, s in zip(insts, summaries):
        c, d, top = inst.pair.chemical, inst.pair.disease, s["a:max"]
        best_for_chem[c] = max(best_for_chem.get(c, NONE), top)
        best_for_dis[d] = max(best_for_dis.get(d, NONE), top)
        by_pair[(c, d)] = top
    doc_best = max(by_pair.values(), default=NONE)
    for inst, s in zip(insts, summaries):
        c, d, top = inst.pair.chemical, inst.pair.disease, s["a:max"]
        s["a:gap_chem"] = top - best_for_chem[c]
        s["a:gap_dis"] = top - best_for_dis[d]
        s["a:gap_doc"] = top - doc_best
        if mesh is not None:
            spec = [by_pair[(c, d2)] for d2 in _specific(inst, mesh) if (c, d2) in by_pair]
            if spec:
                s["a:specific_gap"] = max(spec) - top
                s["a:has_specific_scored"] = 1.0
    return summaries


def _specific(inst: PairInstance, mesh: MeshResource) -> list[str]:
    """The document's diseases below this pair's disease (precomputed by ``features.doc_stats``)."""
    st = inst.pair.ctx.memo.get("stats")
    if st is not None and inst.pair.disease in st.specific:  # type: ignore[attr-defined]
        return st.specific[inst.pair.disease]  # type: ignore[attr-defined]
    return [d for d in inst.pair.ctx.diseases if mesh.is_ancestor(inst.pair.disease, d)]
