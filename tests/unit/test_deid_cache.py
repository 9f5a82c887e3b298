"""The cache of de-identified reports: keyed by an HMAC of the original, one entry a document id."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from medkg.kg.records import TIER_REPORT, Document, Section
from medkg.pipelines.deid import DeidReport
from medkg.pipelines.deid.cache import DeidCache, forget

ORIGINAL = Document(id="report:n1", text="Seen by Dr. Kowalczyk on 03/14/2019. FINDINGS: effusion.", tier=TIER_REPORT,
                    kind="report", title="n1", sections=(Section("FINDINGS", 37, 56),))
CLEAN = replace(ORIGINAL, text="Seen by Dr. [NAME] on 04/02/2019. FINDINGS: effusion.",
                sections=(Section("FINDINGS", 34, 53),))
REPORT = DeidReport("report:n1", {"DATE": 1, "NAME": 1})


def test_a_stored_deidentification_comes_back_whole_and_the_original_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = DeidCache(path, b"key", "mesh-2024")
    assert cache.get(ORIGINAL) is None
    cache.put(ORIGINAL, CLEAN, REPORT)
    cache.close()
    again = DeidCache(path, b"key", "mesh-2024")
    assert again.get(ORIGINAL) == (CLEAN, REPORT) and again.hits == 1
    again.close()
    assert b"Kowalczyk" not in path.read_bytes() and b"03/14/2019" not in path.read_bytes()


def test_anything_the_result_depends_on_misses(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = DeidCache(path, b"key", "mesh-2024")
    cache.put(ORIGINAL, CLEAN, REPORT)
    assert cache.get(replace(ORIGINAL, text=ORIGINAL.text.replace("effusion", "edema"))) is None
    assert cache.get(replace(ORIGINAL, title="another")) is None
    assert cache.get(replace(ORIGINAL, source="/elsewhere/n1.txt")) is None
    assert DeidCache(path, b"other key", "mesh-2024").get(ORIGINAL) is None
    assert DeidCache(path, b"key", "mesh-2025").get(ORIGINAL) is None
    cache.close()


def test_one_entry_a_document_and_deleted_documents_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = DeidCache(path, b"key")
    edited = replace(ORIGINAL, text=ORIGINAL.text + " Stable.")
    cache.put(ORIGINAL, CLEAN, REPORT)
    cache.put(edited, replace(CLEAN, text=CLEAN.text + " Stable."), REPORT)
    other = replace(ORIGINAL, id="report:n2")
    cache.put(other, replace(CLEAN, id="report:n2"), REPORT)
    assert cache.get(ORIGINAL) is None and cache.get(edited) is not None  # the older entry of n1 is gone
    cache.close()
    forget(path, {"report:n1"})
    reopened = DeidCache(path, b"key")
    assert reopened.get(edited) is None and reopened.get(other) is not None
    reopened.close()
    forget(tmp_path / "none.sqlite", {"report:n1"})  # no cache: nothing to do
    assert not (tmp_path / "none.sqlite").exists()
