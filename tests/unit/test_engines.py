"""Extraction engines without models: the engine table, ledger shards and the leftovers of a killed build."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from medkg.errors import GraphCorruptError
from medkg.kg.ledger import LedgerRecord
from medkg.kg.records import Chunk, ChunkGraph, Document
from medkg.pipelines.engines import ENGINES, EngineError, ExtractionJob, open_engine
from medkg.pipelines.engines.shards import Leftovers, read_shard, shard_name, write_shard


def _record(doc_id: str, text: str) -> LedgerRecord:
    doc = Document(id=doc_id, text=text)
    chunk = Chunk(f"{doc_id}#0", doc_id, doc.tier, 0, 0, len(text), text)
    return LedgerRecord(doc, [ChunkGraph(chunk, [], [])], np.full((1, 4), 0.5, dtype=np.float32))


def test_a_shard_holds_what_was_written(tmp_path: Path) -> None:
    records = [_record("D1", "Aspirin induced asthma."), _record("D2", "Statins lower LDL.")]
    path = write_shard(tmp_path / "shards", records, "fp1")
    shard = read_shard(path)
    assert shard.fingerprint == "fp1"
    assert [r.document for r in shard.records] == [r.document for r in records]
    assert [r.graphs for r in shard.records] == [r.graphs for r in records]
    np.testing.assert_array_equal(shard.records[1].vectors, records[1].vectors)
    assert not list((tmp_path / "shards").glob("*.tmp"))  # written under a temporary name, then renamed


def test_a_retried_batch_writes_the_same_shard(tmp_path: Path) -> None:
    a = write_shard(tmp_path, [_record("D1", "one"), _record("D2", "two")], "fp")
    b = write_shard(tmp_path, [_record("D1", "one"), _record("D2", "two")], "fp")
    c = write_shard(tmp_path, [_record("D1", "one, changed"), _record("D2", "two")], "fp")
    assert a == b != c
    assert len(list(tmp_path.iterdir())) == 2
    assert shard_name([("D1", "k")]) != shard_name([("D1", "k2")])


def test_a_damaged_shard_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "batch-x.shard"
    bad.write_bytes(b"not a shard")
    with pytest.raises(GraphCorruptError, match="batch-x.shard"):
        read_shard(bad)


def test_leftovers_give_back_exactly_the_wanted_content(tmp_path: Path, caplog) -> None:
    shards = tmp_path / "shards"
    old = _record("D1", "first version")
    write_shard(shards, [old, _record("D2", "two")], "fp")
    write_shard(shards, [_record("D3", "three")], "another fingerprint")
    (shards / "batch-broken.shard").write_bytes(b"\x00garbage")
    (shards / ".batch-half.shard.123.tmp").write_bytes(b"half")
    with caplog.at_level(logging.WARNING):
        left = Leftovers(shards, "fp")
    assert "batch-broken.shard" in caplog.text
    assert len(left) == 2  # D1 and D2; D3 was made under another fingerprint
    assert left.take("D1", Document("D1", "second version").content_key) is None  # a newer text: extract again
    got = left.take("D1", old.document.content_key)
    assert got is not None and got.document == old.document
    assert left.take("D1", old.document.content_key) is None  # once
    assert left.take("D3", Document("D3", "three").content_key) is None
    assert not list(shards.glob(".*.tmp"))  # half-written files are dropped at once
    left.clear()
    assert not shards.exists()


def test_no_shard_directory_means_no_leftovers(tmp_path: Path) -> None:
    left = Leftovers(tmp_path / "none", "fp")
    assert len(left) == 0 and left.take("D1", "k") is None
    left.clear()


def test_the_engine_table() -> None:
    assert set(ENGINES) == {"local", "ray"}
    assert open_engine("local").name == "local"
    with pytest.raises(EngineError, match="unknown extraction engine 'spark'.*local, ray"):
        open_engine("spark")
    with pytest.raises(EngineError, match="--address is for the ray engine"):
        open_engine("local", address="10.0.0.1:6379")


def test_without_ray_the_engine_says_how_to_install_it() -> None:
    code = ("import sys; sys.modules['ray'] = None\n"
            "from medkg.pipelines.engines import open_engine, EngineError\n"
            "try:\n    open_engine('ray')\nexcept EngineError as e:\n    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "ERR the ray engine needs Ray" in out.stdout and "medkg[distributed]" in out.stdout, out.stderr


def test_the_local_default_never_imports_ray() -> None:
    code = ("import sys\nfrom medkg.pipelines.build import build_graph\n"
            "from medkg.pipelines.engines import open_engine\nopen_engine('local')\nprint('ray' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="checks a closed port of 127.0.0.1")
def test_an_unreachable_cluster_fails_fast() -> None:
    pytest.importorskip("ray")
    from medkg.pipelines.engines.ray_engine import RayEngine

    job = ExtractionJob(Path("lexicon.pkl"), "e", Path("e"), 16, "fp", Path("shards"), 1)
    with pytest.raises(EngineError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:9"):
        next(RayEngine("127.0.0.1:9").run(iter([[Document("D1", "text")]]), job))
    with pytest.raises(EngineError, match="expected HOST:PORT"):
        next(RayEngine("headnode:http").run(iter([[Document("D1", "t")]]), job))


def test_a_worker_that_cannot_start_is_reported_by_its_own_error() -> None:
    pytest.importorskip("ray")
    from medkg.pipelines.engines.ray_engine import _raised

    text = ("The actor died because of an error raised in its creation task, \x1b[36mray::ExtractionWorker.__init__()"
            "\x1b[39m (pid=1, ip=127.0.0.1)\n  File \"lexicon.py\", line 323, in cached_lexicon\n"
            "    raise GraphCorruptError(f\"{path}: the lexicon is missing\") from e\n"
            "medkg.errors.GraphCorruptError: /g/lexicon.pkl: the lexicon is missing (No such file or directory)")
    assert _raised(text) == "/g/lexicon.pkl: the lexicon is missing (No such file or directory)"
    assert _raised("\x1b[31mno traceback here\x1b[0m") == "no traceback here"
