"""Where medkg keeps things by default: one module, so every command and the Python API agree.

Each default honours its own override variable first, then the XDG base
directories (``XDG_DATA_HOME``, default ``~/.local/share``; ``XDG_CACHE_HOME``,
default ``~/.cache``):

=============  ====================  ======================================
what           override              default
=============  ====================  ======================================
graph          ``MEDKG_GRAPH``       ``$XDG_DATA_HOME/medkg/graph``
vocabularies   ``MEDKG_VOCAB``       ``$XDG_DATA_HOME/medkg/vocab``
models         ``MEDKG_MODELS``      ``$XDG_DATA_HOME/medkg/models``
eval cache     (``--cache``)         ``$XDG_CACHE_HOME/medkg/eval``
=============  ====================  ======================================

These are functions, not constants: the environment is read when a default
is needed, so a test or an app that sets a variable later is honoured.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """``$XDG_DATA_HOME/medkg`` (``~/.local/share/medkg`` when the variable is unset or empty)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "medkg"


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/medkg`` (``~/.cache/medkg`` when the variable is unset or empty)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medkg"


def default_graph_dir() -> Path:
    return Path(os.environ["MEDKG_GRAPH"]) if os.environ.get("MEDKG_GRAPH") else data_home() / "graph"


def default_vocab_dir() -> Path:
    return Path(os.environ["MEDKG_VOCAB"]) if os.environ.get("MEDKG_VOCAB") else data_home() / "vocab"


def default_models_dir() -> Path:
    return Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else data_home() / "models"


def default_eval_cache() -> Path:
    return cache_home() / "eval"


def sample_paths() -> list[Path]:
    """The bundled sample corpus: literature abstracts (tier 2) and synthetic notes (tier 1)."""
    root = Path(__file__).resolve().parent / "sample"
    return [root / "abstracts.jsonl", root / "notes"]
