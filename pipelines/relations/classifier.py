"""A two-stage relation classifier for chemical-disease pairs: mention-pair model, then concept-pair model.

One classifier decides one relation type (``INDUCES``, ``TREATS``) for every
(chemical, disease) concept pair of a document.

Stage 1 scores every mention pair from its own text (distant supervision: a mention pair
takes its concept pair's document label). Stage 2 classifies concept pairs from
document-level features and summaries of the stage-1 scores (see ``aggregate``); it
averages a logistic regression over all features and boosted trees over the dense ones
(the average beat either alone by about 0.013 F1 in cross-validation). Stage 2 is trained
on out-of-fold stage-1 scores (inner cross-validation over the training documents) so it
sees them as noisy as they will be on new text.

Training-set priors (how often a chemical, a disease or a pair held the relation in the
training documents) are an option for models trained on a user's own corpus. The bundled
model leaves them out: they are tables of the training corpus's annotations, keyed by
concept, and that corpus may not be redistributed.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from medkg.pipelines.relations.aggregate import aggregate_document
from medkg.pipelines.relations.candidates import generate_candidates, prepare
from medkg.pipelines.relations.features import FeatureConfig, PairInstance, branch_keys, featurize
from medkg.pipelines.relations.linear import LinearModel, average_models, train_logistic
from medkg.pipelines.relations.mesh import MeshResource
from medkg.pipelines.relations.priors import BranchPriors, Priors, count_branch_priors, count_priors
from medkg.pipelines.relations.records import AnnotatedText
from medkg.pipelines.relations.trees import TreeEnsemble, concat_ensembles, train_trees

log = logging.getLogger(__name__)

#: Stage-2 features left to the logistic regression only (sparse, high-cardinality).
SPARSE_PREFIXES = ("c:chem=", "c:dis=", "c:pair=", "c:pa", "c:cb", "c:db")


@dataclass(slots=True)
class TrainConfig:
    c_mention: float = 0.1
    c_concept: float = 0.3
    inner_folds: int = 5
    inner_repeats: int = 1  # 3 pooled repeats lost 0.009 F1 in cross-validation (duplicated rows overfit)
    bags: int = 1  # second-stage models from this many inner splits, averaged (3: no gain in CV)
    tree_iter: int = 200
    tree_rate: float = 0.05
    seed: int = 7
    use_priors: bool = False  # per-concept tables of the training annotations (see the module docstring)
    use_branch_priors: bool = False  # category-level priors (MeSH branches, pharmacological actions)
    use_trees: bool = True
    mil: bool = False  # second round: only a positive pair's best-scoring mention pairs stay positive
    threshold: float = 0.32  # chosen by 5-fold cross-validation on the training split (3 fold seeds)
    features: FeatureConfig = field(default_factory=FeatureConfig)


@dataclass(slots=True)
class RelationClassifier:
    """Both stages of one relation type, with the MeSH knowledge its features read."""

    mention_model: LinearModel
    concept_model: LinearModel
    mesh: MeshResource | None
    features: FeatureConfig
    priors: Priors | None = None
    trees: TreeEnsemble | None = None
    threshold: float = 0.5
    relation_type: str = "INDUCES"
    method: str = "two_stage_v1"
    branch_priors: BranchPriors | None = None

    def instances(self, doc: AnnotatedText, sentences: list[tuple[int, int]] | None = None) -> list[PairInstance]:
        ctx = prepare(doc, sentences)
        pairs = generate_candidates(ctx, cross_with_same=self.features.cross_with_same)
        return featurize(ctx, pairs, self.mesh, self.features)

    def mention_logits(self, insts: list[PairInstance]) -> list[list[float]]:
        m = self.mention_model
        return [[m.margin(f) for f in i.mention_feats] for i in insts]

    def concept_vectors(self, insts: list[PairInstance], logits: list[list[float]]) -> list[dict[str, float]]:
        aggs = aggregate_document(insts, logits, self.mesh)
        vecs = []
        for inst, agg in zip(insts, aggs):
            vec = dict.fromkeys(inst.concept_feats, 1.0)
            vec.update(agg)
            if self.priors is not None:
                vec.update(self.priors.features(inst.pair.chemical, inst.pair.disease))
            if self.branch_priors is not None:
                vec.update(self.branch_priors.features(*branch_keys(self.mesh, inst.pair.chemical,
                                                                     inst.pair.disease)))
            vecs.append(vec)
        return vecs

    def score_document(self, insts: list[PairInstance]) -> tuple[list[float], list[list[float]]]:
        """Concept-pair probabilities and mention-pair logits of one document's candidates."""
        return self.score_batch([insts])[0]

    def score_batch(self, batch: list[list[PairInstance]]) -> list[tuple[list[float], list[list[float]]]]:
        """:meth:`score_document` for many documents; the trees score them all in one numpy call
        (their cost is per call, not per row)."""
        logits = [self.mention_logits(insts) for insts in batch]
        vecs = [self.concept_vectors(insts, z) for insts, z in zip(batch, logits)]
        probs = [[self.concept_model.prob(v) for v in doc_vecs] for doc_vecs in vecs]
        flat = [v for doc_vecs in vecs for v in doc_vecs]
        if self.trees is not None and flat:
            tree_p = self.trees.prob(flat)
            k = 0
            for doc_probs in probs:
                for j in range(len(doc_probs)):
                    doc_probs[j] = (doc_probs[j] + float(tree_p[k])) / 2
                    k += 1
        return list(zip(probs, logits))

    def save(self, model_dir: str | Path) -> None:
        """Both stages and the configuration into ``model_dir`` (the MeSH resource is saved by the caller)."""
        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        self.mention_model.save(d / "mention.json.gz")
        self.concept_model.save(d / "concept.json.gz")
        if self.trees is not None:
            self.trees.save(d / "trees.npz")
        conf = {"type": self.relation_type, "method": self.method, "threshold": self.threshold,
                "features": asdict(self.features),
                "priors": self.priors.to_json() if self.priors is not None else None,
                "branch_priors": self.branch_priors.to_json() if self.branch_priors is not None else None}
        (d / "config.json").write_text(json.dumps(conf, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, model_dir: str | Path, mesh: MeshResource | None) -> RelationClassifier:
        d = Path(model_dir)
        conf = json.loads((d / "config.json").read_text(encoding="utf-8"))
        return cls(LinearModel.load(d / "mention.json.gz"), LinearModel.load(d / "concept.json.gz"), mesh,
                   FeatureConfig(**conf["features"]),
                   Priors.from_json(conf["priors"]) if conf.get("priors") else None,
                   TreeEnsemble.load(d / "trees.npz") if (d / "trees.npz").exists() else None,
                   conf["threshold"], conf.get("type", "INDUCES"), conf.get("method", "two_stage_v1"),
                   BranchPriors.from_json(conf["branch_priors"]) if conf.get("branch_priors") else None)


def _fit_mention(per_doc: list[list[PairInstance]], C: float, mil: bool = False) -> LinearModel:
    """Mention-pair model; labels are the concept pair's (distant supervision).

    With ``mil``, a first model ranks the mention pairs of each positive concept pair and
    the second is trained with only the best one (and any scoring above 0.5) as positive,
    the rest left out: most mention pairs of a CID pair do not state the relation.
    """
    X = [f for insts in per_doc for i in insts for f in i.mention_feats]
    y = [bool(i.pair.label) for insts in per_doc for i in insts for _ in i.mention_feats]
    model = train_logistic(X, y, C=C)
    if not mil:
        return model
    X, y = [], []
    for insts in per_doc:
        for i in insts:
            if not i.pair.label:
                X += i.mention_feats
                y += [False] * len(i.mention_feats)
                continue
            z = [model.margin(f) for f in i.mention_feats]
            top = max(z, default=0.0)
            keep = [f for f, m in zip(i.mention_feats, z) if m >= top or m > 0]
            X += keep
            y += [True] * len(keep)
    return train_logistic(X, y, C=C)


def stage2_data(docs: list[AnnotatedText], per_doc: list[list[PairInstance]], proto: RelationClassifier,
                cfg: TrainConfig) -> tuple[list[dict[str, float]], list[bool]]:
    """Second-stage training vectors built from out-of-fold mention scores and priors.

    The inner cross-validation is repeated ``cfg.inner_repeats`` times with different splits
    and the vectors are pooled: one split's out-of-fold scores are a noisy sample, and the
    second stage (and hence the final model) otherwise depends visibly on which split it got.
    """
    X: list[dict[str, float]] = []
    y: list[bool] = []
    for rep in range(cfg.inner_repeats):
        # Folds group documents by PMID, so two copies of one abstract (say, with gold and with
        # predicted entities) never sit on both sides of a split.
        pmids = sorted({d.doc_id for d in docs})
        random.Random(cfg.seed + rep).shuffle(pmids)
        fold_of = {pm: rank % cfg.inner_folds for rank, pm in enumerate(pmids)}
        inner = [fold_of[d.doc_id] for d in docs]
        for f in range(cfg.inner_folds):
            rest = [p for i, p in enumerate(per_doc) if inner[i] != f]
            proto.mention_model = _fit_mention(rest, cfg.c_mention, cfg.mil)
            proto.priors = (count_priors(d for i, d in enumerate(docs) if inner[i] != f)
                            if cfg.use_priors else None)
            proto.branch_priors = (_branch_priors(proto, [p for i, p in enumerate(per_doc) if inner[i] != f])
                                   if cfg.use_branch_priors else None)
            for i in (i for i in range(len(docs)) if inner[i] == f):
                X += proto.concept_vectors(per_doc[i], proto.mention_logits(per_doc[i]))
                y += [bool(inst.pair.label) for inst in per_doc[i]]
    return X, y


def dense_keys(X: list[dict[str, float]]) -> list[str]:
    return sorted({k for v in X for k in v if not k.startswith(SPARSE_PREFIXES)})


def fit(docs: list[AnnotatedText], mesh: MeshResource | None, cfg: TrainConfig, relation_type: str = "INDUCES",
        method: str = "two_stage_v1") -> RelationClassifier:
    """Train both stages on documents with gold entities and the gold pairs of ``relation_type``."""
    proto = RelationClassifier(LinearModel({}, 0.0), LinearModel({}, 0.0), mesh, cfg.features,
                               threshold=cfg.threshold, relation_type=relation_type, method=method)
    per_doc = [proto.instances(d) for d in docs]
    lrs, forests, data = [], [], []
    for bag in range(cfg.bags):
        X, y = stage2_data(docs, per_doc, proto, replace(cfg, seed=cfg.seed + 101 * bag))
        lrs.append(train_logistic(X, y, C=cfg.c_concept))
        data.append((X, y))
    keys = sorted(set().union(*(dense_keys(X) for X, _ in data)))
    if cfg.use_trees:
        forests = [train_trees(X, y, keys, max_iter=cfg.tree_iter, learning_rate=cfg.tree_rate, seed=cfg.seed)
                   for X, y in data]
        proto.trees = concat_ensembles(forests) if len(forests) > 1 else forests[0]
    proto.concept_model = average_models(lrs) if len(lrs) > 1 else lrs[0]
    proto.mention_model = _fit_mention(per_doc, cfg.c_mention, cfg.mil)
    proto.priors = count_priors(docs) if cfg.use_priors else None
    proto.branch_priors = _branch_priors(proto, per_doc) if cfg.use_branch_priors else None
    log.info("trained on %d documents, %d concept pairs", len(docs), len(y))
    return proto


def _branch_priors(proto: RelationClassifier, per_doc: list[list[PairInstance]]) -> BranchPriors:
    return count_branch_priors((*branch_keys(proto.mesh, i.pair.chemical, i.pair.disease), bool(i.pair.label))
                               for insts in per_doc for i in insts)
