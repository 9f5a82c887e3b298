"""``medkg train relations``: the relation model, trained on annotated chemical-disease pairs.

Two sources of labels, both over documents with gold entity mentions (PubTator files):

- PubTator relation lines: BioCreative V CDR's ``CID`` (chemical induces disease) trains ``INDUCES`` on
  every document of the files;
- a pair-labels file (TSV: ``pmid``, ``chemical_id``, ``disease_id``, ``label``, ... ``split``), such as
  the TREATS labels under ``bench/relations/``: every candidate pair of a labelled document is labelled
  (``TREATS`` or ``NONE``), so the documents it names train that type, from the rows of one ``split``.

Each type gets a two-stage classifier (:mod:`medkg.pipelines.relations.classifier`) with the settings chosen
by cross-validation on the CDR training split (:class:`~medkg.pipelines.relations.classifier.TrainConfig`).
With ``heldout_share``, a fixed share of the documents (by a hash of their id, as ``medkg train ner`` does)
is kept out of a first model to report held-out figures, and the saved model is trained on all of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import INDUCES
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.reading import GoldMention, read_gold, read_relations
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.relations.classifier import RelationClassifier, TrainConfig, fit
from medkg.pipelines.relations.extract import extract_batch
from medkg.pipelines.relations.mesh import MeshResource, build_mesh_resource
from medkg.pipelines.relations.model import RelationModel
from medkg.pipelines.relations.records import CHEMICAL, DISEASE, AnnotatedText, EntityMention

log = logging.getLogger(__name__)

METHOD = "relation-model-v1"  # the ``method`` of every edge the bundled model makes
# the settings chosen by cross-validation on training data (bench/relations_cv.py)
DEFAULT_CONFIGS = {"INDUCES": TrainConfig(use_branch_priors=True, threshold=0.28),
                   "TREATS": TrainConfig(threshold=0.26)}
LABEL_COLUMNS = ("pmid", "chemical_id", "disease_id", "label")


@dataclass
class RelationTrainReport:
    """What ``train_relations`` did, also written into the model's ``model.json``."""

    documents: dict[str, int]  # per type
    positives: dict[str, int]
    heldout: dict[str, dict[str, float]] = field(default_factory=dict)  # per type: precision, recall, f1
    seconds: float = 0.0


def mesh_id(curie: str) -> str:
    """A concept id as the relation features read it: MeSH ids bare (``D003920``), other CURIEs as they are."""
    return curie[5:] if curie.startswith("MESH:") else curie


def annotated_texts(path: Path) -> list[AnnotatedText]:
    """The documents of a PubTator file with their gold chemical and disease mentions and CID pairs."""
    documents, gold = read_gold(path)
    by_doc: dict[str, list[GoldMention]] = {}
    for g in gold:
        by_doc.setdefault(g.doc_id, []).append(g)
    cid: dict[str, set[tuple[str, str]]] = {}
    for r in read_relations(path):
        if r.type == INDUCES:
            cid.setdefault(r.doc_id, set()).add((mesh_id(r.source), mesh_id(r.target)))
    out = []
    for d in documents:
        mentions = sorted((EntityMention(g.start, g.end, g.text, g.type, tuple(sorted(mesh_id(i) for i in g.ids)))
                           for g in by_doc.get(d.id, []) if g.type in (CHEMICAL, DISEASE)),
                          key=lambda m: (m.start, m.end))
        out.append(AnnotatedText(d.id, d.text, len(d.title) if d.title and d.text.startswith(d.title) else 0,
                                 mentions, cid.get(d.id, set())))
    return out


@dataclass(frozen=True)
class PairLabels:
    """The labelled documents of one relation type: positive pairs per document, and each document's split."""

    type: str
    positives: dict[str, set[tuple[str, str]]]  # document id -> (chemical, disease) pairs with the type
    split: dict[str, str]  # document id -> "train", "heldout", ...
    evidence: dict[str, dict[tuple[str, str], tuple[int, int]]] = field(default_factory=dict)


def read_pair_labels(path: Path, relation_type: str) -> PairLabels:
    """A pair-labels TSV (see the module docstring); ``label`` is the type's name or ``NONE``.

    A pair labelled with the type but ``negated`` (the text reports it tested and failed: "X did not prevent Y")
    is a negative: medkg asserts only relations the text states.
    """
    reader = csv.DictReader(io.StringIO(read_text(path)), delimiter="\t")
    missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: a pair-labels file needs the columns {', '.join(LABEL_COLUMNS)} "
                         f"(missing {', '.join(missing)})")
    positives: dict[str, set[tuple[str, str]]] = {}
    split: dict[str, str] = {}
    evidence: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for lineno, row in enumerate(reader, start=2):
        if row["label"] not in (relation_type, "NONE"):
            raise InputError(f"{path}:{lineno}: label {row['label']!r} is neither {relation_type} nor NONE")
        doc = f"PMID:{row['pmid']}"
        positives.setdefault(doc, set())
        split[doc] = row.get("split") or "train"
        if row["label"] == relation_type and (row.get("negated") or "0") != "1":
            pair = (mesh_id(row["chemical_id"]), mesh_id(row["disease_id"]))
            positives[doc].add(pair)
            start, end = row.get("evidence_start") or "", row.get("evidence_end") or ""
            if start.isdigit() and end.isdigit():
                evidence.setdefault(doc, {})[pair] = (int(start), int(end))
    if not positives:
        raise InputError(f"{path}: no labelled pairs")
    return PairLabels(relation_type, positives, split, evidence)


def labelled_texts(texts: Iterable[AnnotatedText], labels: PairLabels, split: str | None) -> list[AnnotatedText]:
    """The texts ``labels`` covers (in ``split`` if given), with its positive pairs as their relations."""
    out = []
    for t in texts:
        if t.doc_id in labels.positives and (split is None or labels.split[t.doc_id] == split):
            out.append(AnnotatedText(t.doc_id, t.text, t.title_end, t.mentions, labels.positives[t.doc_id],
                                     labels.evidence.get(t.doc_id, {})))
    return out


def is_heldout(doc_id: str, share: float) -> bool:
    """A fixed pseudo-random share of documents, by a hash of the id (stable across runs and machines)."""
    return share > 0 and int(hashlib.sha256(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def train_relations(files: list[Path], out_dir: Path, vocabulary: Vocabulary, *,
                    labels: dict[str, tuple[Path, str | None]] | None = None, heldout_share: float = 0.1,
                    configs: dict[str, TrainConfig] | None = None,
                    on_type: Callable[[str, dict[str, float]], None] | None = None) -> RelationTrainReport:
    """Train INDUCES on the CID lines of ``files`` and each type of ``labels`` (type -> (TSV, split)) on its
    labelled documents; save the model to ``out_dir``; report held-out figures per type."""
    t0 = time.perf_counter()
    texts = [t for f in files for t in annotated_texts(f)]
    if not texts:
        raise InputError(f"{', '.join(map(str, files))}: no documents")
    sets = {INDUCES: texts} if any(t.relations for t in texts) else {}
    for rtype, (path, split) in (labels or {}).items():
        sets[rtype] = labelled_texts(texts, read_pair_labels(path, rtype), split)
        if not sets[rtype]:
            raise InputError(f"{path}: none of its documents is in {', '.join(map(str, files))}")
    if not sets:
        raise InputError(f"{', '.join(map(str, files))}: no CID relation lines and no pair labels to train on")
    mesh = build_mesh_resource(vocabulary)
    report = RelationTrainReport(documents={t: len(s) for t, s in sets.items()},
                                 positives={t: sum(len(x.relations) for x in s) for t, s in sets.items()})
    classifiers = {}
    for rtype, docs in sets.items():
        cfg = (configs or {}).get(rtype) or DEFAULT_CONFIGS.get(rtype, TrainConfig())
        if heldout_share > 0:
            report.heldout[rtype] = heldout_scores(docs, mesh, cfg, rtype, heldout_share)
            if on_type:
                on_type(rtype, report.heldout[rtype])
        classifiers[rtype] = fit(docs, mesh, cfg, rtype, METHOD)
    report.seconds = round(time.perf_counter() - t0, 1)
    RelationModel(classifiers, mesh).save(out_dir, {"trained_on": [f.name for f in files],
                                                    "report": asdict(report)})
    return report


def heldout_scores(docs: list[AnnotatedText], mesh: MeshResource, cfg: TrainConfig, rtype: str, share: float
                   ) -> dict[str, float]:
    """Precision, recall and F1 of a model trained without the held-out share, on that share."""
    train = [d for d in docs if not is_heldout(d.doc_id, share)]
    test = [d for d in docs if is_heldout(d.doc_id, share)]
    if not train or not test:
        return {}
    clf = fit(train, mesh, cfg, rtype, METHOD)
    return score_texts(test, clf)


def score_texts(texts: list[AnnotatedText], clf: RelationClassifier) -> dict[str, float]:
    """Document-level pair scores of ``clf`` against the texts' own relations."""
    gold = {(t.doc_id, c, d) for t in texts for c, d in t.relations}
    pred = {(r.doc_id, r.chemical_id, r.disease_id) for found in extract_batch(texts, clf) for r in found}
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "documents": len(texts), "gold": len(gold), "predicted": len(pred)}
