"""The ``medkg`` command line: one module per command group, shared helpers in :mod:`.common`.

======================  =====================================================
module                  commands
======================  =====================================================
:mod:`.build`           ``build``, ``delete``, ``summaries rewrite``
:mod:`.query`           ``ask``, ``cypher``, ``sparql``, ``export rdf``, ``stats``
:mod:`.vocab`           ``vocab load``, ``vocab info``
:mod:`.models`          ``models list|install|verify``
:mod:`.evaluate`        ``eval qa``, ``eval linking``
:mod:`.train`           ``train ner``, ``train relations``, ``train report-names``
:mod:`.serve`           ``serve`` (the web app: :mod:`medkg.app`)
======================  =====================================================

The CLI is the only place that prints, reads the environment (see
:mod:`.common`) or shows progress; each command calls the same library API a
Python user would (:mod:`medkg.pipelines.build`, :class:`medkg.KnowledgeGraph`).
Errors the library raises on purpose (:class:`~medkg.errors.MedKGError`) end
in one line on stderr (``medkg: error: ...``) and exit status 1; so does an
operating-system error (a full disk, a permission, a symbolic-link loop),
naming the path. Any other exception is a bug: one line
``medkg: internal error: <type>: <message>`` and exit status 1. ``-v`` adds
the traceback to each. ``medkg build`` ends with status 3 when it built the
good inputs but rejected some (listed in ``GRAPH/rejects.jsonl``).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import traceback

from medkg.cli import build, common, evaluate, models, query, serve, train, vocab
from medkg.errors import MedKGError

GROUPS = (build, query, serve, evaluate, train, vocab, models)


def make_parser() -> argparse.ArgumentParser:
    p = common.Parser(prog="medkg", description="Medical knowledge graphs with cited answers.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever fetched from a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args = make_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # some libraries lower their own loggers to DEBUG
        handler.setLevel(level)
    try:
        return int(args.func(args))
    except MedKGError as e:
        return _fail(f"error: {e}", args.verbose)
    except KeyboardInterrupt:
        print("medkg: interrupted; committed work is kept, run the same command again to go on", file=sys.stderr)
        return 130
    except OSError as e:
        return _fail(f"error: {os_error_message(e)}", args.verbose)
    except Exception as e:  # noqa: BLE001  (a bug: one line, the traceback only on request)
        if _disk_full(e):
            return _fail(f"error: no space left on the device ({e})", args.verbose)
        return _fail(f"internal error: {type(e).__name__}: {e} (run with -v for the traceback)", args.verbose)


def _fail(message: str, verbose: bool) -> int:
    """One line on stderr (a multi-line message joined), the traceback above it with ``-v``; exit status 1."""
    if verbose:
        traceback.print_exc()
    print("medkg: " + " ".join(message.split("\n")), file=sys.stderr)
    return 1


def os_error_message(e: OSError) -> str:
    """An operating-system error as a user reads it: the path(s) and what went wrong."""
    what = {errno.ENOSPC: "no space left on the device", errno.EACCES: "permission denied",
            errno.ELOOP: "too many levels of symbolic links (a loop?)", errno.EROFS: "read-only file system",
            errno.EDQUOT: "disk quota exceeded"}.get(e.errno or 0, e.strerror or str(e))
    paths = " -> ".join(str(p) for p in (e.filename, e.filename2) if p is not None)
    return f"{paths}: {what}" if paths else what


def _disk_full(e: BaseException) -> bool:
    """A full disk reported by a library as its own error (SQLite: "database or disk is full")."""
    text = str(e).lower()
    return "disk is full" in text or "no space left" in text
