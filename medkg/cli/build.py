"""``medkg build``, ``medkg delete`` and ``medkg summaries``: the commands that change a graph."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from medkg.cli import common

if TYPE_CHECKING:
    from medkg.pipelines.build import BuildReport

EXIT_REJECTS = 3  # the build stored the good documents, but some inputs were rejected
FULL_HELP = ("rebuild the whole view, re-clustering topics and themes, even if few documents or none changed "
             "(by default a change to a few documents patches the current view)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("build", help="build a graph from documents (default: the bundled sample)")
    b.add_argument("paths", nargs="*", help=".jsonl, PubTator, PubMed XML, PubMedQA .json, .csv or .txt files, "
                                            "or directories of them")
    b.add_argument("--tier", type=int, choices=(1, 2), help="force the tier: 1 reports, 2 literature")
    b.add_argument("--workers", type=common.whole(0, 4096),
                   help="local engine: processes that extract and embed (default: one per core, at most 4; "
                        "0 = in this process); ray engine: workers (default: one per CPU of the cluster)")
    b.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="what extracts and embeds: local (a process pool on this machine, the default) or ray "
                        "(a Ray cluster; pip install 'medkg[distributed]'; docs/builds.md#distributed-builds)")
    b.add_argument("--address",
                   help="ray engine: the cluster to use, HOST:PORT of its head (default: $RAY_ADDRESS, else a "
                        "local cluster started for this build); the graph directory must be on a path every "
                        "node can read and write")
    b.add_argument("--embedder",
                   help="all-MiniLM-L6-v2 (default for a new graph), static-MiniLM-L6-v2 (distilled from it on "
                        "first use, ~100x faster, for batch builds) or a sentence-transformers directory; "
                        "default: $MEDKG_EMBEDDER or the graph's current embedder")
    b.add_argument("--batch-docs", type=common.whole(1, 100_000), default=32,
                   help="documents per committed batch: what an interrupted build can lose (default 32)")
    b.add_argument("--store", choices=("embedded", "neo4j"),
                   help="embedded (in the graph directory) or neo4j (NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, "
                        "NEO4J_DATABASE); default: the graph's current store, embedded for a new graph")
    b.add_argument("--full", action="store_true", help=FULL_HELP)
    b.add_argument("--strict", action="store_true",
                   help="all or nothing: check every input first and stop at the first bad file or record, the "
                        "graph unchanged (by default bad records and files are skipped, listed in "
                        "GRAPH/rejects.jsonl, and the build ends with exit status 3)")
    b.add_argument("--no-deidentify", dest="deidentify", action="store_false",
                   help="store clinical reports (tier 1) as given, names, dates and other identifiers included "
                        "(logged as a warning); by default they are de-identified before anything is stored "
                        "(docs/deidentification.md)")
    common.add_graph_option(b)
    common.add_vocab_option(b)
    b.set_defaults(func=cmd_build)

    d = sub.add_parser("delete", help="remove documents and everything derived only from them")
    d.add_argument("ids", nargs="+", help="document ids, e.g. PMID:123 or report:note-1")
    d.add_argument("--full", action="store_true", help=FULL_HELP)
    common.add_graph_option(d)
    common.add_vocab_option(d)
    d.set_defaults(func=cmd_delete)

    sm = sub.add_parser("summaries", help="optional: rewrite topic and theme summaries with the local LLM")
    sm.add_argument("action", choices=("rewrite",))
    sm.add_argument("--levels", default="1,2", help="1 = topics, 2 = themes (default: both)")
    sm.add_argument("--limit", type=common.whole(0, 10_000_000),
                    help="at most this many per level, largest first (default: all)")
    sm.add_argument("--model", help="a registered model name or a .gguf path (default: as for ask)")
    common.add_graph_option(sm)
    sm.set_defaults(func=cmd_summaries)


def cmd_build(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir
    from medkg.paths import sample_paths
    from medkg.pipelines.build import build_graph

    paths = [Path(p) for p in args.paths] or sample_paths()
    if not args.paths:
        print("medkg: no input given; building the bundled sample corpus", file=sys.stderr)
    emb = args.embedder or os.environ.get("MEDKG_EMBEDDER") or None
    address = (args.address or os.environ.get("RAY_ADDRESS") or None) if args.engine == "ray" else args.address
    store = args.store or GraphDir(args.graph).backend()  # an unfinished first build into Neo4j counts
    progress = common.Progress()
    try:
        report = build_graph(paths, args.graph, tier=args.tier, vocabulary=common.vocabulary(args), embedder=emb,
                             store=store, store_options=common.store_options(store), workers=args.workers,
                             batch_docs=args.batch_docs, progress=progress, models_dir=common.models_dir(),
                             full=args.full, deidentify=args.deidentify, strict=args.strict,
                             engine=args.engine, address=address)
    finally:
        progress.close()
    c = report.counts
    deleted = f", {report.deleted} deleted" if report.deleted else ""  # PubMed update files' DeleteCitation
    print(f"built {report.graph}: {report.added} added, {report.replaced} replaced, {report.unchanged} unchanged"
          f"{deleted} ({report.docs_per_second:.1f} documents/s); the graph has {report.documents} documents, "
          f"{c['Chunk']} chunks, {c['Entity']} entities, {c['Concept']} concepts, {c['RELATED']} relations "
          f"[{report.seconds:.1f} s{_view_note(report)}]")
    if report.rejects:
        where = report.rejects_path or "the log (run with -v)"
        print(f"medkg: built {report.processed + report.unchanged} documents; {len(report.rejects)} inputs "
              f"rejected, see {where} (first: {report.rejects[0]})", file=sys.stderr)
        return EXIT_REJECTS
    return 0


def _view_note(report: BuildReport) -> str:
    if not report.view_rebuilt:
        return ", nothing changed"
    return ", view patched" if report.view_patched else ""


def cmd_delete(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir
    from medkg.pipelines.build import delete_documents

    store = GraphDir(args.graph).read_manifest().get("store", "embedded")
    removed, report = delete_documents(args.ids, args.graph, vocabulary=common.vocabulary(args),
                                       store_options=common.store_options(store), full=args.full)
    print(f"deleted {removed} documents from {report.graph}; {report.documents} remain "
          f"({report.counts['Entity']} entities, {report.counts['Concept']} concepts) "
          f"[{report.seconds:.1f} s{_view_note(report)}]")
    return 0


def cmd_summaries(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir, graph_lock
    from medkg.queries.summary_rewrite import rewrite_summaries

    levels = tuple(sorted({x.strip() for x in args.levels.split(",")}))
    if not levels or not set(levels) <= {"1", "2"}:
        raise SystemExit(f"medkg summaries rewrite: --levels takes 1 and/or 2, not {args.levels!r}")
    if args.limit is not None and args.limit < 0:
        raise SystemExit(f"medkg summaries rewrite: --limit must be 0 or more, not {args.limit}")
    progress = common.Progress("summaries")
    try:
        with graph_lock(GraphDir(args.graph), "a summaries rewrite"), common.open_graph(args, write=True) as graph, \
                graph.writing() as store:  # on a copy of the view, switched in when all are written
            model = graph.llm.name
            report = rewrite_summaries(graph.dir, store, graph.llm, tuple(map(int, levels)), args.limit,
                                       lambda done, total: progress("rewrite", done, total))
    finally:
        progress.close()
    print(f"rewrote {report.rewritten} summaries with {model} ({report.seconds_per_summary:.1f} s each); "
          f"{report.rejected} kept their extractive text (the sentence failed the checks), "
          f"{report.skipped} were already rewritten")
    return 0
