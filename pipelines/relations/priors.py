"""Training-set priors: how often a chemical, a disease, or a pair was CID where it occurred.

These act as a small learned knowledge base.  They must come from documents other than
the one being scored (the classifier computes them out of fold while training), or
the model would learn to trust them far more than they deserve on new text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from medkg.pipelines.relations.records import CHEMICAL, DISEASE, AnnotatedText

SMOOTH = 2.0  # pseudo-counts pulling rare concepts towards the global rate


@dataclass(slots=True)
class Priors:
    chem_seen: dict[str, int] = field(default_factory=dict)
    chem_cid: dict[str, int] = field(default_factory=dict)
    dis_seen: dict[str, int] = field(default_factory=dict)
    dis_cid: dict[str, int] = field(default_factory=dict)
    pair_seen: dict[str, int] = field(default_factory=dict)  # "chem|dis"
    pair_cid: dict[str, int] = field(default_factory=dict)
    base_chem: float = 0.5
    base_dis: float = 0.5
    base_pair: float = 0.2

    def features(self, chem: str, dis: str) -> dict[str, float]:
        """Smoothed log-odds of CID for the chemical, the disease and the pair, plus pair counts."""
        key = f"{chem}|{dis}"
        out = {
            "p:chem": _logit(self.chem_cid.get(chem, 0), self.chem_seen.get(chem, 0), self.base_chem),
            "p:dis": _logit(self.dis_cid.get(dis, 0), self.dis_seen.get(dis, 0), self.base_dis),
            "p:pair": _logit(self.pair_cid.get(key, 0), self.pair_seen.get(key, 0), self.base_pair),
        }
        if self.pair_cid.get(key):
            out["p:pair_was_cid"] = 1.0
        if not self.chem_seen.get(chem):
            out["p:chem_unseen"] = 1.0
        if not self.dis_seen.get(dis):
            out["p:dis_unseen"] = 1.0
        return out

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Priors:
        return cls(**data)


def _logit(k: int, n: int, base: float) -> float:
    p = (k + SMOOTH * base) / (n + SMOOTH)
    p = min(max(p, 1e-3), 1 - 1e-3)
    return math.log(p / (1 - p))


def count_priors(docs: Iterable[AnnotatedText]) -> Priors:
    """AnnotatedText counts of concepts and pairs, and of those in gold CID pairs."""
    cs: Counter[str] = Counter()
    cc: Counter[str] = Counter()
    ds: Counter[str] = Counter()
    dc: Counter[str] = Counter()
    ps: Counter[str] = Counter()
    pc: Counter[str] = Counter()
    for d in docs:
        chems = {i for m in d.mentions if m.type == CHEMICAL for i in m.ids}
        dises = {i for m in d.mentions if m.type == DISEASE for i in m.ids}
        cs.update(chems)
        ds.update(dises)
        ps.update(f"{c}|{x}" for c in chems for x in dises)
        cc.update({c for c, _ in d.relations})
        dc.update({x for _, x in d.relations})
        pc.update(f"{c}|{x}" for c, x in d.relations)
    pr = Priors(dict(cs), dict(cc), dict(ds), dict(dc), dict(ps), dict(pc))
    pr.base_chem = sum(cc.values()) / max(1, sum(cs.values()))
    pr.base_dis = sum(dc.values()) / max(1, sum(ds.values()))
    pr.base_pair = sum(pc.values()) / max(1, sum(ps.values()))
    return pr


@dataclass(slots=True)
class BranchPriors:
    """How often the relation held for concepts of a MeSH branch or a pharmacological action, in training.

    The category-level counterpart of :class:`Priors`: "drugs acting on the central nervous system" or
    "cardiovascular diseases" rather than one drug or one disease, so it carries over to concepts the
    training documents never named, and it holds no per-concept table of the training annotations.
    """

    seen: dict[str, int] = field(default_factory=dict)  # key -> candidate pairs whose concept has it
    positive: dict[str, int] = field(default_factory=dict)  # ... that held the relation
    base: float = 0.2

    def features(self, chem_keys: list[str], dis_keys: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for side, keys in (("c", chem_keys), ("d", dis_keys)):
            scores = [_logit(self.positive.get(k, 0), self.seen.get(k, 0), self.base) for k in keys
                      if self.seen.get(k)]
            if scores:
                out[f"b:{side}max"] = max(scores)
                out[f"b:{side}min"] = min(scores)
                out[f"b:{side}mean"] = sum(scores) / len(scores)
            else:
                out[f"b:{side}none"] = 1.0
        return out

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> BranchPriors:
        return cls(**data)


def count_branch_priors(pairs: Iterable[tuple[list[str], list[str], bool]]) -> BranchPriors:
    """Counts over candidate pairs given as (chemical keys, disease keys, label)."""
    seen: Counter[str] = Counter()
    pos: Counter[str] = Counter()
    n = k = 0
    for chem_keys, dis_keys, label in pairs:
        keys = set(chem_keys) | set(dis_keys)
        seen.update(keys)
        n += 1
        if label:
            pos.update(keys)
            k += 1
    return BranchPriors(dict(seen), dict(pos), k / max(1, n))
