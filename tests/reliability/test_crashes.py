"""kill -9 where it hurts: no orphan extraction worker, and a killed Cypher write leaves the graph as it was.

(A build killed at any phase and run again is covered by tests/integration/test_resumable_build.py.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import assert_refused, medkg, snapshot

# a statement that runs for seconds on the sample graph: every chunk's text set again, 20,000 times
LARGE_WRITE = "MATCH (c:Chunk) UNWIND range(1, 20000) AS i WITH c, i SET c.text = c.text + ''"
SMALL_WRITE = "MATCH (c:Concept) WHERE c.id = 'MESH:D011014' SET c.definition = 'lung'"


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "medkg", *map(str, args)]


def abstracts(path: Path, n: int) -> Path:
    """``n`` short tier-2 abstracts of their own (new ids, so a build has extraction to do)."""
    rows = [{"id": f"PMID:99{i:05d}", "tier": 2, "kind": "abstract", "title": f"Case series {i}",
             "text": f"Acute appendicitis was diagnosed in {i + 3} elderly patients with abdominal pain. "
                     "C-reactive protein and leukocyte counts were raised in most of them; "
                     f"pneumonia complicated {i % 4} cases."} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(kids - out)
            out |= kids
    return out


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status and "\nState:\tX" not in status


def wait_for(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def test_a_killed_build_leaves_no_extraction_worker_and_resumes(graph_copy: Path, tmp_path: Path,
                                                                 sample_snapshot) -> None:
    docs = abstracts(tmp_path / "new.jsonl", 12)
    build = command("build", docs, "--graph", graph_copy, "--workers", "1", "--batch-docs", "2")
    proc = subprocess.Popen(build, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        workers: set[int] = set()

        def worker_started() -> bool:
            workers.update(p for p in descendants(proc.pid)
                           if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes())
            return bool(workers) or proc.poll() is not None

        assert wait_for(worker_started, 180), "no extraction worker started"
        assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()[-500:]}"
        time.sleep(1.0)
        everything = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the build alone, as the OOM killer or a user's kill -9 would
        proc.wait()
        assert wait_for(lambda: not any(alive(p) for p in everything), 15), \
            f"left running after the build was killed: {[p for p in everything if alive(p)]}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    res = medkg("build", docs, "--graph", graph_copy, "--workers", "0")
    assert res.returncode == 0, res.stderr[-2000:]
    after = snapshot(graph_copy)
    assert after.counts["Document"] == sample_snapshot.counts["Document"] + 12
    added, unchanged = (int(x) for x in re.search(r"(\d+) added, \d+ replaced, (\d+) unchanged", res.stdout).groups())
    assert added + unchanged == 12, res.stdout  # what the killed build committed was kept, the rest added


def views(graph: Path) -> list[str]:
    return sorted(p.name for p in graph.iterdir() if p.name.startswith("view-"))


def test_a_killed_cypher_write_leaves_the_graph_as_it_was(graph_copy: Path, sample_snapshot) -> None:
    before = views(graph_copy)
    proc = subprocess.Popen(command("cypher", "--write", LARGE_WRITE, "--graph", graph_copy),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(views(graph_copy)) > len(before) or proc.poll() is not None, 60)
        time.sleep(1.5)  # the statement is running on its copy of the view
        assert proc.poll() is None, f"the write ended before it could be killed: {proc.stderr.read()[-500:]}"
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert snapshot(graph_copy) == sample_snapshot  # readers see the view as it was, with no "corrupted" log
    read = medkg("cypher", "MATCH (c:Chunk) RETURN count(c) AS n", "--graph", graph_copy)
    assert read.returncode == 0 and read.stdout.split() == [str(sample_snapshot.counts["Chunk"])], read.stderr
    write = medkg("cypher", "--write", SMALL_WRITE, "--graph", graph_copy)  # and a write goes through
    assert write.returncode == 0, write.stderr
    read = medkg("cypher", "MATCH (c:Concept) WHERE c.id = 'MESH:D011014' RETURN c.definition", "--graph",
                 graph_copy)
    assert read.stdout.strip() == '"lung"', read.stdout + read.stderr
    assert len(views(graph_copy)) == 2  # the current view and the one before it: the killed copy is gone
    build = medkg("build", "--graph", graph_copy, "--workers", "0")  # the sample again: nothing to do
    assert build.returncode == 0 and "nothing changed" in build.stdout, build.stdout + build.stderr[-1000:]


def test_a_rerun_after_a_failed_first_neo4j_build_stays_with_neo4j(sample_graph: Path, tmp_path: Path) -> None:
    graph = tmp_path / "g"  # a graph whose first build stopped after extraction: a ledger, no view yet
    graph.mkdir()
    for name in ("ledger.sqlite", "lexicon.pkl"):
        shutil.copyfile(sample_graph / name, graph / name)
    docs = abstracts(tmp_path / "new.jsonl", 2)
    env = {"NEO4J_URI": "bolt://127.0.0.1:1", "NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": "x"}
    first = medkg("build", docs, "--graph", graph, "--store", "neo4j", "--workers", "0", env=env)
    assert_refused(first, "bolt://127.0.0.1:1")  # the server is down: the view could not be written
    no_env = {k: "" for k in env}
    rerun = medkg("build", docs, "--graph", graph, "--workers", "0", env=no_env)  # no --store this time
    assert_refused(rerun, "neo4j", "NEO4J_URI")  # not an embedded graph built quietly beside the server's copy
    assert not (graph / "manifest.json").exists() and not views(graph)
    explicit = medkg("cypher", "MATCH (n) RETURN count(n)", "--graph", graph)
    assert_refused(explicit, str(graph))
