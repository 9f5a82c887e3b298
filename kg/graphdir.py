"""The graph directory: what a built graph is on disk, and how it changes safely.

::

    GRAPH/
      manifest.json     format, versions, counts, embedder, vocabularies, and which view is current
      ledger.sqlite     every document with what extraction made of it (the build's memory: see kg/ledger.py)
      lexicon.pkl       the term index extraction uses (replaced when the vocabulary changes)
      view-000007/      the current derived view
        store.lbug      the embedded store (LadybugDB, one file)
        index/          chunk embeddings + BM25, summary embeddings
        lexicon.pkl     the lexicon the view was built with (a hard link), used to read questions
      view-000006/      the previous view, kept for readers that opened it before the switch

The ledger is updated in place, one committed batch of documents at a time, so
an interrupted build keeps the work it had done. Everything else is derived
from the ledger: a build writes a complete new ``view-N`` directory and then
switches to it by rewriting the manifest (one atomic rename). A crash before
that switch leaves the previous view in use; views older than the previous one
are removed by the next build. No reader ever sees a half-built view, and a
reader that opened the previous view keeps its files until the build after.
With the Neo4j backend the store lives on the server and a view holds only the
search index.

Writers take :func:`graph_lock` (one build, delete or Cypher write at a time;
another is refused with one line naming the graph and the process holding it).
A write to the embedded store never changes a view in place either: it works
on a copy of the current view that the manifest switches to when the write
commits (:mod:`medkg.kg.view.working`). Readers take no lock: they open the
view the manifest names, which no one changes.

The backend a build chose is recorded in the ledger as the build starts
(:meth:`GraphDir.backend`), so a rerun after a first build into Neo4j failed
goes on with Neo4j rather than quietly building an embedded graph.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import GraphCorruptError, GraphNotFoundError, InputError
from medkg.kg.view.files import REQUIRED as INDEX_FILES

log = logging.getLogger(__name__)

FORMAT = "medkg-graph"
FORMAT_VERSION = 5  # 5: RELATED carries negated and speculative; typed relations
MANIFEST_FILE = "manifest.json"
LEDGER_FILE = "ledger.sqlite"
LEXICON_FILE = "lexicon.pkl"
STORE_FILE = "store.lbug"  # the embedded store, inside a view
INDEX_DIR = "index"  # the search and summary index files, inside a view (see medkg.kg.view.files)
LOCK_FILE = ".lock"
BACKEND_KEY = "store"  # the ledger's meta key of the backend the latest build chose
_VIEW = re.compile(r"^view-(\d{6})$")


@dataclass(frozen=True)
class ViewPaths:
    """The files of one view directory."""

    root: Path

    @property
    def store(self) -> Path:
        return self.root / STORE_FILE

    @property
    def index(self) -> Path:
        return self.root / INDEX_DIR

    @property
    def lexicon(self) -> Path:
        """The lexicon the view was built with (a hard link to the graph's at that time), used to read questions."""
        return self.root / LEXICON_FILE


@dataclass
class GraphDir:
    """A graph directory: its manifest, ledger, lexicon and views (see the module docstring).

    Reading the manifest validates the directory, so a missing, foreign, damaged or outdated graph fails with
    a clear :class:`~medkg.errors.GraphNotFoundError` or :class:`~medkg.errors.GraphCorruptError`.
    """

    root: Path
    _manifest: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def ledger_path(self) -> Path:
        return self.root / LEDGER_FILE

    @property
    def lexicon_path(self) -> Path:
        return self.root / LEXICON_FILE

    @property
    def view_dir(self) -> Path:
        """The current view (from the manifest)."""
        return self.root / str(self.read_manifest()["view"])

    @property
    def view(self) -> ViewPaths:
        return ViewPaths(self.view_dir)

    @property
    def store_path(self) -> Path:
        return self.view.store

    @property
    def index_dir(self) -> Path:
        return self.view.index

    @property
    def view_lexicon_path(self) -> Path:
        return self.view.lexicon

    def backend(self) -> str:
        """The store the graph lives in: the one the latest build chose (recorded as it started, so an
        unfinished first build counts), else the manifest's, else ``embedded`` for a new graph."""
        if self.ledger_path.exists():
            try:
                con = sqlite3.connect(f"file:{self.ledger_path}?mode=ro", uri=True, timeout=10)
                try:
                    row = con.execute("SELECT value FROM meta WHERE key = ?", (BACKEND_KEY,)).fetchone()
                finally:
                    con.close()
            except sqlite3.Error as e:  # a ledger from before the key, or being created
                log.debug("%s: no backend recorded in the ledger (%s)", self.root, e)
                row = None
            if row:
                return str(row[0])
        return str((self.peek_manifest() or {}).get("store", "embedded"))

    # -- views ----------------------------------------------------------------
    def views(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if _VIEW.match(p.name)) if self.root.is_dir() else []

    def new_view(self) -> Path:
        """An empty directory for the next view, numbered after every view present."""
        last = max((int(_VIEW.match(v).group(1)) for v in self.views()), default=0)  # type: ignore[union-attr]
        path = self.root / f"view-{last + 1:06d}"
        path.mkdir(parents=True)
        return path

    def switch_to(self, view: Path, data: dict[str, Any]) -> None:
        """Make ``view`` current by writing the manifest, then remove views older than the one it replaces."""
        previous = (self.peek_manifest() or {}).get("view")
        self.write_manifest({**data, "view": view.name, "previous_view": previous})
        self.remove_stale_views()

    def remove_stale_views(self) -> None:
        """Remove every view but the current one and the one it replaced (half-built ones included)."""
        m = self._manifest or {}
        keep = {m.get("view"), m.get("previous_view")}
        for v in self.views():
            if v not in keep:
                shutil.rmtree(self.root / v, ignore_errors=True)
                log.info("removed stale view %s", v)

    # -- manifest -------------------------------------------------------------
    def write_manifest(self, data: dict[str, Any]) -> None:
        payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **data}
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.manifest_path)
        self._manifest = payload

    def peek_manifest(self) -> dict[str, Any] | None:
        """The manifest if a valid one is there, else None (a build in progress or an empty directory)."""
        try:
            return self.read_manifest()
        except (GraphNotFoundError, GraphCorruptError):
            return None

    def read_manifest(self) -> dict[str, Any]:
        """Validate the directory and return its manifest, or raise a clear error."""
        if self._manifest is not None:
            return self._manifest
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
                f"{self.root}: graph format {data.get('format_version')} but this medkg reads {FORMAT_VERSION}; "
                f"run 'medkg build --graph {self.root}' to bring it up to date (its documents are kept and "
                "re-extracted from the ledger)"
            )
        view = ViewPaths(self.root / str(data.get("view", "")))
        needed = [view.lexicon, *(view.index / f for f in INDEX_FILES)]
        if data.get("store", "embedded") == "embedded":
            needed.append(view.store)
        for p in needed:
            if not p.exists():
                raise GraphCorruptError(f"{self.root}: {p.relative_to(self.root)} is missing; rebuild the graph")
        self._manifest = data
        return data


def refuse_foreign_dir(target: Path) -> None:
    """Never write into a directory that is not a medkg graph (a typo must not mix files into someone's folder)."""
    if target.exists() and (not target.is_dir() or any(p.name != LOCK_FILE for p in target.iterdir())):
        manifest = GraphDir(target).manifest_path
        ledger = GraphDir(target).ledger_path
        ours = ledger.exists() or (
            manifest.exists() and f'"{FORMAT}"' in manifest.read_text(encoding="utf-8", errors="replace"))
        if not ours:
            raise InputError(f"{target}: exists and is not a medkg graph; refusing to write into it")


def open_for_writing(target: Path) -> GraphDir:
    """The graph directory a build writes into: created if new, refused if foreign, cleared of debris.

    A graph of an older format (a manifest but no ledger) has nothing to resume from and is started again;
    temporary files a killed build left (``.*.tmp*``) are removed.
    """
    refuse_foreign_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    gd = GraphDir(target)
    if not gd.ledger_path.exists() and gd.manifest_path.exists():
        log.warning("%s: replacing a graph of an older format (its ledger is missing)", target)
        for name in (MANIFEST_FILE, STORE_FILE, LEXICON_FILE, INDEX_DIR):
            p = target / name
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    for debris in target.glob(".*.tmp*"):
        shutil.rmtree(debris, ignore_errors=True) if debris.is_dir() else debris.unlink(missing_ok=True)
    return gd


_held: dict[tuple[str, int], int] = {}  # (graph, thread) -> depth: the lock is re-entrant within a thread
_held_guard = threading.Lock()


@contextmanager
def graph_lock(gd: GraphDir, what: str = "a build or delete", *, reentrant: bool = False) -> Iterator[None]:
    """One build, delete or Cypher write at a time per graph directory (an advisory lock, released if the
    process dies). Another writer is refused with one line naming the graph and what holds it. ``reentrant``:
    go on if this thread holds the lock already (a command holds it around library code that takes it too)."""
    if not gd.root.is_dir():
        gd.read_manifest()  # raises the clear error: no graph here / a file, not a graph directory
    key = (os.path.realpath(gd.root), threading.get_ident())
    with _held_guard:
        if reentrant and _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    with open(gd.root / LOCK_FILE, "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise InputError(f"{gd.root}: {_holder(f)} is changing this graph; wait for it to finish, "
                             "or stop it") from e
        f.seek(0)
        f.truncate()
        f.write(f"{what} (pid {os.getpid()})".encode())
        f.flush()
        with _held_guard:
            _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


def _holder(f: Any) -> str:
    """What the lock file says holds the lock ("a build (pid 123)"), or a generic description."""
    try:
        f.seek(0)
        text = f.read(200).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "another build, delete or Cypher write"
