"""The ``medkg`` command line. The only place that prints, reads the environment or shows progress.

Environment (all optional): ``MEDKG_GRAPH`` (graph directory), ``MEDKG_LLM_MODEL``
(a model name or a .gguf file), ``MEDKG_MODELS`` (where installed models go),
``MEDKG_LLM_CTX`` (context size), ``MEDKG_LLM_GPU_LAYERS`` (layers to offload),
``MEDKG_THREADS`` (CPU threads for the LLM), ``MEDKG_EMBEDDER`` (a
sentence-transformers directory), ``MEDKG_VOCAB`` (the loaded-vocabulary library).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg.errors import MedKGError

if TYPE_CHECKING:
    from medkg.pipelines.build import BuildReport

log = logging.getLogger("medkg")


def default_vocab_dir() -> Path:
    if os.environ.get("MEDKG_VOCAB"):
        return Path(os.environ["MEDKG_VOCAB"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "medkg" / "vocab"


def default_graph_dir() -> Path:
    if os.environ.get("MEDKG_GRAPH"):
        return Path(os.environ["MEDKG_GRAPH"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "medkg" / "graph"


class _Progress:
    """Build progress on stderr: a live line with documents/s on a terminal, a summary line at the end."""

    def __init__(self, unit: str = "documents") -> None:
        self.unit = unit
        self.started: dict[str, float] = {}
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        start = self.started.setdefault(stage, time.perf_counter())
        rate = done / max(time.perf_counter() - start, 1e-6)
        of = f"/{total}" if total else ""
        if sys.stderr.isatty():
            print(f"\r  {stage}: {done}{of} {self.unit} ({rate:.1f}/s)", end="", file=sys.stderr, flush=True)
        self.last = (stage, done)

    def close(self) -> None:
        if self.last and sys.stderr.isatty():
            print(file=sys.stderr)


def _store_options(store: str) -> dict[str, Any]:
    """Connection settings of a server backend, from the environment variables its table entry names."""
    from medkg.kg.store import BACKENDS

    spec = BACKENDS.get(store)
    if spec is None or not spec.env:
        return {}
    missing = [v for v in spec.required_env if not os.environ.get(v)]
    if missing:
        raise MedKGError(f"--store {store} needs {', '.join(missing)} in the environment")
    return {v.split("_", 1)[1].lower(): os.environ[v] for v in spec.env if os.environ.get(v)}


def _vocabulary(args: argparse.Namespace):
    from medkg.ontologies.library import VocabularyLibrary

    library = VocabularyLibrary(args.vocab_dir)
    return library.vocabulary() if library.entries() else None


def cmd_build(args: argparse.Namespace) -> int:
    from medkg.pipelines.build import build_graph, sample_paths

    paths = [Path(p) for p in args.paths] or sample_paths()
    if not args.paths:
        print("medkg: no input given; building the bundled sample corpus", file=sys.stderr)
    emb = args.embedder or os.environ.get("MEDKG_EMBEDDER") or None
    from medkg.kg.graphdir import GraphDir

    store = args.store or (GraphDir(args.graph).peek_manifest() or {}).get("store", "embedded")
    progress = _Progress()
    try:
        report = build_graph(paths, args.graph, tier=args.tier, vocabulary=_vocabulary(args), embedder=emb,
                             store=store, store_options=_store_options(store), workers=args.workers,
                             batch_docs=args.batch_docs, progress=progress, models_dir=_models_dir(),
                             full=args.full)
    finally:
        progress.close()
    c = report.counts
    print(f"built {report.graph}: {report.added} added, {report.replaced} replaced, {report.unchanged} unchanged "
          f"({report.docs_per_second:.1f} documents/s); the graph has {report.documents} documents, "
          f"{c['Chunk']} chunks, {c['Entity']} entities, {c['Concept']} concepts, {c['RELATED']} relations "
          f"[{report.seconds:.1f} s{_view_note(report)}]")
    return 0


def _view_note(report: BuildReport) -> str:
    if not report.view_rebuilt:
        return ", nothing changed"
    return ", view patched" if report.view_patched else ""


def cmd_delete(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir
    from medkg.pipelines.build import delete_documents

    store = GraphDir(args.graph).read_manifest().get("store", "embedded")
    removed, report = delete_documents(args.ids, args.graph, vocabulary=_vocabulary(args),
                                       store_options=_store_options(store), full=args.full)
    print(f"deleted {removed} documents from {report.graph}; {report.documents} remain "
          f"({report.counts['Entity']} entities, {report.counts['Concept']} concepts) "
          f"[{report.seconds:.1f} s{_view_note(report)}]")
    return 0


def _env_int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as e:
        raise MedKGError(f"{name}={value!r} is not a whole number") from e


def _llm_settings(args: argparse.Namespace):
    from medkg.queries.llm import LLMSettings

    return LLMSettings(model=getattr(args, "model", None), n_ctx=_env_int("MEDKG_LLM_CTX", 4096) or 4096,
                       n_threads=_env_int("MEDKG_THREADS", None), n_gpu_layers=_env_int("MEDKG_LLM_GPU_LAYERS", 0) or 0)


def _open(args: argparse.Namespace, write: bool = False, graph: Path | None = None):
    from medkg.kg.graphdir import GraphDir
    from medkg.queries.api import KnowledgeGraph

    path = graph or args.graph
    manifest = GraphDir(path).peek_manifest() or {}
    return KnowledgeGraph.open(path, write=write, llm=_llm_settings(args),
                               models_dir=os.environ.get("MEDKG_MODELS"),
                               embedder_path=os.environ.get("MEDKG_EMBEDDER"),
                               store_options=_store_options(manifest.get("store", "embedded")))


def _answer_knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The answer settings given on the command line; the rest keep RetrievalSettings' defaults."""
    knobs: dict[str, Any] = {"calibrate": not args.no_calibrate, "findings_first": not args.no_findings_first}
    if args.budget:
        knobs["budget_tokens"] = args.budget
    if args.evidence_weight is not None:
        knobs["evidence_weight"] = args.evidence_weight
    return knobs


def cmd_ask(args: argparse.Namespace) -> int:
    from medkg.queries.context import RetrievalSettings

    settings = RetrievalSettings(beam=args.beam, top_chunks=args.top_chunks, hops=args.hops, refine=args.refine,
                                 **_answer_knobs(args))
    options = [o.strip() for o in args.options.split(",")] if args.options else None
    with _open(args) as graph:
        answer = graph.ask(args.question, settings, mode=args.mode, options=options)
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"Answer: {answer.answer}")
    if not answer.abstained:
        print(f"Confidence: {answer.confidence:.2f}")
    if answer.citations:
        print("\nCitations:")
    for c in answer.citations:
        where = f"PMID {c.pmid}" if c.pmid else c.doc_id
        print(f"[{c.id}] {where} ({c.doc_id}), characters {c.start}-{c.end}, tier {c.tier}")
        print(textwrap.indent(textwrap.fill(f'"{c.quote}"', width=100), "    "))
    print(f"\n({answer.timings.get('total_s', 0):.1f} s, model {answer.model})", file=sys.stderr)
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
    from contextlib import nullcontext

    from medkg.kg.graphdir import GraphDir
    from medkg.pipelines.build import graph_lock

    # a write must not race a build copying the view it changes
    with graph_lock(GraphDir(args.graph)) if args.write else nullcontext(), _open(args, write=args.write) as graph:
        rows = graph.cypher(args.query, dict(args.param or []))
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
    else:
        for row in rows:
            print("\t".join(json.dumps(v, ensure_ascii=False, default=str) for v in row.values()))
        print(f"({len(rows)} rows)", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or ("nt" if str(args.out).endswith(".nt") else "turtle")
    with _open(args) as graph:
        n = graph.export_rdf(args.out, fmt)
    print(f"wrote {n:,} triples to {args.out} ({fmt})")
    return 0


def cmd_sparql(args: argparse.Namespace) -> int:
    with _open(args) as graph:
        cols, rows = graph.sparql(args.query)
    if args.json:
        print(json.dumps([dict(zip(cols, r)) for r in rows], indent=2, ensure_ascii=False, default=str))
    else:
        print("\t".join(cols))
        for row in rows:
            print("\t".join("" if v is None else str(v) for v in row))
        print(f"({len(rows)} rows)", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _open(args) as graph:
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


def cmd_summaries(args: argparse.Namespace) -> int:
    from medkg.kg.graphdir import GraphDir
    from medkg.pipelines.build import graph_lock
    from medkg.queries.summary_rewrite import rewrite_summaries

    levels = tuple(sorted({x.strip() for x in args.levels.split(",")}))
    if not levels or not set(levels) <= {"1", "2"}:
        raise SystemExit(f"medkg summaries rewrite: --levels takes 1 and/or 2, not {args.levels!r}")
    if args.limit is not None and args.limit < 0:
        raise SystemExit(f"medkg summaries rewrite: --limit must be 0 or more, not {args.limit}")
    progress = _Progress("summaries")
    try:
        with graph_lock(GraphDir(args.graph)), _open(args, write=True) as graph:
            model = graph.llm.name
            report = rewrite_summaries(graph.dir, graph.store, graph.llm, tuple(map(int, levels)), args.limit,
                                       lambda done, total: progress("rewrite", done, total))
    finally:
        progress.close()
    print(f"rewrote {report.rewritten} summaries with {model} ({report.seconds_per_summary:.1f} s each); "
          f"{report.rejected} kept their extractive text (the sentence failed the checks), "
          f"{report.skipped} were already rewritten")
    return 0


def _models_dir() -> Path:
    from medkg.queries.models import DEFAULT_MODELS_DIR

    return Path(os.environ["MEDKG_MODELS"]) if os.environ.get("MEDKG_MODELS") else DEFAULT_MODELS_DIR


def _list_embedders(mdir: Path) -> None:
    from medkg.pipelines.embedding import EMBEDDERS, STATIC_EMBEDDER
    from medkg.pipelines.static_embedding import is_current

    print("\nembedders (medkg build --embedder NAME):")
    for name, description in EMBEDDERS.items():
        state = "installed" if name != STATIC_EMBEDDER else (
            f"distilled at {mdir / name}" if is_current(mdir / name) else "distilled on first use (~30 s)")
        print(f"{name:20s} {description}; {state}")


def cmd_models(args: argparse.Namespace) -> int:
    from medkg.queries import models

    mdir = _models_dir()
    if args.action == "list":
        for s in models.MODELS.values():
            path = models.installed_path(s.name, mdir)
            mark = "default" if s.name == models.DEFAULT_MODEL else ""
            state = f"installed at {path}" if path else "not installed"
            print(f"{s.name:20s} {mark:8s} {s.size_mb:>6d} MB  {s.licence:10s} {s.description}; {state}")
        _list_embedders(mdir)
        return 0
    names = args.names or [models.DEFAULT_MODEL]
    for name in names:
        if args.action == "install":
            print(f"installing {name} ...", file=sys.stderr)
            path = models.install(name, mdir)
            print(f"{name}: {path}")
        else:
            path = models.resolve_model(name, mdir, models.DEFAULT_MODEL)
            report = models.verify(path)
            print(f"{name}: ok ({path}; load {report['load_s']} s, {report['tokens_per_s']} tokens/s)")
    return 0


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


def answer_knobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=int, help="context budget in LLM tokens, the same for every mode (default 160)")
    p.add_argument("--no-calibrate", action="store_true",
                   help="options: the model's raw option probabilities, its prior not divided out")
    p.add_argument("--no-findings-first", action="store_true",
                   help="U-Retrieve: do not put the best document's findings sections (RESULTS...) first")
    p.add_argument("--evidence-weight", type=float,
                   help="options with evidence: strength of context-aware decoding (default 1; 0 = calibration)")


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="medkg", description="Medical knowledge graphs with cited answers.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    def graph_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--graph", type=Path, default=default_graph_dir(),
                        help="graph directory (default: $MEDKG_GRAPH or ~/.local/share/medkg/graph)")

    def vocab_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--vocab-dir", type=Path, default=default_vocab_dir(),
                        help="loaded vocabularies (default: $MEDKG_VOCAB or ~/.local/share/medkg/vocab)")

    b = sub.add_parser("build", help="build a graph from documents (default: the bundled sample)")
    b.add_argument("paths", nargs="*", help=".jsonl, PubTator or .txt files, or directories of them")
    b.add_argument("--tier", type=int, choices=(1, 2), help="force the tier: 1 reports, 2 literature")
    b.add_argument("--workers", type=int,
                   help="extraction processes (default: cores - 1, all cores with the static embedder; "
                        "0 = in this process)")
    b.add_argument("--embedder",
                   help="all-MiniLM-L6-v2 (default for a new graph), static-MiniLM-L6-v2 (distilled from it on "
                        "first use, ~100x faster, for batch builds) or a sentence-transformers directory; "
                        "default: $MEDKG_EMBEDDER or the graph's current embedder")
    b.add_argument("--batch-docs", type=int, default=32,
                   help="documents per committed batch: what an interrupted build can lose (default 32)")
    b.add_argument("--store", choices=("embedded", "neo4j"),
                   help="embedded (in the graph directory) or neo4j (NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, "
                        "NEO4J_DATABASE); default: the graph's current store, embedded for a new graph")
    full_arg = ("--full", {"action": "store_true",
                           "help": "rebuild the whole view, re-clustering topics and themes, even if few "
                                   "documents or none changed (by default a change to a few documents patches "
                                   "the current view)"})
    b.add_argument(full_arg[0], **full_arg[1])
    graph_arg(b)
    vocab_arg(b)
    b.set_defaults(func=cmd_build)

    d = sub.add_parser("delete", help="remove documents and everything derived only from them")
    d.add_argument("ids", nargs="+", help="document ids, e.g. PMID:123 or report:note-1")
    d.add_argument(full_arg[0], **full_arg[1])
    graph_arg(d)
    vocab_arg(d)
    d.set_defaults(func=cmd_delete)

    a = sub.add_parser("ask", help="answer a question with citations")
    a.add_argument("question")
    a.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    a.add_argument("--model", default=os.environ.get("MEDKG_LLM_MODEL"), help="a model name from 'medkg models list' or a .gguf file ($MEDKG_LLM_MODEL)")
    a.add_argument("--beam", type=int, default=3, help="top-level summaries to descend into")
    a.add_argument("--top-chunks", type=int, default=4, help="passages taken from the chosen summaries")
    a.add_argument("--hops", type=int, default=1, help="graph hops for REFERENCES and concepts (0 = none)")
    a.add_argument("--mode", default="uretrieve", choices=("uretrieve", "llm-only", "vector", "bm25", "hybrid"),
                   help="retrieval: U-Retrieve (default) or a baseline")
    a.add_argument("--options", help="comma-separated answers to choose from, e.g. yes,no,maybe")
    a.add_argument("--refine", action="store_true", help="bottom-up refinement over the chosen summaries")
    answer_knobs(a)
    graph_arg(a)
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("cypher", help="run a Cypher query (read-only unless --write)")
    c.add_argument("query")
    c.add_argument("--param", action="append", type=_param, help="NAME=VALUE (JSON values allowed)")
    c.add_argument("--write", action="store_true",
                   help="allow statements that change the graph (the current view: a full rebuild replaces it)")
    c.add_argument("--json", action="store_true")
    graph_arg(c)
    c.set_defaults(func=cmd_cypher)

    sm = sub.add_parser("summaries", help="optional: rewrite topic and theme summaries with the local LLM")
    sm.add_argument("action", choices=("rewrite",))
    sm.add_argument("--levels", default="1,2", help="1 = topics, 2 = themes (default: both)")
    sm.add_argument("--limit", type=int, help="at most this many per level, largest first (default: all)")
    sm.add_argument("--model", help="a registered model name or a .gguf path (default: as for ask)")
    graph_arg(sm)
    sm.set_defaults(func=cmd_summaries)

    x = sub.add_parser("export", help="export the graph as RDF (SKOS, PROV-O, Web Annotation)")
    x.add_argument("what", choices=("rdf",))
    x.add_argument("--out", type=Path, required=True, help="the file to write (.ttl or .nt)")
    x.add_argument("--format", choices=("turtle", "nt"), help="default: from the file name, else turtle")
    graph_arg(x)
    x.set_defaults(func=cmd_export)

    sp = sub.add_parser("sparql", help="a SPARQL SELECT or ASK query over the graph's RDF view")
    sp.add_argument("query")
    sp.add_argument("--json", action="store_true")
    graph_arg(sp)
    sp.set_defaults(func=cmd_sparql)

    from medkg.cli_eval import add_eval_and_train

    add_eval_and_train(sub, answer_knobs, vocab_arg)

    v = sub.add_parser("vocab", help="load vocabularies (MeSH XML, UMLS RRF, OBO, ICD-10-CM) or list them")
    v.add_argument("action", choices=("load", "info"))
    v.add_argument("kind", nargs="?", help="mesh, umls, obo (hpo, mondo, doid), icd10cm, or pubtator (the names "
                   "annotators gave concepts in a training corpus: see the README)")
    v.add_argument("path", nargs="?", help="the file or directory to read")
    v.add_argument("--sources", help="UMLS: comma-separated source vocabularies (SAB) to keep; default all")
    v.add_argument("--languages", default="ENG", help="UMLS: comma-separated languages (LAT); default ENG")
    v.add_argument("--include-suppressed", action="store_true", help="UMLS: keep suppressed names")
    v.add_argument("--json", action="store_true")
    vocab_arg(v)
    v.set_defaults(func=cmd_vocab)

    m = sub.add_parser("models", help="list, install or verify the local LLMs")
    m.add_argument("action", choices=("list", "install", "verify"))
    m.add_argument("names", nargs="*", help="model names (default: the default model); verify also takes paths")
    m.set_defaults(func=cmd_models)

    s = sub.add_parser("stats", help="counts per node and edge type, vocabulary versions")
    s.add_argument("--json", action="store_true")
    graph_arg(s)
    s.set_defaults(func=cmd_stats)
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


if __name__ == "__main__":
    sys.exit(main())
