"""The files of a view's ``index/`` folder: every name in one place, and the records read from them.

A view (``GRAPH/view-N/``, see :mod:`medkg.kg.graphdir`) holds its store and an
``index/`` folder written by the build and read by retrieval:

========================  =====================================================  =========
file                      what                                                   written by
========================  =====================================================  =========
``chunk_ids.json``        chunk ids, one per row of the vectors and BM25         search
``chunk_vectors.npy``     chunk embeddings (float32, normalised)                 search
``bm25/``                 the BM25 index (``bm25s``)                             search
``summary_ids.json``      topics (level-1 summaries) in row order                topics
``summary_vectors.npy``   topic centroids                                        topics
``summary_norms.npy``     norms of the member sums the centroids are made from   topics
``summary_members.json``  topic id -> its chunk ids                              topics
``tag_df.json``           document frequency of level-0 tags, and their number   topics
``themes.json``           theme (level 2) id -> its topic ids                    themes
``theme_vectors.npy``     theme centroids                                        themes
``documents.json``        document id -> (content key, fingerprint) held         patching
``ivf_*.npy``             IVF index of the chunk vectors (1M chunks and more)    search
========================  =====================================================  =========

:class:`IndexFiles` is the only code that names them. The first seven are
:data:`REQUIRED`: a view without them cannot answer questions. Themes and the
document keys appeared later; a view without them still answers (U-Retrieve
skips level 2) and is rebuilt rather than patched.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_IDS = "chunk_ids.json"
CHUNK_VECTORS = "chunk_vectors.npy"
BM25 = "bm25"
TOPIC_IDS = "summary_ids.json"
TOPIC_VECTORS = "summary_vectors.npy"
TOPIC_NORMS = "summary_norms.npy"
TOPIC_MEMBERS = "summary_members.json"
TAG_DF = "tag_df.json"
THEMES = "themes.json"
THEME_VECTORS = "theme_vectors.npy"
DOCUMENT_KEYS = "documents.json"

REQUIRED = (CHUNK_IDS, CHUNK_VECTORS, BM25, TOPIC_IDS, TOPIC_VECTORS, TOPIC_MEMBERS, TAG_DF)
OPTIONAL = (THEMES, THEME_VECTORS, DOCUMENT_KEYS, TOPIC_NORMS)


@dataclass
class TopicIndex:
    """What U-Retrieve reads of level 1: topic ids, their members and centroids, and the tag statistics."""

    ids: list[str]
    vectors: np.ndarray  # one row per id
    members: dict[str, list[str]]  # topic id -> chunk ids
    tag_df: dict[str, int]  # level-0 tag -> how many level-0 summaries carry it
    n: int  # level-0 summaries counted in ``tag_df``
    norms: np.ndarray | None = None  # norm of each topic's member sum (None: a view written before they were)


@dataclass
class ThemeIndex:
    """Level 2: each theme's topics, and the theme centroids in the order of ``children``."""

    children: dict[str, list[str]]
    vectors: np.ndarray


class IndexFiles:
    """Reads and writes the files of one ``index/`` folder (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    def path(self, name: str) -> Path:
        return self.dir / name

    def missing(self) -> list[str]:
        """Required files that are not there."""
        return [name for name in REQUIRED if not (self.dir / name).exists()]

    # -- topics (level 1) -------------------------------------------------------
    def save_topics(self, topics: TopicIndex) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        np.save(self.dir / TOPIC_VECTORS, topics.vectors)
        if topics.norms is not None:
            np.save(self.dir / TOPIC_NORMS, topics.norms)
        else:
            (self.dir / TOPIC_NORMS).unlink(missing_ok=True)
        self._write(TOPIC_IDS, topics.ids)
        self._write(TOPIC_MEMBERS, topics.members)
        self._write(TAG_DF, {"n": topics.n, "df": {t: k for t, k in topics.tag_df.items() if k > 0}})

    def load_topics(self) -> TopicIndex:
        df = self._read(TAG_DF)
        norms = np.load(self.dir / TOPIC_NORMS) if (self.dir / TOPIC_NORMS).exists() else None
        return TopicIndex(ids=self._read(TOPIC_IDS), vectors=np.load(self.dir / TOPIC_VECTORS, mmap_mode="r"),
                          members=self._read(TOPIC_MEMBERS), tag_df=Counter(df["df"]), n=int(df["n"]), norms=norms)

    # -- themes (level 2) -------------------------------------------------------
    def save_themes(self, themes: ThemeIndex) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        np.save(self.dir / THEME_VECTORS, themes.vectors)
        self._write(THEMES, themes.children)

    def load_themes(self) -> ThemeIndex | None:
        """The themes, or None for a view written before themes existed."""
        if not (self.dir / THEMES).exists():
            return None
        vectors = np.load(self.dir / THEME_VECTORS) if (self.dir / THEME_VECTORS).exists() else np.zeros((0, 0))
        return ThemeIndex(children=self._read(THEMES), vectors=vectors)

    # -- which document versions the view holds ---------------------------------
    def save_document_keys(self, known: dict[str, tuple[str, str]]) -> None:
        self._write(DOCUMENT_KEYS, {d: list(k) for d, k in sorted(known.items())})

    def load_document_keys(self) -> dict[str, tuple[str, str]] | None:
        """Document id -> (content key, fingerprint), or None for a view that did not record them."""
        if not (self.dir / DOCUMENT_KEYS).exists():
            return None
        return {d: (k[0], k[1]) for d, k in self._read(DOCUMENT_KEYS).items()}

    def _write(self, name: str, data: Any) -> None:
        (self.dir / name).write_text(json.dumps(data), encoding="utf-8")

    def _read(self, name: str) -> Any:
        return json.loads((self.dir / name).read_text(encoding="utf-8"))
