"""The ray engine on a real multi-process Ray cluster (a head and a worker node on 127.0.0.1).

Each build runs the real ``medkg build --engine ray --address ...`` command and
must leave the same graph as the local engine's build of the same sample
(``sample_graph``): the same ledger rows (ids, contents, extraction
fingerprint), the same meta-graphs, the same vectors (to float rounding: batch
sizes differ), and the same view counts. Then the two crashes a distributed
build must survive: a worker killed mid-build (Ray restarts it and redoes its
batches) and the driver killed mid-build (the next run resumes from the ledger
and the shards left behind).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="the ray engine's tests need Ray: pip install 'medkg[distributed]'")

from ray_cluster import RayCluster, env

from medkg.kg.ledger import Ledger
from medkg.paths import sample_paths

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="kills processes through /proc and signals")


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    c = RayCluster(nodes=2).start()
    yield c
    c.stop()


def build(graph: Path, cluster: RayCluster, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "medkg", "build", *map(str, sample_paths()), "--graph", str(graph),
           "--engine", "ray", "--address", cluster.address, "--workers", "2", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                            start_new_session=True)


def finish(proc: subprocess.Popen[str], timeout: float = 900) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}:\n{err[-4000:]}"
    assert "Traceback" not in err
    return out


def committed(graph: Path) -> int:
    try:
        with sqlite3.connect(graph / "ledger.sqlite", timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def wait_for_commits(graph: Path, proc: subprocess.Popen[str], at_least: int = 1, seconds: float = 600) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the build ended early: {proc.communicate()[1][-3000:]}"
        if (n := committed(graph)) >= at_least:
            return n
        time.sleep(0.2)
    raise AssertionError(f"no batch committed in {seconds:.0f} s")


def actor_pids() -> list[int]:
    """Processes of live extraction workers (Ray names an actor's process after its class)."""
    out = []
    for p in Path("/proc").glob("[0-9]*"):
        try:
            if b"ray::ExtractionWorker" in (p / "cmdline").read_bytes():
                out.append(int(p.name))
        except OSError:
            continue
    return out


def assert_same_graph(graph: Path, reference: Path) -> None:
    with Ledger(graph / "ledger.sqlite") as a, Ledger(reference / "ledger.sqlite") as b:
        assert a.state() == b.state()  # ids, content keys and fingerprints of every row
        mine = {r.document.id: r for r in a.records()}
        theirs = {r.document.id: r for r in b.records()}
    assert mine.keys() == theirs.keys()
    for doc_id, r in theirs.items():
        assert mine[doc_id].graphs == r.graphs, doc_id
        np.testing.assert_allclose(mine[doc_id].vectors, r.vectors, atol=1e-5)
    manifest = json.loads((graph / "manifest.json").read_text())
    assert manifest["counts"] == json.loads((reference / "manifest.json").read_text())["counts"]
    assert not (graph / "shards").exists() or not any((graph / "shards").iterdir())


def test_a_two_node_cluster_builds_the_local_engines_graph(cluster: RayCluster, sample_graph: Path,
                                                           tmp_path: Path) -> None:
    assert cluster.alive_nodes() == 2
    graph = tmp_path / "graph"
    out = finish(build(graph, cluster))
    assert "38 added" in out
    assert_same_graph(graph, sample_graph)
    assert not actor_pids()  # the build's workers end with it


def test_a_killed_worker_is_restarted_and_its_batches_redone(cluster: RayCluster, sample_graph: Path,
                                                             tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    proc = build(graph, cluster, "--batch-docs", "4")
    at_kill = wait_for_commits(graph, proc)
    victims = actor_pids()
    assert victims, "no extraction worker running"
    os.kill(victims[0], signal.SIGKILL)
    finish(proc)
    assert at_kill < 38
    assert_same_graph(graph, sample_graph)


def test_a_killed_driver_resumes_from_the_ledger(cluster: RayCluster, sample_graph: Path, tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    proc = build(graph, cluster, "--batch-docs", "4")
    wait_for_commits(graph, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = committed(graph)
    assert 0 < at_kill < 38
    deadline = time.monotonic() + 60
    while actor_pids() and time.monotonic() < deadline:  # the driver's workers die with it
        time.sleep(0.5)
    assert not actor_pids()
    out = finish(build(graph, cluster, "--batch-docs", "4"))
    assert f"{38 - at_kill} added" in out or "unchanged" in out
    assert committed(graph) == 38
    assert_same_graph(graph, sample_graph)
