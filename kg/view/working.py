"""Writes to the embedded store, copy-on-write: a killed write never poisons a view, readers never see one.

The embedded engine gives no isolation between processes: a reader that opens a
store while another process writes to it may find a half-written write-ahead log
("the WAL file is corrupted"), and a writer killed in the middle of a large
statement leaves that log behind for every later reader. So a Cypher write
(``medkg cypher --write``, ``KnowledgeGraph.writing()``) does what a build does:

1. under :func:`~medkg.kg.graphdir.graph_lock`, the current view is copied to the
   next ``view-N`` (the store file is copied, the index files and lexicon, which
   a write never changes, are hard links);
2. the statements run on the copy; readers keep reading the current view;
3. on success the copy is checkpointed and closed and the manifest switches to it
   (one atomic rename), exactly as after a build; on an error, or if nothing
   changed, the copy is removed. A process killed before the switch leaves only
   an unreferenced directory, which the next build or write removes.

The cost is one copy of the store file per write (a second for a 100 MB store),
paid only by writes. The switch keeps the ledger state, so the next build sees
nothing to do and keeps the written view, as before; ``build --full`` replaces it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path
from types import TracebackType

from medkg.errors import StoreError
from medkg.kg.embedded import EmbeddedStore
from medkg.kg.graphdir import STORE_FILE, GraphDir, ViewPaths

log = logging.getLogger(__name__)

_NOT_COPIED = {STORE_FILE, STORE_FILE + ".wal", "rdf.nt"}  # the store is copied; an RDF cache describes the old one


class WorkingCopy:
    """A private copy of a graph's current view, writable, switched in by :meth:`commit` (see the module doc).

    Make one only while holding the graph's lock: the lock keeps builds, deletes and other writes (which remove
    views the manifest does not name) away until the copy is committed or discarded.
    """

    def __init__(self, gd: GraphDir) -> None:
        self.gd = gd
        manifest = gd.read_manifest()
        self.source = str(manifest["view"])
        source = gd.view
        self.view = ViewPaths(gd.new_view())
        try:
            _link_tree(source.root, self.view.root)
            for name in (STORE_FILE, STORE_FILE + ".wal"):  # a log a killed in-place writer left is part of it
                if (source.root / name).exists():
                    shutil.copyfile(source.root / name, self.view.root / name)
            self._mark = _stat(self.view.store)
            self.store = EmbeddedStore(self.view.store, read_only=False)
        except BaseException:
            shutil.rmtree(self.view.root, ignore_errors=True)
            raise
        log.info("writing to %s, a copy of %s", self.view.root.name, self.source)

    def changed(self) -> bool:
        """Whether a statement changed the copy (its write-ahead log or its file)."""
        wal = self.view.root / (STORE_FILE + ".wal")
        return (wal.exists() and wal.stat().st_size > 0) or _stat(self.view.store) != self._mark

    def commit(self) -> bool:
        """Make the copy the graph's current view if anything changed (else drop it); returns whether it did."""
        if not self.changed():
            self.discard()
            return False
        current = self.gd.read_manifest()
        if current.get("view") != self.source:  # cannot happen under the lock; never overwrite another's work
            self.discard()
            raise StoreError(f"{self.gd.root}: the graph changed while the write ran; run it again")
        try:
            self.store.query("CHECKPOINT")  # everything into the store file: the copy needs no log to be read
            counts = self.store.counts()
        finally:
            self.store.close()
        data = {k: v for k, v in current.items() if k not in ("view", "previous_view", "format", "format_version")}
        data.update(counts=counts, written_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.gd.switch_to(self.view.root, data)
        log.info("the write is in %s, now the current view", self.view.root.name)
        return True

    def discard(self) -> None:
        """Close and remove the copy (the current view is untouched)."""
        self.store.close()
        shutil.rmtree(self.view.root, ignore_errors=True)

    def __enter__(self) -> WorkingCopy:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None and self.view.root.exists():
            self.discard()


def _link_tree(src: Path, dst: Path) -> None:
    """Hard links of every file of ``src`` under ``dst`` (copies where the file system has no links), but the store."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if rel.parts[0] in _NOT_COPIED:
            continue
        target = dst / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns
