"""Where assembly puts a view's rows: in memory for a server store, in CSV files for the embedded one.

:mod:`medkg.kg.view.assemble` reads the ledger one document at a time and
hands every row to a sink; it never holds the whole graph. The sink decides
what that costs:

- :class:`StagedRows` (the embedded store) appends each row to the CSV file of
  its table as it arrives, so a build's memory does not grow with the corpus;
  :meth:`StagedRows.load_into` then ``COPY``-loads the files, nodes before
  relationships, a file of at most :data:`ROWS_PER_FILE` rows at a time. The
  rare node rows whose list cells ``COPY`` cannot read back (an item with a
  comma or a bracket in a concept's synonyms or a summary's tags) are kept
  aside and created with ``UNWIND`` instead, as before.
- :class:`MemoryRows` (a server store) collects a :class:`~medkg.kg.batch.GraphBatch`,
  which the server's ``replace_contents`` synchronises by document; a
  PubMed-sized first load goes through ``medkg export neo4j-import`` instead
  (docs/neo4j-at-scale.md).
"""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Protocol

from medkg.kg.batch import GraphBatch
from medkg.kg.embedded import csv_cells, csv_safe
from medkg.kg.records import ChunkGraph, Document
from medkg.kg.schema import NODE_TABLES, NODES, REL_TABLES
from medkg.kg.store import GraphStore

ROWS_PER_FILE = 250_000  # rows per COPY statement: bounds what the engine stages for one statement


class RowSink(Protocol):
    """What assembly writes rows to."""

    def add_document(self, doc: Document, graphs: list[ChunkGraph]) -> None: ...

    def add(self, table: str, rows: Iterable[tuple]) -> None: ...

    def load_into(self, store: GraphStore) -> None: ...

    def counts(self) -> dict[str, int]: ...


class MemoryRows:
    """Rows in one :class:`GraphBatch`, loaded by the store's ``replace_contents`` (a server store)."""

    def __init__(self) -> None:
        self.batch = GraphBatch()

    def add_document(self, doc: Document, graphs: list[ChunkGraph]) -> None:
        self.batch.add_document(doc, graphs)

    def add(self, table: str, rows: Iterable[tuple]) -> None:
        (self.batch.nodes if table in NODES else self.batch.rels)[table].extend(rows)

    def load_into(self, store: GraphStore) -> None:
        store.replace_contents(self.batch)

    def counts(self) -> dict[str, int]:
        return self.batch.counts()


class StagedRows:
    """Rows appended to CSV files, one series per table, in a temporary folder (see the module docstring)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="medkg-stage-", dir=directory)
        self.dir = Path(self._tmp.name)
        self.files: dict[str, list[Path]] = {}
        self.aside = GraphBatch()  # node rows COPY cannot read back
        self._rows: Counter[str] = Counter()
        self._open: dict[str, tuple[IO[str], Any]] = {}

    def add_document(self, doc: Document, graphs: list[ChunkGraph]) -> None:
        one = GraphBatch()  # the one mapping of records onto rows, used per document
        one.add_document(doc, graphs)
        for table, rows in (*one.nodes.items(), *one.rels.items()):
            if rows:
                self.add(table, rows)

    def add(self, table: str, rows: Iterable[tuple]) -> None:
        node = NODES.get(table)
        for row in rows:
            if node is not None and not csv_safe(node, row):
                self.aside.nodes[table].append(row)
                continue
            self._writer(table).writerow(csv_cells(row))
            self._rows[table] += 1

    def _writer(self, table: str) -> Any:
        if self._rows[table] % ROWS_PER_FILE == 0 and table in self._open:  # a new file every ROWS_PER_FILE rows
            self._open.pop(table)[0].close()
        if table not in self._open:
            path = self.dir / f"{table}-{len(self.files.get(table, [])):04d}.csv"
            self.files.setdefault(table, []).append(path)
            f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115  (closed by load_into or close)
            self._open[table] = (f, csv.writer(f))
        return self._open[table][1]

    def counts(self) -> dict[str, int]:
        return {t: self._rows[t] + len(self.aside.nodes.get(t, ())) for t in (*NODES, *(r.name for r in REL_TABLES))}

    def load_into(self, store: GraphStore) -> None:
        """Create the schema and ``COPY`` every file (nodes, the rows kept aside, then relationships)."""
        copy_file = getattr(store, "copy_file", None)
        if copy_file is None:
            raise TypeError(f"{type(store).__name__} cannot load CSV files; use MemoryRows")
        self._close_files()
        store.create_schema()
        for t in NODE_TABLES:
            for path in self.files.get(t.name, []):
                copy_file(t.name, path)
        store.bulk_load(self.aside)
        for r in REL_TABLES:
            for path in self.files.get(r.name, []):
                copy_file(r.name, path)

    def _close_files(self) -> None:
        for f, _ in self._open.values():
            f.close()
        self._open.clear()

    def close(self) -> None:
        self._close_files()
        self._tmp.cleanup()

    def __enter__(self) -> StagedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
