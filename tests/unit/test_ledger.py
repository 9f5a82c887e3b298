"""The build ledger (real SQLite): replace by id, all-or-nothing batches, state digests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.records import Document
from medkg.pipelines.extractor import Extractor


def _record(extractor: Extractor, doc_id: str, text: str) -> LedgerRecord:
    doc = Document(id=doc_id, text=text, tier=1, kind="report")
    graphs = extractor.extract(doc)
    return LedgerRecord(doc, graphs, np.arange(len(graphs) * 4, dtype=np.float32).reshape(-1, 4))


def test_records_round_trip_and_a_changed_text_replaces_its_row(tmp_path: Path, tiny_lexicon_path: Path) -> None:
    ex = Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"}))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.put([_record(ex, "a", "Pneumonia and anaemia."), _record(ex, "b", "No chest pain.")], "f1")
        before = ledger.state()
        (a,) = ledger.records(["a"])
        assert a.document.text == "Pneumonia and anaemia."
        assert {e.name for g in a.graphs for e in g.entities} == {"Pneumonia", "Anemia"}
        assert a.vectors.shape == (len(a.graphs), 4) and a.vectors.dtype == np.float32
        ledger.put([_record(ex, "a", "Type 2 diabetes.")], "f1")
        assert len(ledger) == 2 and ledger.state() != before
        (a,) = ledger.records(["a"])
        assert a.document.text == "Type 2 diabetes."
        assert ledger.known()["a"] == (a.document.content_key, "f1")
        assert ledger.delete(["a", "zzz"]) == 1 and list(ledger.known()) == ["b"]


def test_a_failed_batch_writes_nothing(tmp_path: Path, tiny_lexicon_path: Path) -> None:
    ex = Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"}))
    bad = _record(ex, "bad", "Pneumonia.")
    bad.vectors = None  # type: ignore[assignment]  # fails while the batch is being written
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.put([_record(ex, "ok", "Anaemia.")], "f1")
        with pytest.raises(AttributeError):
            ledger.put([_record(ex, "second", "Pneumonia."), bad], "f1")
        assert list(ledger.known()) == ["ok"]


def test_a_damaged_ledger_is_a_clear_error(tmp_path: Path) -> None:
    from medkg.errors import GraphCorruptError

    p = tmp_path / "l.sqlite"
    p.write_bytes(b"this is not a database" * 200)
    with pytest.raises(GraphCorruptError, match="build ledger is damaged"):
        Ledger(p)
