"""No network at run time: build, ask, export and sparql work in a network namespace with no interface up.

Model hubs and telemetry are switched off where medkg starts (``medkg/__init__.py``: ``HF_HUB_OFFLINE`` and
friends); every model loads from a local path. Needs ``unshare -n`` (root here and in CI); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_crashes import abstracts

OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")


def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _unshare_works(), reason="unshare -n is not permitted here (needs root or "
                                                               "user namespaces)")


def offline(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``medkg`` with no network at all, and none of the offline switches set by the caller."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env["MEDKG_LLM_MODEL"] = "smollm2-135m"
    return subprocess.run(["unshare", "-n", sys.executable, "-m", "medkg", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env)


def test_build_ask_export_and_sparql_need_no_network(graph_copy: Path, tmp_path: Path) -> None:
    probe = subprocess.run(["unshare", "-n", sys.executable, "-c",
                            "import socket; socket.create_connection(('1.1.1.1', 443), timeout=2)"],
                           capture_output=True, text=True, timeout=30)
    assert probe.returncode != 0  # the namespace really has no network
    build = offline("build", abstracts(tmp_path / "new.jsonl", 3), "--graph", graph_copy, "--workers", "0")
    assert build.returncode == 0, build.stderr[-2000:]
    ask = offline("ask", "Is C-reactive protein raised in acute appendicitis?", "--graph", graph_copy)
    assert ask.returncode == 0 and ask.stdout.startswith("Answer:"), ask.stderr[-2000:]
    out = tmp_path / "graph.nt"
    export = offline("export", "rdf", "--out", out, "--graph", graph_copy)
    assert export.returncode == 0 and out.stat().st_size > 0, export.stderr[-2000:]
    sparql = offline("sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--graph", graph_copy)
    assert sparql.returncode == 0 and int(sparql.stdout.split()[1]) > 0, sparql.stderr[-2000:]
