"""The ledger: every document of a graph and what extraction made of it.

A SQLite file in the graph directory with one row per document: its id, the
hash of its content (``Document.content_key``), and the extraction result (the document record, its
chunk meta-graphs and their embeddings). It is the build's memory:

- *resumable*: extraction commits one batch of documents at a time, so a build
  killed half-way keeps every committed batch and the next run skips them;
- *idempotent*: a document whose id and hash are already there is not touched;
  one whose text changed replaces its old row (same id, one row);
- *derived views*: the store and the search index are rebuilt from the ledger
  alone, so deleting a document (``medkg delete``) needs no input files.

The ``fingerprint`` records what produced the rows (vocabulary versions,
extraction and embedder versions); rows made under another fingerprint are
re-extracted from their stored text by the next build.

Payloads are pickles of medkg's own records, written and read only by medkg
on the user's machine (the same trust as the store file beside it).
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medkg.errors import GraphCorruptError
from medkg.kg import pickles
from medkg.kg.records import ChunkGraph, Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    content_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    payload BLOB NOT NULL,
    vectors BLOB NOT NULL,
    dim INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class LedgerRecord:
    """One document as the build needs it: the document, its meta-graphs, one vector per chunk."""

    document: Document
    graphs: list[ChunkGraph]
    vectors: np.ndarray  # (len(graphs), dim) float32


class Ledger:
    """Every document with what extraction made of it, in SQLite: the build's memory (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise GraphCorruptError(f"{self.path}: the build ledger is damaged ({e}); remove the graph and rebuild"
                                    ) from e

    # -- reading ----------------------------------------------------------------
    def known(self) -> dict[str, tuple[str, str]]:
        """document id -> (content key, fingerprint) for every stored document."""
        return {r[0]: (r[1], r[2]) for r in self._db.execute("SELECT id, content_key, fingerprint FROM documents")}

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def state(self) -> str:
        """A digest of (id, content key, fingerprint) over all documents: equal states mean equal views."""
        h = hashlib.sha256()
        for row in self._db.execute("SELECT id, content_key, fingerprint FROM documents ORDER BY id"):
            h.update("\t".join(row).encode("utf-8") + b"\n")
        return h.hexdigest()

    def records(self, ids: Iterable[str] | None = None) -> Iterator[LedgerRecord]:
        """Stored records in id order (all of them, or those in ``ids``)."""
        rows: Iterable[tuple[Any, ...]]
        if ids is None:
            rows = self._db.execute("SELECT id, payload, vectors, dim FROM documents ORDER BY id")
        else:
            wanted = sorted(set(ids))
            rows = (r for i in range(0, len(wanted), 500) for r in self._db.execute(
                "SELECT id, payload, vectors, dim FROM documents WHERE id IN "
                f"({','.join('?' * len(wanted[i:i + 500]))}) ORDER BY id", wanted[i : i + 500]))
        for doc_id, payload, vectors, dim in rows:
            try:
                doc, graphs = pickles.loads(zlib.decompress(payload))
            except (zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
                raise GraphCorruptError(f"{self.path}: the stored record of {doc_id} is damaged ({e})") from e
            vecs = np.frombuffer(vectors, dtype=np.float32).reshape(-1, dim) if dim else np.zeros((0, 0), np.float32)
            yield LedgerRecord(doc, graphs, vecs)

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- writing ----------------------------------------------------------------
    def put(self, records: list[LedgerRecord], fingerprint: str | Callable[[Document], str]) -> None:
        """Insert or replace ``records`` in one transaction (all of them or none); ``fingerprint`` is one for all,
        or a function of each record's document (a build reads reports by rules of their own)."""
        of = fingerprint if callable(fingerprint) else (lambda _: fingerprint)
        rows = [(r.document.id, r.document.content_key, of(r.document),
                 zlib.compress(pickle.dumps((r.document, r.graphs), protocol=5), 1),
                 np.ascontiguousarray(r.vectors, dtype=np.float32).tobytes(), int(r.vectors.shape[1]))
                for r in records]
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?)", rows)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        with self._transaction():
            n = sum(self._db.execute("DELETE FROM documents WHERE id = ?", (i,)).rowcount for i in ids)
        return n

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
