"""The package layers point one way: ontologies <- kg <- pipelines <- queries <- CLI and app.

A small ``ast`` pass over every module (type-only imports included): a module
may import medkg modules of its own layer or of a lower one, never of a higher
one. ``medkg.errors``, ``medkg.paths`` and ``medkg.version`` sit below all
layers; the CLI, the evaluation harness and the public ``medkg`` package sit
above them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# folder -> the package it installs as (pyproject.toml's package-dir)
PACKAGES = {"ontologies": "medkg.ontologies", "kg": "medkg.kg", "pipelines": "medkg.pipelines",
            "queries": "medkg.queries", "medkg": "medkg"}
BASE = {"medkg.errors", "medkg.paths", "medkg.version"}
ORDER = ["base", "medkg.ontologies", "medkg.kg", "medkg.pipelines", "medkg.queries", "app"]


def layer(module: str) -> str:
    if any(module == b or module.startswith(b + ".") for b in BASE):
        return "base"
    for name in ORDER[1:-1]:
        if module == name or module.startswith(name + "."):
            return name
    return "app"  # medkg itself, medkg.cli, medkg.evaluation, medkg.__main__


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [PACKAGES[rel.parts[0]], *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(p for part in parts for p in part.split("."))


def imported(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every medkg import in ``path``, relative imports resolved."""
    out = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from medkg.kg import cypher" imports the module medkg.kg.cypher
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return [(line, m) for line, m in out if m == "medkg" or m.startswith("medkg.")]


def sources() -> list[Path]:
    return sorted(p for folder in PACKAGES for p in (ROOT / folder).rglob("*.py"))


def test_the_package_folders_are_found() -> None:
    names = {module_name(p) for p in sources()}
    assert {"medkg.kg.records", "medkg.pipelines.build", "medkg.queries.api", "medkg.cli"} <= names


def upward(path: Path, module: str) -> list[str]:
    own = ORDER.index(layer(module))
    return [f"{path.name}:{line}: {layer(module)} imports {m}"
            for line, m in imported(path, module) if ORDER.index(layer(m)) > own]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    found = upward(path, module_name(path))
    assert not found, "\n".join(found)


def test_the_build_is_on_top_of_the_pipeline_stages() -> None:
    users = [str(p.relative_to(ROOT)) for p in sources()
             if layer(module_name(p)) == "medkg.pipelines" and module_name(p) != "medkg.pipelines.build"
             and any(m.startswith("medkg.pipelines.build") for _, m in imported(p, module_name(p)))]
    assert not users


def test_a_violation_is_caught(tmp_path: Path) -> None:
    """The check itself: upward imports, absolute, relative and type-only, are reported; downward ones are not."""
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nfrom medkg.kg import cypher\nfrom ..queries import api\n"
                     "if TYPE_CHECKING:\n    from medkg.pipelines.build import BuildReport\n", encoding="utf-8")
    found = upward(probe, "medkg.kg.probe")
    assert found == ["probe.py:3: medkg.kg imports medkg.queries.api",
                     "probe.py:5: medkg.kg imports medkg.pipelines.build.BuildReport"]
