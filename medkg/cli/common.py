"""What every command group shares: progress lines, the environment's settings, opening a graph, common options.

The CLI is the only place that prints, reads the environment or shows
progress. Environment (all optional): ``MEDKG_GRAPH`` (graph directory),
``MEDKG_LLM_MODEL`` (a model name or a .gguf file), ``MEDKG_MODELS`` (where
installed models go), ``MEDKG_LLM_CTX`` (context size), ``MEDKG_LLM_GPU_LAYERS``
(layers to offload), ``MEDKG_THREADS`` (CPU threads for the LLM),
``MEDKG_EMBEDDER`` (a sentence-transformers directory), ``MEDKG_VOCAB`` (the
loaded-vocabulary library), ``NEO4J_*`` (the Neo4j backend's connection).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from medkg import paths
from medkg.errors import MedKGError

if TYPE_CHECKING:
    from medkg.ontologies.vocabulary import Vocabulary
    from medkg.queries.api import KnowledgeGraph
    from medkg.queries.llm import LLMSettings
    from medkg.queries.settings import AnswerSettings


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``medkg: error: <command>: ...``) and the usual exit status 2; the
    usage stays one ``--help`` away. Subcommands' parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"medkg: error: {self.prog}: {message} (see {self.prog} --help)\n")


def whole(least: int, most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``least`` to ``most``, else a message that gives the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"must be between {least:,} and {most:,} (got {value:,})")
        return value

    return parse


def number(least: float, most: float, *, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a number in [``least``, ``most``] (``above``: greater than ``least``); no NaN."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (least < value if above else least <= value) or not value <= most:
            low = f"more than {least:g}" if above else f"at least {least:g}"
            raise argparse.ArgumentTypeError(f"must be {low} and at most {most:g} (got {text})")
        return value

    return parse


class Progress:
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


def store_options(store: str) -> dict[str, Any]:
    """Connection settings of a server backend, from the environment variables its table entry names."""
    from medkg.kg.store import BACKENDS

    spec = BACKENDS.get(store)
    if spec is None or not spec.env:
        return {}
    missing = [v for v in spec.required_env if not os.environ.get(v)]
    if missing:
        raise MedKGError(f"--store {store} needs {', '.join(missing)} in the environment")
    return {v.split("_", 1)[1].lower(): os.environ[v] for v in spec.env if os.environ.get(v)}


def vocabulary(args: argparse.Namespace) -> Vocabulary | None:
    """The loaded-vocabulary library's vocabulary, or None (the bundled MeSH) when nothing was loaded."""
    from medkg.ontologies.library import VocabularyLibrary

    library = VocabularyLibrary(args.vocab_dir)
    return library.vocabulary() if library.entries() else None


def env_int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as e:
        raise MedKGError(f"{name}={value!r} is not a whole number") from e


def llm_settings(args: argparse.Namespace) -> LLMSettings:
    from medkg.queries.llm import LLMSettings

    return LLMSettings(model=getattr(args, "model", None), n_ctx=env_int("MEDKG_LLM_CTX", 4096) or 4096,
                       n_threads=env_int("MEDKG_THREADS", None),
                       n_gpu_layers=env_int("MEDKG_LLM_GPU_LAYERS", 0) or 0)


def models_dir() -> Path:
    return paths.default_models_dir()


def open_graph(args: argparse.Namespace, write: bool = False, graph: Path | None = None) -> KnowledgeGraph:
    """The graph of ``--graph`` (or ``graph``), with the LLM, model and store settings of the environment."""
    from medkg.kg.graphdir import GraphDir
    from medkg.queries.api import KnowledgeGraph

    path = graph or args.graph
    manifest = GraphDir(path).peek_manifest() or {}
    return KnowledgeGraph.open(path, write=write, llm=llm_settings(args), models_dir=models_dir(),
                               embedder_path=os.environ.get("MEDKG_EMBEDDER"),
                               store_options=store_options(manifest.get("store", "embedded")))


def answer_settings(args: argparse.Namespace) -> AnswerSettings:
    """The answer settings given on the command line (see :func:`add_answer_options`)."""
    from medkg.queries.settings import AnswerSettings

    knobs: dict[str, Any] = {"calibrate": not args.no_calibrate, "refine": bool(getattr(args, "refine", False))}
    if args.evidence_weight is not None:
        knobs["evidence_weight"] = args.evidence_weight
    return AnswerSettings(**knobs)


def retrieval_knobs(args: argparse.Namespace) -> dict[str, Any]:
    """The retrieval settings every question-answering command takes (see :func:`add_answer_options`)."""
    knobs: dict[str, Any] = {"findings_first": not args.no_findings_first}
    if args.budget is not None:
        knobs["budget_tokens"] = args.budget
    if args.relations is not None:
        knobs["relations"] = args.relations
    return knobs


def add_answer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=whole(1, 131_072),
                   help="context budget in LLM tokens, the same for every mode (default 160)")
    p.add_argument("--no-calibrate", action="store_true",
                   help="options: the model's raw option probabilities, its prior not divided out")
    p.add_argument("--no-findings-first", action="store_true",
                   help="U-Retrieve: do not put the best document's findings sections (RESULTS...) first")
    p.add_argument("--relations", type=whole(0, 50),
                   help="U-Retrieve: evidence passages of typed relations (INDUCES, TREATS) at the question's "
                        "concepts (default 2; 0 = none)")
    p.add_argument("--evidence-weight", type=number(0, 100),
                   help="options with evidence: strength of context-aware decoding (default 1; 0 = calibration)")


def add_graph_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--graph", type=Path, default=paths.default_graph_dir(),
                    help="graph directory (default: $MEDKG_GRAPH or $XDG_DATA_HOME/medkg/graph, "
                         "~/.local/share/medkg/graph)")


def add_vocab_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--vocab-dir", type=Path, default=paths.default_vocab_dir(),
                    help="loaded vocabularies (default: $MEDKG_VOCAB or $XDG_DATA_HOME/medkg/vocab)")


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
