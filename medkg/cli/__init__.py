"""The ``medkg`` command line: one module per command group, shared helpers in :mod:`.common`.

======================  =====================================================
module                  commands
======================  =====================================================
:mod:`.build`           ``build``, ``delete``, ``summaries rewrite``
:mod:`.query`           ``ask``, ``cypher``, ``sparql``, ``export rdf``, ``stats``
:mod:`.vocab`           ``vocab load``, ``vocab info``
:mod:`.models`          ``models list|install|verify``
:mod:`.evaluate`        ``eval qa``, ``eval linking``
:mod:`.train`           ``train ner``
:mod:`.serve`           ``serve`` (the web app: :mod:`medkg.app`)
======================  =====================================================

The CLI is the only place that prints, reads the environment (see
:mod:`.common`) or shows progress; each command calls the same library API a
Python user would (:mod:`medkg.pipelines.build`, :class:`medkg.KnowledgeGraph`).
Errors the library raises on purpose (:class:`~medkg.errors.MedKGError`) end
in one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from medkg.cli import build, evaluate, models, query, serve, train, vocab
from medkg.errors import MedKGError

GROUPS = (build, query, serve, evaluate, train, vocab, models)


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medkg", description="Medical knowledge graphs with cited answers.")
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
        print(f"medkg: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("medkg: interrupted; committed work is kept, run the same command again to go on", file=sys.stderr)
        return 130
