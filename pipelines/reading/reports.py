"""Clinical reports: plain-text notes (one per file) and CSV exports (one per row)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_REPORT, Document, Section, content_id
from medkg.pipelines.reading.files import read_text

log = logging.getLogger(__name__)


def read_report(path: Path, tier: int | None = None) -> Iterator[Document]:
    """A plain-text clinical report or note: one document per file."""
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the document is empty")
    yield Document(id=f"report:{path.stem}", text=text, tier=tier or TIER_REPORT, kind="report",
                   title=path.stem, source=path.name)


CSV_TEXT_COLUMNS = ("text", "transcription", "report", "note", "note_text", "body")
CSV_ID_COLUMNS = ("id", "document_id", "report_id", "note_id", "uid")
# A report exported one section per column (the IU chest X-ray collection: indication, comparison, findings,
# impression): without a text column, these become the text, each under its heading, in this order.
CSV_SECTION_COLUMNS = ("history", "clinical history", "indication", "reason for exam", "technique", "comparison",
                       "findings", "impression", "assessment", "conclusion", "recommendation", "recommendations")
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
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    fields = list(reader.fieldnames or [])
    text_col, id_col = _pick(fields, CSV_TEXT_COLUMNS), _pick(fields, CSV_ID_COLUMNS)
    if id_col is None and fields and not fields[0].strip():
        id_col = fields[0]
    title_col = _pick(fields, CSV_TITLE_COLUMNS)
    section_cols = [f for name in CSV_SECTION_COLUMNS for f in fields if f.strip().lower() == name]
    if text_col is None and not section_cols:
        raise InputError(f"{path}: no text column; name one of {', '.join(CSV_TEXT_COLUMNS)}, or give sections "
                         f"as columns ({', '.join(CSV_SECTION_COLUMNS)}) (found: "
                         f"{', '.join(fields) or 'nothing'})")
    n = 0
    try:
        for rowno, row in enumerate(reader, start=2):
            text, sections = (row.get(text_col) or "", ()) if text_col else _from_sections(row, section_cols)
            if not text.strip():
                log.warning("%s: row %d has an empty %s; skipped", path, rowno - 1, text_col or "report")
                continue
            key = (row.get(id_col) or "").strip() if id_col else ""
            n += 1
            key = key or content_id(text, "row")
            yield Document(id=f"report:{path.stem}:{key}", text=text, tier=tier or TIER_REPORT,
                           kind="report", title=(row.get(title_col) or "").strip() if title_col else "",
                           source=path.name, sections=sections)
    except csv.Error as e:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV ({e})") from e
    if n == 0:
        raise InputError(f"{path}: no row has any text in column {text_col or ', '.join(section_cols)!r}")


def _from_sections(row: dict[str, str], columns: list[str]) -> tuple[str, tuple[Section, ...]]:
    """``HEADING: text`` paragraphs from section columns, with each section's span (heading included).

    Empty sections and the export's own placeholders ("None", "None available")
    are left out; the section label is the column name in capitals, as
    radiology reports write their headings.
    """
    parts: list[str] = []
    sections: list[Section] = []
    pos = 0
    for col in columns:
        body = " ".join((row.get(col) or "").split())
        if not body or body.lower() in ("none", "none.", "none available", "none available.", "n/a"):
            continue
        label = col.strip().upper()
        piece = f"{label}: {body}"
        sections.append(Section(label, pos, pos + len(piece)))
        parts.append(piece)
        pos += len(piece) + 2
    return "\n\n".join(parts), tuple(sections)
