"""The files of ``neo4j-admin database import full``: a graph's first load into a Neo4j 5 server.

Merging rows over Bolt (:mod:`medkg.kg.neo4j_store`) is the way to keep a server in step with a graph, but
a first load of millions of nodes goes an order of magnitude faster through Neo4j's offline importer. This
module writes, from a graph's store (any backend), one header file and one or more data files per node label
and per relationship type, in the importer's CSV format:

- node headers ``id:ID(Label)`` (one ID space per label, so ids of different labels never collide; the id is
  kept as the ``id`` property, as medkg's MERGE writes it), every other schema column with its type
  (``tier:long``, ``score:double``, ``negated:boolean``, ``synonyms:string[]``), then ``:LABEL``;
- relationship headers ``:START_ID(Source)``, ``:END_ID(Target)``, the typed columns, then ``:TYPE``;
- property names and labels exactly as the Neo4j backend writes them, plus ``medkg_digest`` on each
  ``Document``: the hash of the document's rows the backend sets as the last write of its sync
  (``Neo4jStore.replace_contents``), computed here from the graph's ledger in the same way. With it, the
  first ``medkg build --store neo4j`` after the import finds every document already complete on the server
  and writes only what changed, by ``UNWIND ... MERGE``;
- cells: RFC 4180 quoting (a quote is doubled; a field holding the delimiter, a quote or a line break is
  quoted, hence ``--multiline-fields=true`` for chunk texts); ``null`` and the empty string are both an
  empty, unquoted field, which the importer leaves unset, as the backend's MERGE writes empty strings as
  nulls; booleans ``true``/``false``; floats in Python's shortest round-trip form. Array elements are
  joined by U+001F (the importer's ``--array-delimiter``), a control character no vocabulary text holds: a
  value holding it is refused, since the importer has no escape for its array delimiter. An empty list is an
  empty field: CSV import cannot tell an empty array from a missing one. The first ``medkg build --store
  neo4j`` merges summaries and concepts again and so sets their empty lists back; ``IS_A.alternatives``,
  which nothing reads, stays unset where it was empty.

Rows are read a page at a time (a key range on the node's id, then the edges leaving that page's nodes, by
the same range), so memory stays that of one page whatever the size of the graph. Constraints and
indexes are not part of the files: ``schema.cypher`` beside them holds the statements the backend's
``create_schema`` runs (it runs them itself on the first ``medkg build --store neo4j``, but queries before
that would scan).
"""

from __future__ import annotations

import csv
import gzip
import logging
import math
import shlex
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from medkg.errors import InputError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.ledger import Ledger
from medkg.kg.neo4j_store import document_digest
from medkg.kg.schema import NODE_TABLES, NODES, REL_TABLES, RELS, RelTable
from medkg.kg.store import GraphStore

log = logging.getLogger(__name__)

ARRAY_DELIMITER = "\x1f"
ARRAY_DELIMITER_ARG = "U+001F"  # how neo4j-admin is told the array delimiter
DIGEST_PROPERTY = "medkg_digest"  # set by Neo4jStore.replace_contents (cypher.SET_DOCUMENT_DIGESTS)
PAGE = 10_000
ROWS_PER_FILE = 1_000_000
NEO4J_TYPES = {"STRING": "string", "INT64": "long", "DOUBLE": "double", "BOOLEAN": "boolean",
               "STRING[]": "string[]"}
TABLES = (*(t.name for t in NODE_TABLES), *(r.name for r in REL_TABLES))  # the order of the files and the command
# the plain indexes Neo4jStore.create_schema makes besides one uniqueness constraint per label
INDEXED = (("Chunk", "doc_id"), ("Entity", "chunk_id"), ("Entity", "concept_id"))


@dataclass(frozen=True)
class FileSet:
    """One node label or relationship type: its header file, its data files and how many rows they hold."""

    table: str
    kind: str  # "nodes" or "relationships"
    header: Path
    data: tuple[Path, ...]
    rows: int


@dataclass(frozen=True)
class ImportFiles:
    """What :func:`write_import_files` wrote, and the ``neo4j-admin`` command that loads it."""

    out_dir: Path
    file_sets: tuple[FileSet, ...]
    schema_file: Path
    command_file: Path
    digests: int  # documents given their medkg_digest (from the ledger)
    seconds: float

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.file_sets)

    def counts(self) -> dict[str, int]:
        """Rows per node label and relationship type, as ``GraphStore.counts`` names them."""
        return {s.table: s.rows for s in self.file_sets}

    def command(self, database: str = "medkg") -> str:
        return admin_command(self.file_sets, database)


def header(table: str) -> list[str]:
    """The importer's header fields of a node label or relationship type (see the module docstring)."""
    if table in NODES:
        cols = NODES[table].columns
        fields = [f"{cols[0][0]}:ID({table})", *(f"{n}:{NEO4J_TYPES[t]}" for n, t in cols[1:])]
        if table == "Document":
            fields.append(f"{DIGEST_PROPERTY}:string")
        return [*fields, ":LABEL"]
    spec = RELS[table]
    return [f":START_ID({spec.source})", f":END_ID({spec.target})",
            *(f"{n}:{NEO4J_TYPES[t]}" for n, t in spec.columns), ":TYPE"]


def cell(value: Any, column_type: str) -> str | None:
    """One value as the importer reads it back as the same typed property (``None``: left unset)."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if column_type.endswith("[]"):
        items = [str(v) for v in value]
        for item in items:
            if ARRAY_DELIMITER in item:
                raise InputError(f"the list value {item!r} holds U+001F, the array delimiter of the import files; "
                                 "neo4j-admin cannot read it back")
        return ARRAY_DELIMITER.join(items) if items else None
    if column_type == "BOOLEAN":
        return "true" if value else "false"
    if column_type == "DOUBLE":
        x = float(value)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return repr(x)
    if column_type == "INT64":
        return str(int(value))
    return str(value)


class _Files:
    """The data files of one table: a new file every ``rows_per_file`` rows, gzipped when asked."""

    def __init__(self, out_dir: Path, stem: str, compress: bool, rows_per_file: int) -> None:
        self.out_dir, self.stem, self.compress, self.rows_per_file = out_dir, stem, compress, rows_per_file
        self.paths: list[Path] = []
        self.rows = 0
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def write(self, rows: Iterable[list[str | None]]) -> None:
        for row in rows:
            if self._fh is None or self.rows % self.rows_per_file == 0:
                self._open_next()
            self._writer.writerow(row)
            self.rows += 1

    def _open_next(self) -> None:
        self.close()
        path = self.out_dir / f"{self.stem}-{len(self.paths):03d}.csv{'.gz' if self.compress else ''}"
        # kept open across calls to write(); close() (in the caller's finally) closes it
        self._fh = (gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6)  # noqa: SIM115
                    if self.compress else open(path, "w", encoding="utf-8", newline=""))  # noqa: SIM115
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self.paths.append(path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _stem(table: str) -> str:
    return f"{'nodes' if table in NODES else 'rels'}-{table}"


def _header_path(out_dir: Path, table: str) -> Path:
    return out_dir / f"{_stem(table)}.header.csv"


def _write_header(path: Path, fields: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(fields)


@dataclass
class _Export:
    """The state of one export: the files of every table, open while their rows stream in."""

    store: GraphStore
    out_dir: Path
    ledger: Ledger | None
    compress: bool
    rows_per_file: int
    page: int
    files: dict[str, _Files] = field(default_factory=dict)
    digests: int = 0

    def run(self) -> None:
        for name in TABLES:
            _write_header(_header_path(self.out_dir, name), header(name))
            self.files[name] = _Files(self.out_dir, _stem(name), self.compress, self.rows_per_file)
        try:
            for t in NODE_TABLES:
                self._table(t.name, [r for r in REL_TABLES if r.source == t.name])
                log.info("exported %s: %d nodes", t.name, self.files[t.name].rows)
        finally:
            for f in self.files.values():
                f.close()

    def _table(self, table: str, outgoing: list[RelTable]) -> None:
        """Every node of ``table`` and every edge leaving one, a page of nodes at a time."""
        types = [t for _, t in NODES[table].columns]
        stmt = cypher.import_nodes_page(table)
        after = ""
        while True:
            rows = self.store.query(stmt, {"after": after, "limit": self.page})
            if not rows:
                return
            ids = [r["c0"] for r in rows]
            cells = [[cell(r[f"c{i}"], ty) for i, ty in enumerate(types)] for r in rows]
            if table == "Document":
                digests = self._digests(ids)
                cells = [[*c, digests.get(i)] for c, i in zip(cells, ids)]
            self.files[table].write([*c, table] for c in cells)
            for rel in outgoing:
                self._edges(rel, ids[0], ids[-1])
            if len(rows) < self.page:
                return
            after = ids[-1]

    def _edges(self, rel: RelTable, lo: str, hi: str) -> None:
        """The ``rel`` edges leaving the page of nodes whose ids run from ``lo`` to ``hi``."""
        types = [t for _, t in rel.columns]
        rows = self.store.query(cypher.import_rels_from(rel.name), {"lo": lo, "hi": hi})
        self.files[rel.name].write([r["src"], r["dst"], *(cell(r[f"c{i}"], ty) for i, ty in enumerate(types)),
                                    rel.name] for r in rows)

    def _digests(self, ids: list[str]) -> dict[str, str]:
        """The sync hash of each document of ``ids`` in the ledger, as ``Neo4jStore.replace_contents`` makes it."""
        if self.ledger is None:
            return {}
        out = {}
        for rec in self.ledger.records(ids):
            part = GraphBatch()
            part.add_document(rec.document, rec.graphs)
            out[rec.document.id] = document_digest(part)
        self.digests += len(out)
        return out


def write_import_files(store: GraphStore, out_dir: Path, *, ledger_path: Path | None = None, compress: bool = False,
                       rows_per_file: int = ROWS_PER_FILE, page: int = PAGE) -> ImportFiles:
    """Write the ``neo4j-admin database import full`` files of the graph in ``store`` into ``out_dir``.

    ``out_dir`` must be new or empty. ``ledger_path`` (the graph's ledger) gives each ``Document`` its sync
    hash, so that the first ``medkg build --store neo4j`` on the imported database rewrites nothing; without
    it, that build replaces every document. Raises :class:`InputError` for a non-empty ``out_dir`` or a value
    the format cannot carry.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir}: {'not a directory' if not out_dir.is_dir() else 'not empty'}; "
                         "give a new or empty directory for the import files")
    if rows_per_file < 1 or page < 1:
        raise InputError(f"rows per file ({rows_per_file}) and page size ({page}) must be 1 or more")
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ledger = Ledger(ledger_path) if ledger_path is not None and ledger_path.exists() else None
    try:
        export = _Export(store, out_dir, ledger, compress, rows_per_file, page)
        export.run()
    except BaseException:  # the directory was empty: what is in it now is this export's, half written
        for p in out_dir.iterdir():
            p.unlink()
        raise
    finally:
        if ledger is not None:
            ledger.close()
    sets = tuple(FileSet(name, "nodes" if name in NODES else "relationships", _header_path(out_dir, name),
                         tuple(export.files[name].paths), export.files[name].rows) for name in TABLES)
    schema_file = out_dir / "schema.cypher"
    schema_file.write_text("".join(s + ";\n" for s in schema_statements()), encoding="utf-8")
    command_file = out_dir / "import-command.txt"
    command_file.write_text(admin_command(sets) + "\n", encoding="utf-8")
    result = ImportFiles(out_dir, sets, schema_file, command_file, export.digests, time.perf_counter() - t0)
    log.info("wrote %d rows in %d files to %s in %.1f s", result.rows, sum(len(s.data) + 1 for s in sets), out_dir,
             result.seconds)
    return result


def admin_command(file_sets: Iterable[FileSet], database: str = "medkg") -> str:
    """The ``neo4j-admin database import full`` command line that loads ``file_sets`` into ``database``.

    Tables without rows are left out (the importer needs no file for them). The importer reads file names as
    regular expressions, so the directory should hold no regex characters (``+ ( ) [ ] * ?``).
    """
    parts = ["--id-type=string", f"--array-delimiter={ARRAY_DELIMITER_ARG}", "--multiline-fields=true"]
    for s in file_sets:
        if s.data:
            flag = "--nodes" if s.kind == "nodes" else "--relationships"
            parts.append(f"{flag}={','.join(str(p) for p in (s.header, *s.data))}")
    parts.append(database)
    return " \\\n  ".join(["neo4j-admin database import full", *(shlex.quote(p) for p in parts)])


def schema_statements() -> list[str]:
    """The constraints and indexes of the Neo4j backend, to run on the imported database before it is used.

    The same statements ``Neo4jStore.create_schema`` runs (``IF NOT EXISTS``: running both is harmless); the
    full-text index on chunk text needs a Neo4j server (ArcadeDB refuses it).
    """
    out = [cypher.NEO4J_UNIQUE_ID.format(label=t.name) for t in NODE_TABLES]
    out += [cypher.NEO4J_INDEX.format(label=label, prop=prop) for label, prop in INDEXED]
    return [*out, cypher.NEO4J_FULLTEXT_CHUNKS]
