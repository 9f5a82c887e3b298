"""The graph directory: what a built graph is on disk, and how it is replaced safely.

::

    GRAPH/
      manifest.json     format, versions, counts, embedder, vocabularies
      store.lbug        the embedded store (LadybugDB, one file)
      lexicon.pkl       the term index used to read questions
      index/            chunk embeddings + BM25, summary embeddings

A build writes a complete new directory beside the old one and swaps it in
with two renames, so a crash or Ctrl-C mid-build leaves the previous graph
untouched and a half-built one never looks valid (it has no manifest in
place of the old one).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medkg.errors import GraphCorruptError, GraphNotFoundError

log = logging.getLogger(__name__)

FORMAT = "medkg-graph"
FORMAT_VERSION = 3
# files every graph's index/ holds (format 2 added summary_members.json; format 3 the Entity
# properties historical and family)
INDEX_FILES = ("chunk_ids.json", "chunk_vectors.npy", "bm25", "summary_ids.json", "summary_vectors.npy",
               "summary_members.json", "tag_df.json")


@dataclass(frozen=True)
class GraphDir:
    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def store_path(self) -> Path:
        return self.root / "store.lbug"

    @property
    def lexicon_path(self) -> Path:
        return self.root / "lexicon.pkl"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def write_manifest(self, data: dict[str, Any]) -> None:
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **data}
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.manifest_path)

    def read_manifest(self) -> dict[str, Any]:
        """Validate the directory and return its manifest, or raise a clear error."""
        if not self.root.exists():
            raise GraphNotFoundError(f"{self.root}: no graph here; build one first with 'medkg build'")
        if not self.root.is_dir():
            raise GraphNotFoundError(f"{self.root}: is a file, not a graph directory")
        if not self.manifest_path.exists():
            raise GraphCorruptError(f"{self.root}: not a medkg graph (manifest.json missing); rebuild it")
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise GraphCorruptError(f"{self.manifest_path}: damaged manifest ({e}); rebuild the graph") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise GraphCorruptError(f"{self.manifest_path}: not a medkg graph manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise GraphCorruptError(
                f"{self.root}: graph format {data.get('format_version')} but this medkg reads {FORMAT_VERSION};"
                " rebuild the graph"
            )
        for p in (self.store_path, self.lexicon_path, *(self.index_dir / f for f in INDEX_FILES)):
            if not p.exists():
                raise GraphCorruptError(f"{self.root}: {p.relative_to(self.root)} is missing; rebuild the graph")
        return data


@contextmanager
def staged_graph_dir(target: Path) -> Iterator[GraphDir]:
    """Yield a fresh staging directory; on success, swap it in place of ``target``."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.tmp-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        yield GraphDir(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(stage, target)
    shutil.rmtree(old, ignore_errors=True)
    log.info("graph written to %s", target)
