"""``medkg vocab``: load vocabularies into the library every later build uses, or list them."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from medkg.cli import common
from medkg.errors import MedKGError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("vocab", help="load vocabularies (MeSH XML, UMLS RRF, OBO, ICD-10-CM) or list them")
    v.add_argument("action", choices=("load", "info"))
    v.add_argument("kind", nargs="?", help="mesh, umls, obo (hpo, mondo, doid), icd10cm, or pubtator (the names "
                   "annotators gave concepts in a training corpus: see docs/vocabularies.md)")
    v.add_argument("path", nargs="?", help="the file or directory to read")
    v.add_argument("--sources", help="UMLS: comma-separated source vocabularies (SAB) to keep; default all")
    v.add_argument("--languages", default="ENG", help="UMLS: comma-separated languages (LAT); default ENG")
    v.add_argument("--include-suppressed", action="store_true", help="UMLS: keep suppressed names")
    v.add_argument("--json", action="store_true")
    common.add_vocab_option(v)
    v.set_defaults(func=cmd_vocab)


def cmd_vocab(args: argparse.Namespace) -> int:
    from medkg.ontologies.library import VocabularyLibrary
    from medkg.ontologies.mesh import read_compact_mesh
    from medkg.ontologies.umls import UMLSFilter

    library = VocabularyLibrary(args.vocab_dir)
    if args.action == "load":
        if not args.kind or not args.path:
            raise MedKGError("vocab load needs a kind and a path, e.g. 'medkg vocab load hpo hp.obo'")
        options: dict[str, Any] = {}
        if args.kind == "umls":
            options["keep"] = UMLSFilter(
                sources=frozenset(args.sources.split(",")) if args.sources else None,
                languages=frozenset(args.languages.split(",")), include_suppressed=args.include_suppressed)
        t0 = time.perf_counter()
        for e in library.load(args.kind, Path(args.path), **options):
            print(f"{e.name}: {e.concepts} concepts, version {e.version or '?'}, from {e.source} "
                  f"({time.perf_counter() - t0:.1f} s)")
        return 0
    bundled = sum(1 for _ in read_compact_mesh())
    entries = library.entries()
    if args.json:
        print(json.dumps({"library": str(args.vocab_dir), "bundled": {"MESH": bundled},
                          "loaded": [e.__dict__ for e in entries]}, indent=2))
        return 0
    print(f"bundled: MESH {bundled} concepts (MeSH 2024, ontologies/data/mesh_compact.tsv.gz)")
    print(f"library: {args.vocab_dir}" + ("" if entries else " (nothing loaded; 'medkg vocab load KIND PATH')"))
    for e in entries:
        groups = ", ".join(f"{g} {n}" for g, n in list(e.groups.items())[:4])
        print(f"  {e.name:8s} {e.concepts:>8d} concepts  version {e.version or '?':12s} {e.kind} <- {e.source}"
              f"  [{groups}]")
    return 0
