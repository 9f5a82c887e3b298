"""Document readers: JSONL, PubTator, PubMed XML, PubMedQA JSON, plain-text and CSV reports.

Each reader yields :class:`~medkg.pipelines.records.Document` records and
raises :class:`~medkg.errors.InputError` naming the file (and line) when the
input is unreadable: missing, not UTF-8, malformed or empty. ``read_documents``
picks the reader from the file suffix and walks directories.

Document ids are stable across runs: the source id when there is one
(``PMID:123``), else ``<kind>:<file stem>`` for one-document files, so that a
changed report replaces its old version instead of adding a second one.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.pipelines.records import TIER_LITERATURE, TIER_REPORT, Document, Section, content_id

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ".md"}
SUPPORTED = ".jsonl, .pubtator, .xml/.xml.gz (PubMed), .json (PubMedQA), .csv or .txt"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise InputError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a directory, expected a file") from e
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not valid UTF-8 (byte {e.start}: {e.reason}); convert it, e.g. iconv -f latin1 -t utf-8"
        ) from e
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from e


def read_jsonl(path: Path, tier: int | None = None) -> Iterator[Document]:
    """One JSON object per line with at least ``id`` and ``text``."""
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
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


def read_pubtator(path: Path, tier: int | None = None) -> Iterator[Document]:
    """PubTator: ``PMID|t|title`` and ``PMID|a|abstract`` lines; annotations are skipped here.

    The document text is ``title + " " + abstract``, the convention PubTator's
    own offsets use, so gold spans of a PubTator file index our text directly.
    """
    title: dict[str, str] = {}
    order: list[str] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        if "|t|" in line[:20]:
            pmid, _, t = line.split("|", 2)
            title[pmid] = t
            order.append(pmid)
        elif "|a|" in line[:20]:
            pmid, _, a = line.split("|", 2)
            if pmid not in title:
                raise InputError(f"{path}:{lineno}: abstract line for PMID {pmid} without a title line before it")
            t = title.pop(pmid)
            text = f"{t} {a}"
            if not text.strip():
                raise InputError(f"{path}:{lineno}: PMID {pmid} has an empty title and abstract")
            sections = (Section("TITLE", 0, len(t)), Section("ABSTRACT", len(t) + 1, len(text)))
            yield Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract",
                           title=t, source=path.name, pmid=pmid, sections=sections)
    if not order:
        raise InputError(f"{path}: no 'PMID|t|title' lines found; is this a PubTator file?")


def read_report(path: Path, tier: int | None = None) -> Iterator[Document]:
    """A plain-text clinical report or note: one document per file."""
    text = _read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the document is empty")
    yield Document(id=f"report:{path.stem}", text=text, tier=tier or TIER_REPORT, kind="report",
                   title=path.stem, source=path.name)


CSV_TEXT_COLUMNS = ("text", "transcription", "report", "note", "note_text", "body")
CSV_ID_COLUMNS = ("id", "document_id", "report_id", "note_id")
CSV_TITLE_COLUMNS = ("title", "sample_name", "description")


def _pick(fields: list[str], names: tuple[str, ...]) -> str | None:
    lower = {f.strip().lower(): f for f in fields}
    return next((lower[n] for n in names if n in lower), None)


def read_csv_reports(path: Path, tier: int | None = None) -> Iterator[Document]:
    """Reports as CSV rows, one per document (MTSamples-style exports and the like).

    The text is the first column named one of ``text``, ``transcription``,
    ``report``, ``note``, ``note_text``, ``body``; the id the first of ``id``,
    ``document_id``, ``report_id``, ``note_id``, else an unnamed first column (a
    spreadsheet's or pandas' row index), else a hash of the text (so inserting a
    row never renames the others), prefixed with the file's stem so ids from
    different files never collide. Rows with an empty text are skipped with a
    warning naming the row.
    """
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    fields = reader.fieldnames or []
    text_col, id_col = _pick(fields, CSV_TEXT_COLUMNS), _pick(fields, CSV_ID_COLUMNS)
    if id_col is None and fields and not fields[0].strip():
        id_col = fields[0]
    title_col = _pick(fields, CSV_TITLE_COLUMNS)
    if text_col is None:
        raise InputError(f"{path}: no text column; name one of {', '.join(CSV_TEXT_COLUMNS)} (found: "
                         f"{', '.join(fields) or 'nothing'})")
    n = 0
    try:
        for rowno, row in enumerate(reader, start=2):
            text = row.get(text_col) or ""
            if not text.strip():
                log.warning("%s: row %d has an empty %s; skipped", path, rowno - 1, text_col)
                continue
            key = (row.get(id_col) or "").strip() if id_col else ""
            n += 1
            key = key or content_id(text, "row")
            yield Document(id=f"report:{path.stem}:{key}", text=text, tier=tier or TIER_REPORT,
                           kind="report", title=(row.get(title_col) or "").strip() if title_col else "",
                           source=path.name)
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV ({e})") from e
    if n == 0:
        raise InputError(f"{path}: no row has any text in column {text_col!r}")


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
        from medkg.pipelines.pubmed_xml import read_pubmed_xml

        return read_pubmed_xml
    if name.endswith(".csv"):
        return read_csv_reports
    if name.endswith(".json"):
        return read_pubmedqa
    return None


def read_pubmedqa(path: Path, tier: int | None = None) -> Iterator[Document]:
    """PubMedQA JSON (``{pmid: {QUESTION, CONTEXTS, LABELS, ...}}``): one abstract per record.

    The text joins the labelled contexts with blank lines; each label becomes a
    section. PubMedQA keeps no paper titles, so ``title`` holds the question.
    """
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: malformed JSON ({e.msg} at line {e.lineno})") from e
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a JSON object of PubMedQA records keyed by PMID")
    for pmid, rec in data.items():
        contexts = rec.get("CONTEXTS") if isinstance(rec, dict) else None
        if not contexts:
            raise InputError(f"{path}: record {pmid} has no CONTEXTS")
        labels = rec.get("LABELS") or [""] * len(contexts)
        text, sections = "", []
        for label, ctx in zip(labels, contexts):
            if text:
                text += "\n\n"
            sections.append(Section(str(label), len(text), len(text) + len(ctx)))
            text += ctx
        yield Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract",
                       title=str(rec.get("QUESTION", "")), source=path.name, date=str(rec.get("YEAR", "")),
                       pmid=str(pmid), sections=tuple(sections))
