"""kill -9 in the middle of ``medkg build``, run it again: the same graph, no duplicates, nothing redone twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medkg.pipelines.build import sample_paths
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration


def _ledger_rows(graph: Path) -> int:
    try:
        with sqlite3.connect(f"file:{graph / 'ledger.sqlite'}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def build_cmd(graph: Path) -> list[str]:
    return [sys.executable, "-m", "medkg", "build", *map(str, sample_paths()), "--graph", str(graph),
            "--batch-docs", "4", "--workers", "1"]


def test_killed_build_resumes_to_the_same_graph(tmp_path: Path, sample_graph: Path) -> None:
    graph = tmp_path / "g"
    proc = subprocess.Popen(build_cmd(graph), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while _ledger_rows(graph) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()[-500:]}"
    os.killpg(proc.pid, signal.SIGKILL)  # the build and its extraction worker
    proc.wait()
    committed = _ledger_rows(graph)
    assert 8 <= committed < 38
    assert not (graph / "manifest.json").exists()  # no view was ever switched to: nothing half-built is visible

    res = subprocess.run(build_cmd(graph), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"{38 - committed} added" in res.stdout and f"{committed} unchanged" in res.stdout
    with KnowledgeGraph.open(graph) as resumed, KnowledgeGraph.open(sample_graph) as clean:
        assert resumed.stats()["counts"] == clean.stats()["counts"]
        q = "MATCH (e:Entity) RETURN count(e) AS n, count(DISTINCT e.id) AS d"
        assert resumed.cypher(q) == clean.cypher(q)
        q = "MATCH (c:Chunk) RETURN c.id AS id, c.text AS t ORDER BY id"
        assert resumed.cypher(q) == clean.cypher(q)
    assert [p.name for p in graph.iterdir() if p.name.startswith("view-")] == ["view-000001"]
