"""Document readers: JSONL, PubTator, PubMed XML, PubMedQA JSON, plain-text and CSV reports.

Each reader yields :class:`~medkg.kg.records.Document` records and
raises :class:`~medkg.errors.InputError` naming the file (and line) when the
input is unreadable: missing, not UTF-8, malformed or empty. ``read_documents``
picks the reader from the file suffix and walks directories.

Document ids are stable across runs: the source id when there is one
(``PMID:123``), else ``<kind>:<file stem>`` for one-document files, so that a
changed report replaces its old version instead of adding a second one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.reading.pubmed_xml import read_pubmed_xml
from medkg.pipelines.reading.pubmedqa import read_pubmedqa
from medkg.pipelines.reading.pubtator import read_pubtator
from medkg.pipelines.reading.reports import read_csv_reports, read_report

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ".md"}
SUPPORTED = ".jsonl, .pubtator, .xml/.xml.gz (PubMed), .json (PubMedQA), .csv or .txt"


def read_jsonl(path: Path, tier: int | None = None) -> Iterator[Document]:
    """One JSON object per line with at least ``id`` and ``text``."""
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from e
        if not isinstance(obj, dict) or not str(obj.get("text", "")).strip() or not obj.get("id"):
            raise InputError(f"{path}:{lineno}: each line needs a non-empty 'id' and 'text'")
        text = str(obj["text"])
        sections = tuple(
            Section(str(s["label"]), int(s["start"]), int(s["end"]))
            for s in obj.get("sections", [])
            if 0 <= int(s["start"]) < int(s["end"]) <= len(text)
        )
        yield Document(
            id=str(obj["id"]), text=text, tier=int(tier or obj.get("tier", TIER_LITERATURE)),
            kind=str(obj.get("kind", "abstract")), title=str(obj.get("title", "")),
            source=str(obj.get("source", path.name)), date=str(obj.get("date", "")),
            pmid=str(obj.get("pmid", "")), sections=sections,
        )


def read_documents(paths: list[Path], tier: int | None = None) -> Iterator[Document]:
    """Read every supported file under ``paths`` in a stable (sorted) order."""
    for p in paths:
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and _reader_for(f) is not None)
            if not files:
                raise InputError(f"{p}: no readable documents ({SUPPORTED}) in this directory")
        elif not p.exists():
            raise InputError(f"{p}: file not found")
        else:
            files = [p]
        for f in files:
            reader = _reader_for(f)
            if reader is None:
                raise InputError(f"{f}: unsupported file type {f.suffix!r} (use {SUPPORTED})")
            n = 0
            for doc in reader(f, tier):
                n += 1
                yield doc
            log.info("read %d documents from %s", n, f)


def _reader_for(path: Path):
    name = path.name.lower()
    if name.endswith(".jsonl"):
        return read_jsonl
    if name.endswith((".pubtator", ".pubtator.txt")) or "pubtator" in name:
        return read_pubtator
    if path.suffix.lower() in TEXT_SUFFIXES:
        return read_report
    if name.endswith((".xml", ".xml.gz")):
        return read_pubmed_xml
    if name.endswith(".csv"):
        return read_csv_reports
    if name.endswith(".json"):
        return read_pubmedqa
    return None


