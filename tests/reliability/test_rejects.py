"""Batch builds over inputs with some bad files and records.

By default the good documents are built, each bad record (a JSONL line, a PubMedQA record, a CSV row, a PubTator
document) or file is listed in ``GRAPH/rejects.jsonl``, and the command ends with status 3 and a one-line summary.
``--strict`` is all or nothing: the first bad input stops the build, and the graph is as it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from harness import assert_refused, error_lines, medkg, snapshot

GOOD_IDS = {"batch:1", "batch:2", "PMID:501", "report:notes:n1", "PMID:601"}


def _batch(folder: Path) -> list[tuple[str, int | None, str | None, str]]:
    """A directory of good and bad inputs; the rejects expected, as (file name, line, record, reason part)."""
    folder.mkdir()
    lines = [{"id": "batch:1", "text": "Aspirin induced asthma in two adults."},
             {"id": "batch:2", "text": "Metformin did not cause lactic acidosis.", "tier": 2},
             {"id": "batch:3", "text": "Tier seven.", "tier": 7}]
    (folder / "good.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + '\n{"id": "batch:4", "te\n',
                                       encoding="utf-8")
    (folder / "qa.json").write_text(json.dumps({
        "501": {"QUESTION": "q", "CONTEXTS": ["Warfarin caused bleeding.", "It was stopped."], "LABELS": ["A", "B"]},
        "502": {"QUESTION": "q", "CONTEXTS": "A"}}), encoding="utf-8")
    (folder / "notes.csv").write_text("id,text\nn1,Chest pain without fever.\nn2,Chest pain, no fever.\n",
                                      encoding="utf-8")
    (folder / "c.pubtator").write_text("601|t|Lithium and tremor\n601|a|Lithium induced tremor.\n\n602|t|Cut\n",
                                       encoding="utf-8")
    (folder / "zz-broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    return [("c.pubtator", 4, "602", "a title line without an abstract line"),
            ("good.jsonl", 3, "batch:3", "'tier' must be 1 (reports) or 2 (literature), not a number (7)"),
            ("good.jsonl", 4, None, "malformed JSON"),
            ("notes.csv", 3, "row 2", "the row has 3 fields, the header 2"),
            ("qa.json", None, "502", "'CONTEXTS' must be a non-empty list of strings, not a string"),
            ("zz-broken.txt", None, None, "not valid UTF-8")]


def _ids(graph: Path) -> set[str]:
    con = sqlite3.connect(f"file:{graph / 'ledger.sqlite'}?mode=ro", uri=True)
    try:
        return {row[0] for row in con.execute("SELECT id FROM documents")}
    finally:
        con.close()


def test_a_batch_builds_the_good_inputs_and_lists_the_bad_ones(graph_copy: Path, sample_snapshot,
                                                               tmp_path: Path) -> None:
    expected = _batch(tmp_path / "in")
    before = _ids(graph_copy)
    proc = medkg("build", tmp_path / "in", "--graph", graph_copy)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and proc.stdout.startswith(f"built {graph_copy}")
    (line,) = error_lines(proc.stderr)
    assert line.startswith(f"medkg: built {len(GOOD_IDS)} documents; {len(expected)} inputs rejected, see "
                           f"{graph_copy / 'rejects.jsonl'} (first: "), line
    rejects = [json.loads(x) for x in (graph_copy / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    got = sorted((Path(r["file"]).name, r["line"], r["record"], r["reason"]) for r in rejects)
    assert len(got) == len(expected)
    for (name, lineno, record, reason), want in zip(got, expected):
        assert (name, lineno, record) == want[:3] and want[3] in reason, (name, lineno, record, reason)
    assert _ids(graph_copy) == before | GOOD_IDS  # nothing stored before is lost
    assert snapshot(graph_copy).counts["Document"] == sample_snapshot.counts["Document"] + len(GOOD_IDS)

    # the list is rewritten by each build: a clean one removes it
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "ok.jsonl").write_text(json.dumps({"id": "batch:1", "text": "Aspirin induced asthma in "
                                                             "two adults."}) + "\n", encoding="utf-8")
    proc = medkg("build", tmp_path / "again", "--graph", graph_copy)
    assert proc.returncode == 0 and not error_lines(proc.stderr), proc.stderr[-3000:]
    assert not (graph_copy / "rejects.jsonl").exists()


def test_strict_stops_at_the_first_bad_input_and_changes_nothing(graph_copy: Path, sample_snapshot,
                                                                 tmp_path: Path) -> None:
    _batch(tmp_path / "in")
    proc = medkg("build", tmp_path / "in", "--graph", graph_copy, "--strict")
    assert proc.returncode == 1
    assert_refused(proc, "c.pubtator:4: record 602: a title line without an abstract line")
    assert snapshot(graph_copy) == sample_snapshot  # the good file read before it (601) is not stored either
    assert not (graph_copy / "rejects.jsonl").exists()


def test_a_batch_with_nothing_readable_is_an_error_that_points_at_the_list(graph_copy: Path, sample_snapshot,
                                                                           tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id": "x", "text": 5}\n', encoding="utf-8")
    (folder / "b.txt").write_text("  \n", encoding="utf-8")
    proc = medkg("build", folder, "--graph", graph_copy)
    assert_refused(proc, "no document could be read: 2 inputs rejected", str(graph_copy / "rejects.jsonl"),
                   "a.jsonl:1: record x: 'text' must be a string, not a number (5)")
    assert snapshot(graph_copy) == sample_snapshot
