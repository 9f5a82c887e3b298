"""``medkg ask``, ``cypher``, ``sparql``, ``export`` and ``stats``: the commands that read a graph."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from medkg.cli import common
from medkg.queries.settings import MODES


def add_parsers(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("ask", help="answer a question with citations")
    a.add_argument("question")
    a.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    a.add_argument("--model", default=os.environ.get("MEDKG_LLM_MODEL"),
                   help="a model name from 'medkg models list' or a .gguf file ($MEDKG_LLM_MODEL)")
    a.add_argument("--beam", type=common.whole(1, 100), default=3, help="top-level summaries to descend into")
    a.add_argument("--top-chunks", type=common.whole(1, 200), default=4,
                   help="passages taken from the chosen summaries")
    a.add_argument("--hops", type=common.whole(0, 3), default=1,
                   help="graph hops for REFERENCES and concepts (0 = none)")
    a.add_argument("--mode", default="uretrieve", choices=MODES, help="retrieval: U-Retrieve (default) or a baseline")
    a.add_argument("--options", help="comma-separated answers to choose from, e.g. yes,no,maybe")
    a.add_argument("--refine", action="store_true", help="bottom-up refinement over the chosen summaries")
    a.add_argument("--document", metavar="ID",
                   help="scope the question to one document (e.g. report:note-01): its passages, its findings and "
                        "the literature its entities reference; --budget then sets that question's budget "
                        "(default 480)")
    common.add_answer_options(a)
    common.add_graph_option(a)
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("cypher", help="run a Cypher query (read-only unless --write)")
    c.add_argument("query")
    c.add_argument("--param", action="append", type=_param, help="NAME=VALUE (JSON values allowed)")
    c.add_argument("--write", action="store_true",
                   help="allow statements that change the graph (the current view: a full rebuild replaces it)")
    c.add_argument("--json", action="store_true")
    add_query_limits(c)
    common.add_graph_option(c)
    c.set_defaults(func=cmd_cypher)

    x = sub.add_parser("export", help="export the graph as RDF (SKOS, PROV-O, Web Annotation) or as the files of "
                                      "neo4j-admin database import")
    x.add_argument("what", choices=("rdf", "neo4j-import"))
    x.add_argument("--out", type=Path, required=True,
                   help="rdf: the file to write (.ttl or .nt); neo4j-import: a new or empty directory")
    x.add_argument("--format", choices=("turtle", "nt"), help="rdf: default from the file name, else turtle")
    x.add_argument("--compress", action="store_true", help="neo4j-import: gzip the data files (.csv.gz)")
    x.add_argument("--database", default="medkg",
                   help="neo4j-import: the Neo4j database named in the printed neo4j-admin command (default medkg)")
    common.add_graph_option(x)
    x.set_defaults(func=cmd_export)

    sp = sub.add_parser("sparql", help="a SPARQL SELECT or ASK query over the graph's RDF view")
    sp.add_argument("query")
    sp.add_argument("--json", action="store_true")
    add_query_limits(sp)
    common.add_graph_option(sp)
    sp.set_defaults(func=cmd_sparql)

    s = sub.add_parser("stats", help="counts per node and edge type, vocabulary versions")
    s.add_argument("--json", action="store_true")
    common.add_graph_option(s)
    s.set_defaults(func=cmd_stats)


def add_query_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=common.number(0, 86_400, above=True), default=60.0,
                   help="seconds the query may run (default 60)")
    p.add_argument("--max-rows", type=common.whole(1, 10_000_000), default=100_000,
                   help="rows to print at most; more are cut, and the count says so (default 100000)")


def _cut_note(n: int, max_rows: int) -> str:
    if n <= max_rows:
        return f"({n} rows)"
    return f"(the first {max_rows} rows; the query has more: add LIMIT or raise --max-rows)"


def cmd_ask(args: argparse.Namespace) -> int:
    from medkg.queries.settings import RetrievalSettings

    knobs = common.retrieval_knobs(args)
    if args.document is not None and "budget_tokens" in knobs:  # --budget is the budget of the question asked
        knobs["document_budget_tokens"] = knobs.pop("budget_tokens")
    settings = RetrievalSettings(beam=args.beam, top_chunks=args.top_chunks, hops=args.hops, **knobs)
    options = [o.strip() for o in args.options.split(",")] if args.options else None
    with common.open_graph(args) as graph:
        answer = graph.ask(args.question, settings, mode=args.mode, options=options,
                           answer_settings=common.answer_settings(args), document=args.document)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"Answer: {answer.answer}")
    if not answer.abstained:
        print(f"Confidence: {answer.confidence:.2f}")
    if answer.citations:
        print("\nCitations:")
    for c in answer.citations:
        where = f"PMID {c.pmid} ({c.doc_id})" if c.pmid else c.doc_id
        print(f"[{c.id}] {where}, characters {c.start}-{c.end}, tier {c.tier}")
        print(textwrap.indent(textwrap.fill(f'"{c.quote}"', width=100), "    "))
        if c.flags:
            print(f"    (flagged: {', '.join(c.flags)}: it addresses the model; those sentences were kept from it)")
    scope = answer.retrieval_path.get("scope")
    within = (f", scoped to {scope['document']}: {scope['chunks_in_context']} of its {scope['chunks']} passages and "
              f"{scope['references']} literature passages in the context") if scope else ""
    print(f"\n({answer.timings.get('total_s', 0):.1f} s, model {answer.model}{within})", file=sys.stderr)
    return 0


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def cmd_cypher(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir, graph_lock

    # a write must not race a build copying the view it changes
    lock = graph_lock(GraphDir(args.graph), "a Cypher write") if args.write else nullcontext()
    with lock, common.open_graph(args, write=args.write) as graph:
        rows = graph.cypher(args.query, dict(args.param or []), timeout_s=args.timeout, max_rows=args.max_rows)
    n, rows = len(rows), rows[: args.max_rows]
    if args.json:
        common.print_json(rows)
    else:
        for row in rows:
            print("\t".join(json.dumps(v, ensure_ascii=False, default=str) for v in row.values()))
    print(_cut_note(n, args.max_rows), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if args.what == "neo4j-import":
        return _export_neo4j_import(args)
    fmt = args.format or ("nt" if str(args.out).endswith(".nt") else "turtle")
    with common.open_graph(args) as graph:
        n = graph.export_rdf(args.out, fmt)
    print(f"wrote {n:,} triples to {args.out} ({fmt})")
    return 0


def _export_neo4j_import(args: argparse.Namespace) -> int:
    with common.open_graph(args) as graph:
        files = graph.export_neo4j_import(args.out, compress=args.compress)
    n_files = sum(len(s.data) + 1 for s in files.file_sets)
    print(f"wrote {files.rows:,} rows in {n_files} files to {files.out_dir} in {files.seconds:.1f} s "
          f"({files.rows / max(files.seconds, 1e-9):,.0f} rows/s)")
    for s in files.file_sets:
        print(f"  {s.kind:13s} {s.table:11s} {s.rows:>12,}  "
              f"{', '.join(p.name for p in s.data) or '(no rows: left out of the command)'}")
    if files.digests:
        print(f"{files.digests:,} documents carry their sync hash: 'medkg build --store neo4j' goes on from them")
    print(f"\nload them on the Neo4j server, into a database that does not exist yet (docs/neo4j-at-scale.md):\n\n"
          f"{files.command(args.database)}\n\nthen: CREATE DATABASE {args.database} (Enterprise; on Community, "
          f"import into 'neo4j' with the server stopped), then cypher-shell -d {args.database} -f {files.schema_file}\n"
          f"(the command is also in {files.command_file})")
    return 0


def cmd_sparql(args: argparse.Namespace) -> int:
    with common.open_graph(args) as graph:
        cols, rows = graph.sparql(args.query, timeout_s=args.timeout, max_rows=args.max_rows)
    n, rows = len(rows), rows[: args.max_rows]
    if args.json:
        common.print_json([dict(zip(cols, r)) for r in rows])
    else:
        print("\t".join(cols))
        for row in rows:
            print("\t".join("" if v is None else str(v) for v in row))
    print(_cut_note(n, args.max_rows), file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with common.open_graph(args) as graph:
        stats = graph.stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"graph: {stats['graph']} (store {stats['store']}, built {stats['built_at']}, "
          f"embedder {stats['embedder']}, {stats['view']['kind']} view)")
    for name, version in stats["vocabularies"].items():
        print(f"vocabulary {name}: {version}")
    for name, n in stats["counts"].items():
        tiers = stats["by_tier"].get(name)
        split = "  " + ", ".join(f"tier {t}: {k:,}" for t, k in tiers.items()) if tiers else ""
        if name == "Summary":
            split = "  " + ", ".join(f"level {lv}: {k:,}" for lv, k in stats["summaries_by_level"].items())
        print(f"{name:12s} {n:>10,}{split}")
    print("size on disk: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in stats["bytes"].items()))
    return 0
