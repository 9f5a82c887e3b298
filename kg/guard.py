"""What users' Cypher may do: an allow-list of read clauses, and no file, extension or setting access at all.

``medkg cypher`` and ``POST /api/cypher`` run statements a user typed (or a web client sent). Read-only has to
mean read-only, and no statement may reach outside the graph, whatever the store:

* **Read-only** (the default): a statement starts with a read clause (``MATCH``, ``OPTIONAL MATCH``, ``WITH``,
  ``UNWIND``, ``RETURN``, ``CALL`` of a listed read procedure or a ``CALL { ... }`` subquery, ``SHOW``,
  ``EXPLAIN``/``PROFILE``), and no clause that changes anything appears anywhere in it (``CREATE``, ``MERGE``,
  ``SET``, ``DELETE``, ``REMOVE``, ``DROP``, ``ALTER``, ``FOREACH``, ``CHECKPOINT``, transactions). The
  embedded engine's own read-only mode is not enough on its own: it still runs ``CHECKPOINT`` (which then
  leaves the store in pending recovery), ``COPY ... TO``, ``EXPORT DATABASE``, ``LOAD EXTENSION`` and
  ``INSTALL``. On Neo4j the statement also runs in a read transaction, which the server enforces.
* **Always refused**, with ``--write`` too: clauses that read or write files, load code or reach the network
  (``COPY``, ``LOAD`` (``LOAD CSV``, ``LOAD FROM``, ``LOAD EXTENSION``), ``EXPORT``, ``IMPORT``, ``ATTACH``,
  ``INSTALL``, ``USE``), and ``CALL name = value`` (engine settings: a user could lift the time limit).

The check works on tokens, not on the raw text: string literals, backtick identifiers and comments are
skipped (a quote inside a comment once let ``CREATE`` through a pattern match), a word after ``.`` or ``:``
is a property or label and a word before ``:`` a map key or a variable with a label, so ``n.set`` or
``{delete: 1}`` are not clauses. Statements are one at a time (``;`` between two is refused). The cost is a
few microseconds per statement, and medkg's own read queries pass through it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medkg.errors import QueryError

READ_START = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL", "SHOW", "EXPLAIN", "PROFILE"})
WRITE_WORDS = frozenset({"CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "ALTER", "FOREACH",
                         "CHECKPOINT", "BEGIN", "COMMIT", "ROLLBACK", "RENAME", "GRANT", "REVOKE", "DENY",
                         "TERMINATE", "ENABLE", "DISABLE"})
OUTSIDE_WORDS = frozenset({"COPY", "LOAD", "EXPORT", "IMPORT", "ATTACH", "INSTALL", "UNINSTALL", "USE"})
# procedures that only read (lower case; Neo4j's are dotted). Anything else needs --write.
READ_PROCEDURES = frozenset({
    "show_tables", "table_info", "show_connection", "db_version", "current_setting", "show_functions",
    "show_indexes", "show_warnings", "show_attached_databases", "show_loaded_extensions", "query_fts_index",
    "query_vector_index",
    "db.labels", "db.relationshiptypes", "db.propertykeys", "db.schema.visualization",
    "db.schema.nodetypeproperties", "db.schema.reltypeproperties", "db.indexes", "db.constraints",
    "db.index.fulltext.querynodes", "db.index.fulltext.queryrelationships", "db.index.vector.querynodes",
    "dbms.components",
})

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<ident>`(?:[^`]|``)*`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<punct>.)
""", re.S | re.X)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # word, string, ident, number, punct
    text: str


def tokens(text: str) -> list[Token]:
    """Cypher's tokens without blanks and comments; an unterminated string or comment is a ``QueryError``."""
    out: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        if kind in ("space", "line_comment", "block_comment"):
            continue
        if kind == "punct" and m.group() in "'\"`" or text.startswith("/*", m.start()):
            raise QueryError(f"unterminated {'comment' if m.group() == '/' else 'quote'} at character "
                             f"{m.start()} of the Cypher query")
        out.append(Token(kind, m.group()))
    return out


def check_cypher(text: str, *, write: bool = False) -> None:
    """Refuse a statement a user may not run (see the module docstring); ``write``: the graph is writable."""
    _check(text, write)


@lru_cache(maxsize=512)
def _check(text: str, write: bool) -> None:
    statements = _statements(tokens(text))
    if len(statements) > 1:
        raise QueryError("one Cypher statement at a time, please (found "
                         f"{len(statements)} separated by ';')")
    for stmt in statements:
        clauses = _clause_words(stmt)
        outside = sorted({w for w in clauses if w in OUTSIDE_WORDS})
        if outside:
            raise QueryError(f"{' '.join(outside)} is not allowed: queries may not read or write files, load "
                             "extensions or switch databases")
        _check_calls(stmt, write)
        if write:
            continue
        if stmt[0].kind != "word" or stmt[0].text.upper() not in READ_START:
            raise QueryError(f"the graph is open read-only and {stmt[0].text!r} does not start a read query "
                             f"(start with {', '.join(sorted(READ_START - {'OPTIONAL'}))}); pass --write to "
                             "change the graph")
        changes = sorted({w for w in clauses if w in WRITE_WORDS})
        if changes:
            raise QueryError(f"the graph is open read-only ({' '.join(changes)} changes it); pass --write to "
                             "change the graph")


def _statements(toks: list[Token]) -> list[list[Token]]:
    out: list[list[Token]] = [[]]
    for t in toks:
        if t.kind == "punct" and t.text == ";":
            out.append([])
        else:
            out[-1].append(t)
    return [s for s in out if s]


def _clause_words(stmt: list[Token]) -> list[str]:
    """Upper-cased bare words: not a property (after ``.``), label (after ``:``), parameter (after ``$``),
    alias (after ``AS``), map key or labelled variable (before ``:``), variable (before ``.``)."""
    words = []
    for i, t in enumerate(stmt):
        if t.kind != "word":
            continue
        before = stmt[i - 1].text if i else ""
        after = stmt[i + 1].text if i + 1 < len(stmt) else ""
        if before in (".", ":", "$") or before.upper() == "AS" or after in (":", "."):
            continue
        words.append(t.text.upper())
    return words


def _check_calls(stmt: list[Token], write: bool) -> None:
    for i, t in enumerate(stmt):
        if t.kind != "word" or t.text.upper() != "CALL" or (i and stmt[i - 1].text in (".", ":", "$")):
            continue
        rest = stmt[i + 1 :]
        if not rest or rest[0].text in ("{", "("):  # a subquery: its clauses are checked with the rest
            continue
        name, j = _dotted_name(rest)
        if j < len(rest) and rest[j].text == "=":
            raise QueryError(f"CALL {name} = ... changes an engine setting; queries may not")
        if not write and name.lower() not in READ_PROCEDURES:
            raise QueryError(f"the graph is open read-only and CALL {name} is not a known read procedure "
                             f"(known: {', '.join(sorted(READ_PROCEDURES))}); pass --write to run others")


def _dotted_name(toks: list[Token]) -> tuple[str, int]:
    parts, j = [], 0
    while j < len(toks) and toks[j].kind in ("word", "ident"):
        parts.append(toks[j].text.strip("`"))
        j += 1
        if j < len(toks) and toks[j].text == ".":
            j += 1
        else:
            break
    return ".".join(parts), j
