"""Users' SPARQL: what a query may do, and the time, row and memory bounds it runs under.

The RDF view is answered by Oxigraph (through ``oxrdflib``), which evaluates a whole query in native code: a
query cannot be interrupted from Python, and one cartesian product with ``ORDER BY`` grew past 20 GB in two
minutes. So a query runs in a child process forked from the one that holds the view (the view is shared
copy-on-write, nothing is reloaded), with its address space capped at the parent's size plus the memory
bound (``RLIMIT_AS``), and it is killed at the time limit. Rows are sent back over a pipe, at most
``max_rows + 1`` of them. Where ``fork`` does not exist (not Linux or macOS) the query runs in the calling
process with the row limit only.

Before it runs, a query is checked (:func:`check_sparql`) on its tokens (strings, IRIs and comments skipped):

* ``SERVICE`` is refused: Oxigraph would send the query to any endpoint named, and nothing may leave the
  machine;
* ``FROM`` and ``FROM NAMED`` are refused: a dataset clause may make the engine fetch the graph it names,
  and the view is the only dataset there is;
* updates (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``, ``DROP``, ``CREATE``, ``COPY``, ``MOVE``, ``ADD``)
  are refused: the view is read-only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import resource
import time
from typing import Any

from rdflib import Graph

from medkg.errors import QueryError

log = logging.getLogger(__name__)

MEMORY_MB = 2048  # the default memory bound of one query
REFUSED = {
    "SERVICE": "SERVICE is not allowed: a query may not send anything to another endpoint",
    "FROM": "FROM and FROM NAMED are not allowed: the query runs over this graph's RDF view only",
}
UPDATES = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "COPY", "MOVE", "ADD"})
_TOKEN = re.compile(r"""
    (?P<skip>\s+|\#[^\n]*)
  | (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<name>[?$][\w]+|[A-Za-z_][\w.-]*:[\w.:%-]*|:[\w.:%-]*|[A-Za-z_][\w-]*)
  | (?P<other>.)
""", re.S | re.X)


def check_sparql(query: str) -> None:
    """Refuse what a query over the view may not do (see the module docstring)."""
    if not isinstance(query, str) or not query.strip():
        raise QueryError("the SPARQL query is empty")
    words = {m.group().upper() for m in _TOKEN.finditer(query)
             if m.lastgroup == "name" and not m.group().startswith(("?", "$")) and ":" not in m.group()}
    for word, message in REFUSED.items():
        if word in words:
            raise QueryError(message)
    updates = sorted(words & UPDATES)
    if updates:
        raise QueryError(f"{' '.join(updates)}: SPARQL updates are not allowed, the RDF view is read-only "
                         "(only SELECT and ASK are answered)")


def run_bounded(graph: Graph, query: str, *, timeout_s: float | None, max_rows: int | None,
                memory_mb: int = MEMORY_MB) -> tuple[list[str], list[list[Any]]]:
    """Run a checked query in a forked child under the bounds; (column names, rows)."""
    from medkg.kg.rdf import sparql

    check_sparql(query)
    if "fork" not in multiprocessing.get_all_start_methods():
        return sparql(graph, query, max_rows=max_rows)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(graph, query, max_rows, memory_mb, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise QueryError(f"the SPARQL query ran past its time limit of {timeout_s:g} s")
        try:
            outcome = receive.recv()
        except EOFError:
            child.join(5)
            raise QueryError(f"the SPARQL query needed more memory than its bound of {memory_mb:,} MB "
                             f"(the query process ended with status {child.exitcode}); narrow it") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if outcome[0] == "error":
        raise QueryError(outcome[1])
    return outcome[1], outcome[2]


def _child(graph: Graph, query: str, max_rows: int | None, memory_mb: int, send: Any) -> None:
    """The query process: cap the address space, run, send the rows (or the error's message), exit."""
    from medkg.kg.rdf import sparql

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # an allocation that fails in native code reports on stderr before it aborts
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + memory_mb * 2**20, resource.RLIM_INFINITY))
    except (OSError, ValueError):  # no /proc: the time limit still holds
        log.debug("no address-space limit for the SPARQL process")
    t0 = time.perf_counter()
    try:
        cols, rows = sparql(graph, query, max_rows=max_rows)
        send.send(("ok", cols, rows))
    except QueryError as e:
        send.send(("error", str(e)))
    except MemoryError:
        send.send(("error", f"the SPARQL query needed more memory than its bound of {memory_mb:,} MB; narrow it"))
    finally:
        log.debug("SPARQL process done in %.2f s", time.perf_counter() - t0)
        send.close()
        os._exit(0)
