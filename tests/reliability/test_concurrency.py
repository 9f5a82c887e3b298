"""Several processes on one graph: writers take turns (one line says who holds the graph), readers always see a
complete view, never a "corrupted" store while a write or a build runs."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from harness import assert_refused, medkg
from test_crashes import LARGE_WRITE, SMALL_WRITE, abstracts, command, views, wait_for

from medkg.queries.api import KnowledgeGraph


def lock_holder(graph: Path) -> str:
    try:
        return (graph / ".lock").read_text(encoding="utf-8")
    except OSError:
        return ""


def read_counts(graph: Path) -> dict[str, int]:
    """A reader as ``ask`` or ``cypher`` opens one: the view the manifest names, read-only."""
    with KnowledgeGraph.open(graph) as g:
        return {"chunks": g.cypher("MATCH (c:Chunk) RETURN count(c) AS n")[0]["n"],
                "concepts": g.stats()["counts"]["Concept"]}


def test_readers_during_a_large_write_see_a_complete_view_and_a_second_writer_is_refused(
        graph_copy: Path, sample_snapshot) -> None:
    expected = {"chunks": sample_snapshot.counts["Chunk"], "concepts": sample_snapshot.counts["Concept"]}
    before = views(graph_copy)
    writer = subprocess.Popen(command("cypher", "--write", LARGE_WRITE, "--graph", graph_copy),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: len(views(graph_copy)) > len(before) or writer.poll() is not None, 60)
        reads = 0
        while writer.poll() is None and reads < 15:  # each read opens the graph afresh, as a new process would
            assert read_counts(graph_copy) == expected
            reads += 1
        assert reads >= 3, "the write ended before the readers could overlap it"
        second = medkg("cypher", "--write", SMALL_WRITE, "--graph", graph_copy)
        assert_refused(second, str(graph_copy), "a Cypher write (pid")
        build = medkg("delete", "PMID:10340286", "--graph", graph_copy)
        assert_refused(build, str(graph_copy), f"a Cypher write (pid {writer.pid})")
    finally:
        writer.kill()
        writer.wait()
    assert read_counts(graph_copy) == expected


def test_a_write_is_seen_by_readers_that_move_to_it_not_under_those_reading(graph_copy: Path) -> None:
    with KnowledgeGraph.open(graph_copy) as reader:  # open before the write: keeps reading its view
        res = medkg("cypher", "--write", SMALL_WRITE, "--graph", graph_copy)
        assert res.returncode == 0, res.stderr
        q = "MATCH (c:Concept) WHERE c.id = 'MESH:D011014' RETURN c.definition AS d"
        assert reader.cypher(q) == [{"d": None}]
        assert reader.refresh() and reader.cypher(q) == [{"d": "lung"}]


def test_two_builds_take_turns_and_readers_go_on_during_a_build(graph_copy: Path, tmp_path: Path,
                                                                 sample_snapshot) -> None:
    docs = abstracts(tmp_path / "new.jsonl", 8)
    first = subprocess.Popen(command("build", docs, "--graph", graph_copy, "--workers", "0", "--batch-docs", "2"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert wait_for(lambda: "a build" in lock_holder(graph_copy) or first.poll() is not None, 60)
        second = medkg("build", docs, "--graph", graph_copy, "--workers", "0")
        assert first.poll() is None, "the first build ended before the second started"
        assert_refused(second, str(graph_copy), f"a build (pid {first.pid})")
        read = medkg("cypher", "MATCH (d:Document) RETURN count(d) AS n", "--graph", graph_copy)
        assert read.returncode == 0 and read.stdout.split() == [str(sample_snapshot.counts["Document"])], read.stderr
        assert medkg("stats", "--graph", graph_copy).returncode == 0
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err[-2000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    read = medkg("cypher", "MATCH (d:Document) RETURN count(d) AS n", "--graph", graph_copy)
    assert read.stdout.split() == [str(sample_snapshot.counts["Document"] + 8)], read.stderr
    assert lock_holder(graph_copy) == ""  # released: the next writer goes through
    assert medkg("cypher", "--write", SMALL_WRITE, "--graph", graph_copy).returncode == 0
