"""The relation model: one classifier per relation type, the MeSH knowledge they share, load and save.

A model directory (the bundled one is ``pipelines/relations/bundled``)::

    model.json           format, relation types and their folders, what it was trained on, held-out figures
    mesh.json.gz         MeSH tree numbers, pharmacological actions, disease words (relations.mesh)
    mesh_headings.npz    supplementary record -> mapped descriptors
    induces/             the INDUCES classifier (relations.classifier: two stages, configuration)
    treats/              the TREATS classifier

``RelationModel.extract`` reads a batch of texts with their linked mentions and returns each text's typed
relations, best first. The model is loaded once per process (:func:`relation_model`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import ModelError, ModelNotFoundError
from medkg.pipelines.relations.classifier import RelationClassifier
from medkg.pipelines.relations.extract import extract_batch
from medkg.pipelines.relations.features import PairInstance
from medkg.pipelines.relations.mesh import MeshResource
from medkg.pipelines.relations.records import AnnotatedText, ConceptRelation

log = logging.getLogger(__name__)

RELATION_MODEL_DIR = Path(__file__).parent / "bundled"
MODEL_FILE = "model.json"
MESH_FILE = "mesh.json.gz"
FORMAT = 1
_MODELS: dict[Path, RelationModel] = {}


@dataclass
class RelationModel:
    """The classifiers of a model directory, by relation type."""

    classifiers: dict[str, RelationClassifier]
    mesh: MeshResource | None
    info: dict[str, Any] = field(default_factory=dict)  # model.json: training data, held-out figures

    @property
    def types(self) -> list[str]:
        return list(self.classifiers)

    def extract(self, texts: Sequence[AnnotatedText], sentences: Sequence[list[tuple[int, int]] | None] | None = None,
                keep_negated: bool = False, exclusive: bool = True) -> list[list[ConceptRelation]]:
        """Every type's relations of each text (one list per text, best first).

        With ``exclusive`` a concept pair keeps only its most probable type: in one document a drug's effect
        on a disease is an adverse effect or a treatment (of the 770 TREATS pairs labelled on the CDR training
        abstracts, 15 were CID pairs too), and each classifier alone, trained for its own type, scores the
        other type's statements highly.
        """
        out: list[list[ConceptRelation]] = [[] for _ in texts]
        spans = sentences if sentences is not None else [None] * len(texts)
        shared: dict[str, list[list[PairInstance]]] = {}  # candidates and features, once per feature setting
        for clf in self.classifiers.values():
            key = json.dumps(asdict(clf.features), sort_keys=True)
            if key not in shared:
                shared[key] = [clf.instances(t, s) for t, s in zip(texts, spans)]
            found_all = extract_batch(texts, clf, sentences, keep_negated=keep_negated, instances=shared[key])
            for k, found in enumerate(found_all):
                out[k].extend(found)
        for k, found in enumerate(out):
            found.sort(key=lambda r: -r.score)
            if exclusive:
                best: set[tuple[str, str]] = set()
                kept = []
                for r in found:  # best first: the first record of a pair is its most probable type
                    if (r.chemical_id, r.disease_id) not in best:
                        best.add((r.chemical_id, r.disease_id))
                        kept.append(r)
                out[k] = kept
        return out

    def save(self, model_dir: Path, info: dict[str, Any] | None = None) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        folders = {t: t.lower() for t in self.classifiers}
        for t, clf in self.classifiers.items():
            clf.save(model_dir / folders[t])
        if self.mesh is not None:
            self.mesh.save(model_dir / MESH_FILE)
        self.info = {**self.info, **(info or {})}
        data = {"format": FORMAT, "types": folders, **self.info}
        (model_dir / MODEL_FILE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, model_dir: Path) -> RelationModel:
        """The model of ``model_dir``, with a clear error when it is missing, damaged or of another format."""
        path = model_dir / MODEL_FILE
        if not path.is_file():
            raise ModelNotFoundError(f"{model_dir}: no relation model here (missing {MODEL_FILE}); "
                                     "run 'medkg train relations'")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ModelError(f"{model_dir}: relation model format {data.get('format')}, this medkg reads "
                                 f"{FORMAT}; run 'medkg train relations'")
            mesh = MeshResource.load(model_dir / MESH_FILE) if (model_dir / MESH_FILE).exists() else None
            classifiers = {t: RelationClassifier.load(model_dir / folder, mesh) for t, folder in data["types"].items()}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{model_dir}: the relation model cannot be loaded ({e})") from e
        info = {k: v for k, v in data.items() if k not in ("format", "types")}
        return cls(classifiers, mesh, info)


def relation_model(model_dir: Path = RELATION_MODEL_DIR) -> RelationModel:
    """The model of ``model_dir``, loaded once per process."""
    if model_dir not in _MODELS:
        _MODELS[model_dir] = RelationModel.load(model_dir)
    return _MODELS[model_dir]


def relation_fingerprint(model_dir: Path = RELATION_MODEL_DIR) -> str:
    """A hash of the model's files (weights, trees, configuration): builds re-extract when the model changes."""
    if not (model_dir / MODEL_FILE).is_file():
        raise ModelNotFoundError(f"{model_dir}: no relation model here (missing {MODEL_FILE})")
    h = hashlib.sha256()
    for p in sorted(q for q in model_dir.rglob("*") if q.is_file() and q.suffix in (".json", ".gz", ".npz")):
        h.update(str(p.relative_to(model_dir)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
