"""The harness itself: a refused command is told apart from a crash, and a snapshot sees a change."""

from __future__ import annotations

from pathlib import Path

from harness import assert_refused, medkg, snapshot


def test_a_missing_input_is_refused_cleanly_and_changes_nothing(graph_copy: Path, sample_snapshot) -> None:
    proc = medkg("build", graph_copy.parent / "no-such-file.jsonl", "--graph", graph_copy)
    assert_refused(proc, "no-such-file.jsonl", "not found")
    assert snapshot(graph_copy) == sample_snapshot


def test_a_snapshot_sees_a_deleted_document(graph_copy: Path, sample_snapshot) -> None:
    proc = medkg("delete", "report:note-02-asthma", "--graph", graph_copy)
    assert proc.returncode == 0, proc.stderr
    after = snapshot(graph_copy)
    assert after.counts["Document"] == sample_snapshot.counts["Document"] - 1
    assert after.ledger != sample_snapshot.ledger and after.manifest != sample_snapshot.manifest
