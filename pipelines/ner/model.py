"""The bundled NER model at run time: where it is, loading it once, and its fingerprint.

Training lives in :mod:`medkg.pipelines.ner.training`; the extraction pipeline only loads a trained model
(``ner/bundled`` unless another folder is given) and fingerprints it so that builds re-extract when it changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from medkg.errors import MedKGError
from medkg.pipelines.linking.priors import PRIORS_FILE

MODEL_FORMAT = 2  # 2: lexicon tags carry MeSH branches (format 1 models saw the group alone)
NER_MODEL_DIR = Path(__file__).parent / "bundled"
_NER_MODELS: dict[Path, Language] = {}


def ner_model(model_dir: Path = NER_MODEL_DIR) -> Language:
    if model_dir not in _NER_MODELS:
        _NER_MODELS[model_dir] = load_ner(model_dir)
    return _NER_MODELS[model_dir]


def ner_fingerprint(model_dir: Path = NER_MODEL_DIR) -> str:
    """A hash of the NER model's weights and match priors: builds re-extract when either changes."""
    weights = model_dir / "ner" / "model"
    if not weights.is_file():
        raise MedKGError(f"{model_dir}: no trained NER model here (missing ner/model); run 'medkg train ner'")
    h = hashlib.sha256(weights.read_bytes())
    if (model_dir / PRIORS_FILE).is_file():
        h.update((model_dir / PRIORS_FILE).read_bytes())
    return h.hexdigest()[:16]



def load_ner(model_dir: Path) -> Language:
    """The trained pipeline (blank English tokenizer + ``ner``), with a clear error when it is not there.

    A model that used lexicon features under an older tag scheme would be fed tags it never saw; it is refused.
    """
    if not (model_dir / "config.cfg").is_file():
        raise MedKGError(f"{model_dir}: no trained NER model here (missing config.cfg); run 'medkg train ner'")
    meta = _training_meta(model_dir)
    if meta.get("lexicon_features") and meta.get("format", 1) != MODEL_FORMAT:
        raise MedKGError(f"{model_dir}: this NER model was trained with lexicon tags of format {meta.get('format', 1)}"
                         f", the pipeline writes format {MODEL_FORMAT}; re-run 'medkg train ner'")
    try:
        return spacy.load(model_dir)
    except (OSError, ValueError) as e:
        raise MedKGError(f"{model_dir}: the NER model cannot be loaded ({e})") from e


def _training_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "training.json"
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MedKGError(f"{path}: not readable as the model's training record ({e})") from e
    return meta if isinstance(meta, dict) else {}
