"""Phase 2 of a build: bring the graph's view up to date with its ledger.

A view is derived from the ledger alone (:mod:`medkg.kg.graphdir`). After the
ledger changed, :func:`update_view` writes the next ``view-N`` directory and
switches the manifest to it:

- nothing changed (same ledger state, same store) and no ``full`` rebuild
  asked: the current view stays;
- a change to a few documents on the embedded store: a copy of the current
  view is patched (:mod:`medkg.kg.view.patch`); if patching fails for any
  reason, the view is rebuilt instead, since the ledger is already committed
  and a failing patch would fail again on every later build;
- otherwise the whole view is assembled from the ledger
  (:mod:`medkg.kg.view.assemble`) and loaded into a fresh store with ``COPY``
  (or synchronised on a server store).

What the view is built with travels as one small record, :class:`ViewSpec`;
the manifest records it so the next build can tell whether a patch is safe.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medkg.kg.graphdir import GraphDir, ViewPaths
from medkg.kg.ledger import Ledger
from medkg.kg.store import open_store
from medkg.kg.view.assemble import assemble
from medkg.kg.view.files import IndexFiles
from medkg.kg.view.patch import ViewDiff, patch_view, should_patch, view_diff
from medkg.kg.view.staging import MemoryRows, StagedRows
from medkg.kg.view.summaries import REWRITES_FILE, load_rewrites
from medkg.ontologies.vocabulary import Vocabulary
from medkg.version import __version__

log = logging.getLogger(__name__)


@dataclass
class Stopwatch:
    """Seconds per named stage of a build, accumulated lap by lap (``manifest.json``'s ``stage_seconds``)."""

    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _t: float = 0.0

    def __post_init__(self) -> None:
        self._t = self.started

    def seconds(self) -> float:
        """Seconds since the stopwatch started."""
        return round(time.perf_counter() - self.started, 3)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._t, 3)
        self._t = now


@dataclass(frozen=True)
class ViewSpec:
    """What a view is built with (recorded in the manifest)."""

    store: str  # backend name: embedded or neo4j
    store_options: dict[str, Any]  # a server's connection settings
    vocab: Vocabulary
    embedder: str  # the embedder's name or path, as the manifest records it
    dim: int = 0  # its dimension when loaded; 0: read off the stored vectors
    full: bool = False  # rebuild even for a small change or none (re-clusters topics and themes)

    @property
    def store_identity(self) -> str:
        """Which store the view is in: the backend, and for a server its address and database (no password)."""
        o = self.store_options
        return self.store if not o.get("uri") else f"{self.store}:{o['uri']}/{o.get('database', '')}"


@dataclass(frozen=True)
class ViewUpdate:
    """What :func:`update_view` did."""

    counts: dict[str, int]  # rows per node and edge type in the current view
    rebuilt: bool  # a new view was written (False: nothing changed)
    patched: bool  # ... by patching the previous one rather than assembling it from the ledger


def update_view(gd: GraphDir, ledger: Ledger, spec: ViewSpec, clock: Stopwatch) -> ViewUpdate:
    """Make the current view match the ledger (see the module docstring)."""
    state = ledger.state()
    current = gd.peek_manifest()
    stale = spec.full or not (current and current.get("ledger_state") == state
                              and current.get("store_identity", current.get("store")) == spec.store_identity)
    if not stale:
        log.info("nothing changed; the graph is up to date")
        gd.remove_stale_views()
        return ViewUpdate(counts=current["counts"], rebuilt=False, patched=False)  # type: ignore[index]
    diff = _patchable(gd, ledger, spec, current) if current and not spec.full else None
    if diff:
        try:
            counts = _patch(gd, ledger, spec, state, diff, int(current.get("dim", 0)), clock)  # type: ignore[union-attr]
            gd.remove_stale_views()
            return ViewUpdate(counts=counts, rebuilt=True, patched=True)
        except Exception as e:
            log.warning("patching the view failed (%s: %s); rebuilding it from the ledger", type(e).__name__, e,
                        exc_info=log.isEnabledFor(logging.DEBUG))
    counts = _assemble(gd, ledger, spec, state, clock)
    gd.remove_stale_views()
    return ViewUpdate(counts=counts, rebuilt=True, patched=False)


def _assemble(gd: GraphDir, ledger: Ledger, spec: ViewSpec, state: str, clock: Stopwatch) -> dict[str, int]:
    view = ViewPaths(gd.new_view())
    try:
        _link_or_copy(gd.lexicon_path, view.lexicon)  # the view keeps the lexicon it was built with
        # the embedded store loads CSV files staged inside the new view; a server store takes the rows in memory
        with (StagedRows(view.root) if spec.store == "embedded" else nullcontext(MemoryRows())) as sink:
            built = assemble(ledger, spec.vocab, view.index, sink, dim=spec.dim,
                             rewrites=load_rewrites(gd.root / REWRITES_FILE))  # medkg summaries rewrite
            IndexFiles(view.index).save_document_keys(ledger.known())
            clock.lap("ledger+rows+summaries+index")
            with open_store(spec.store, view.store, read_only=False, create=True, **spec.store_options) as st:
                sink.load_into(st)
                st.add_chunk_vectors(built.chunk_ids, np.load(built.vectors, mmap_mode="r"))
                counts = st.counts()
        clock.lap("store")
    except BaseException:
        shutil.rmtree(view.root, ignore_errors=True)
        raise
    gd.switch_to(view.root, _manifest(spec, built.documents, built.dim, counts, state, "full", clock))
    return counts


def _patchable(gd: GraphDir, ledger: Ledger, spec: ViewSpec, current: dict[str, Any]) -> ViewDiff | None:
    """The change to patch into the current view, or None when the view must be rebuilt."""
    same = (spec.store == "embedded" and current.get("store_identity") == spec.store_identity
            and current.get("embedder") == spec.embedder and current.get("vocabularies") == spec.vocab.versions)
    diff = view_diff(gd.view_dir, ledger.known()) if same else None
    return diff if diff is not None and should_patch(diff, len(ledger)) else None


def _patch(gd: GraphDir, ledger: Ledger, spec: ViewSpec, state: str, diff: ViewDiff, dim: int,
           clock: Stopwatch) -> dict[str, int]:
    previous = gd.view_dir
    view = ViewPaths(gd.new_view())
    try:
        _link_or_copy(gd.lexicon_path, view.lexicon)
        counts = patch_view(previous, view.root, ledger, diff, spec.vocab, load_rewrites(gd.root / REWRITES_FILE))
        clock.lap("patch view")
    except BaseException:
        shutil.rmtree(view.root, ignore_errors=True)
        raise
    gd.switch_to(view.root, _manifest(spec, len(ledger), dim, counts, state, "patch", clock))
    return counts


def _manifest(spec: ViewSpec, documents: int, dim: int, counts: dict[str, int], state: str, kind: str,
              clock: Stopwatch) -> dict[str, Any]:
    return {
        "medkg_version": __version__, "store": spec.store, "store_identity": spec.store_identity,
        "embedder": spec.embedder, "dim": dim, "vocabularies": spec.vocab.versions, "documents": documents,
        "counts": counts, "ledger_state": state, "view_kind": kind,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "stage_seconds": clock.timings,
    }


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link where the file system allows one (the build replaces ``src`` by rename, never in place)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
