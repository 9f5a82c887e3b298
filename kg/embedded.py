"""The embedded store: LadybugDB, one file, Cypher, zero set-up.

Batch builds write each table to a CSV file and load it with ``COPY FROM``,
the fast path of the engine (node tables whose list columns may contain
commas, i.e. ``Concept.synonyms``, go through ``UNWIND $rows CREATE`` instead,
which is fast enough for nodes). Relationships are always COPY'd: the
``MATCH ... CREATE`` route degrades to a few hundred rows per second as a
graph grows.

A store opened read-only refuses writes in the engine itself, and every
statement first passes :func:`medkg.kg.guard.check_cypher` (the engine's
read-only mode still runs ``CHECKPOINT``, ``COPY TO``, ``LOAD EXTENSION``).
Opened read-only, its buffer pool (all the memory a query may use) is
bounded by ``READ_MEMORY_MB``.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import ladybug

from medkg.errors import GraphCorruptError, GraphNotFoundError, StoreError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.guard import check_cypher
from medkg.kg.schema import NODE_TABLES, REL_TABLES, NodeTable
from medkg.kg.store import GraphStore, row_params

log = logging.getLogger(__name__)

_UNSAFE_LIST_CHARS = set(',[]"\'\n')
READ_MEMORY_MB = 2048  # the memory bound of a store opened read-only (users' queries, retrieval)
DISK_FULL_BYTES = 1 << 20  # an I/O error of the engine with less free space than this is a full disk
BUILD_MEMORY_MB = 1024  # ... and of a store a build creates and loads with COPY (measured: a 1M view loads in it)


def _q(name: str) -> str:
    return f"`{name}`"


def csv_cells(row: tuple) -> list[Any]:
    """A row as the cells of the CSV files ``COPY`` reads (lists as ``[a,b]``, booleans as ``true``/``false``)."""
    return [_cell(v) for v in row]


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return "[" + ",".join(v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def csv_safe(table: NodeTable, row: tuple) -> bool:
    """Whether ``COPY`` reads the row's list cells back as they are (no comma, bracket or quote in an item)."""
    return all(not (_UNSAFE_LIST_CHARS & set("".join(row[i])))
               for i, (_, ty) in enumerate(table.columns) if ty.endswith("[]"))


class EmbeddedStore(GraphStore):
    """The zero-setup store: LadybugDB in one file of the view (``store.lbug``), Cypher, bulk ``COPY``."""

    def __init__(self, path: Path, *, read_only: bool = True, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise GraphNotFoundError(f"{self.path}: no graph store here")
        # the engine's buffer pool is its whole memory for a query (its default is 80% of the machine's)
        # a build's (create) is bounded too, so that COPY does not keep pages of a large store in memory
        self.memory_mb = READ_MEMORY_MB if read_only and not create else BUILD_MEMORY_MB if create else 0
        self.read_only = read_only and not create
        self._open()

    def _open(self) -> None:
        try:
            self._db = ladybug.Database(str(self.path), read_only=self.read_only,
                                        buffer_pool_size=self.memory_mb * 2**20)
            self._conn = ladybug.Connection(self._db)
        except RuntimeError as e:
            raise GraphCorruptError(f"{self.path}: cannot open the graph store ({e})") from e

    # -- schema and loading -------------------------------------------------
    def create_schema(self) -> None:
        for t in NODE_TABLES:
            cols = ", ".join(f"{_q(n)} {ty}" for n, ty in t.columns)
            self._exec(f"CREATE NODE TABLE IF NOT EXISTS {t.name}({cols}, PRIMARY KEY({_q(t.columns[0][0])}))")
        for r in REL_TABLES:
            cols = "".join(f", {_q(n)} {ty}" for n, ty in r.columns)
            self._exec(f"CREATE REL TABLE IF NOT EXISTS {r.name}(FROM {r.source} TO {r.target}{cols})")

    def bulk_load(self, batch: GraphBatch) -> None:
        with tempfile.TemporaryDirectory(prefix="medkg-stage-") as tmp:
            for t in NODE_TABLES:
                rows = batch.nodes.get(t.name, [])
                if not rows:
                    continue
                if self._csv_safe(t, rows):
                    self._copy(t.name, rows, Path(tmp))
                else:
                    self._unwind_create(t, rows)
            for r in REL_TABLES:
                rows = batch.rels.get(r.name, [])
                if rows:
                    self._copy(r.name, rows, Path(tmp))
        log.info("loaded %s", {k: v for k, v in batch.counts().items() if v})

    @staticmethod
    def _csv_safe(table: NodeTable, rows: list[tuple]) -> bool:
        return all(csv_safe(table, row) for row in rows)

    def _copy(self, table: str, rows: list[tuple], tmp: Path) -> None:
        path = tmp / f"{table}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            for row in rows:
                w.writerow(csv_cells(row))
        self.copy_file(table, path)

    def copy_file(self, table: str, path: Path) -> None:
        """``COPY`` a CSV file of rows (written with :func:`csv_cells`) into ``table``, which may hold rows already.

        The database is closed and opened again after each file. The engine keeps what a ``COPY`` built outside
        its buffer pool (primary-key indexes among it) until it is closed, so memory grew with every table
        loaded: a 1M-document view peaked at 8.9 GB with a 1 GB pool. Reopened per file, a load's memory is
        that of its largest file (measured at 100k documents: peak 970 -> 565 MB, same time).
        """
        # auto_detect off: the engine sniffs the first rows and would miss quoting that starts later
        self._exec(f"COPY {table} FROM '{path.as_posix()}' "
                   "(header=false, parallel=false, quote='\"', escape='\"', auto_detect=false)")
        self._conn.close()
        self._db.close()
        self._open()

    def _unwind_create(self, table: NodeTable, rows: list[tuple]) -> None:
        names = [n for n, _ in table.columns]
        props = ", ".join(f"{_q(n)}: row.{_q(n)}" for n in names)
        stmt = f"UNWIND $rows AS row CREATE (:{table.name} {{{props}}})"
        for i in range(0, len(rows), 5000):
            self._exec(stmt, {"rows": [row_params(names, r) for r in rows[i : i + 5000]]})

    # -- queries --------------------------------------------------------------
    def _exec(self, stmt: str, params: dict[str, Any] | None = None):
        try:
            return self._conn.execute(stmt, params or {})
        except RuntimeError as e:
            raise self._error(str(e)) from e

    def _error(self, msg: str) -> StoreError:
        """The engine's error as a user reads it."""
        if "Buffer manager exception" in msg:
            bound = f" ({self.memory_mb:,} MB)" if self.memory_mb else ""
            if not self.read_only:
                return StoreError(f"{self.path}: loading the store needs more memory than it may use{bound}; "
                                  f"raise medkg.kg.embedded.BUILD_MEMORY_MB ({msg})")
            return StoreError(f"the query needs more memory than the store may use{bound}; narrow it (a "
                              "LIMIT, fewer columns, no cartesian product)")
        if "read-only" in msg or "READ ONLY" in msg:
            return StoreError("the graph is open read-only; pass --write to change it")
        if "IO exception" in msg and shutil.disk_usage(self.path.parent).free < DISK_FULL_BYTES:
            # the engine reports a full disk as a failed read or write of its file
            return StoreError(f"{self.path}: no space left on the device ({msg})")
        return StoreError(f"query failed: {msg}")

    def query(self, cypher_text: str, params: dict[str, Any] | None = None, *,
              max_rows: int | None = None) -> list[dict[str, Any]]:
        if self.read_only:
            check_cypher(cypher_text)
        res = self._exec(cypher_text, params)
        results = res if isinstance(res, list) else [res]
        out: list[dict[str, Any]] = []
        for r in results[-1:]:
            cols = r.get_column_names()
            while r.has_next() and (max_rows is None or len(out) <= max_rows):
                out.append(dict(zip(cols, r.get_next())))
        return out

    def set_query_timeout(self, seconds: float | None) -> None:
        """The engine interrupts a statement past the limit ("Interrupted."); 0 ms means none."""
        self._conn.set_query_timeout(int(seconds * 1000) if seconds else 0)

    def counts(self) -> dict[str, int]:
        out = {}
        for t in NODE_TABLES:
            out[t.name] = self.query(cypher.COUNT_NODES.format(table=t.name))[0]["n"]
        for r in REL_TABLES:
            out[r.name] = self.query(cypher.COUNT_RELS.format(table=r.name))[0]["n"]
        return out

    def close(self) -> None:
        conn, db = getattr(self, "_conn", None), getattr(self, "_db", None)
        self._conn = self._db = None  # type: ignore[assignment]  # closed: any later call fails clearly
        if conn is not None:
            conn.close()
        if db is not None:
            db.close()
