"""Clinical reports: plain-text notes (one per file) and CSV exports (one per row)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_REPORT, Document, Section, content_id
from medkg.pipelines.reading import fields
from medkg.pipelines.reading.fields import FieldError
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.reading.rejects import Item, Reject, strict

log = logging.getLogger(__name__)


def read_report(path: Path, tier: int | None = None) -> Iterator[Document]:
    """A plain-text clinical report or note: one document per file."""
    return strict(report_items(path, tier))


def report_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """A plain-text report as a document (the file is rejected as a whole when it is empty or too long)."""
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the document is empty")
    try:
        fields.check_length(text, "the document")
    except FieldError as e:
        raise InputError(f"{path}: {e}") from e
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
    warning naming the row; a row with more fields than the header (a comma in
    an unquoted text) or a text over the length limit is rejected.
    """
    return strict(csv_report_items(path, tier))


def csv_report_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """The rows of a CSV export as documents, a :class:`Reject` for each bad row."""
    raw = read_text(path)
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    csv.field_size_limit(max(csv.field_size_limit(), fields.MAX_DOCUMENT_CHARS + 1))  # the length check says why
    reader = csv.DictReader(io.StringIO(raw, newline=""), restkey=_EXTRA)
    fieldnames = list(reader.fieldnames or [])
    text_col, id_col = _pick(fieldnames, CSV_TEXT_COLUMNS), _pick(fieldnames, CSV_ID_COLUMNS)
    if id_col is None and fieldnames and not fieldnames[0].strip():
        id_col = fieldnames[0]
    title_col = _pick(fieldnames, CSV_TITLE_COLUMNS)
    section_cols = [f for name in CSV_SECTION_COLUMNS for f in fieldnames if f.strip().lower() == name]
    if text_col is None and not section_cols:
        raise InputError(f"{path}: no text column; name one of {', '.join(CSV_TEXT_COLUMNS)}, or give sections "
                         f"as columns ({', '.join(CSV_SECTION_COLUMNS)}) (found: "
                         f"{', '.join(fieldnames) or 'nothing'})")
    n = bad = 0
    # an odd number of quotes: the last row opens a quoted field that never closes (a file cut short)
    cut_at = raw.count("\n") + (not raw.endswith("\n")) if raw.count('"') % 2 else 0
    try:
        for rowno, row in enumerate(reader, start=1):
            if cut_at and reader.line_num >= cut_at:
                bad += 1
                yield Reject(str(path), "the row ends inside a quoted field (a truncated file, or a quote not "
                             "closed)", line=reader.line_num, record=f"row {rowno}")
                continue
            if _EXTRA in row:
                bad += 1
                yield Reject(str(path), f"the row has {len(fieldnames) + len(row[_EXTRA])} fields, the header "
                             f"{len(fieldnames)} (a comma in an unquoted text?)", line=reader.line_num,
                             record=f"row {rowno}")
                continue
            text, sections = (row.get(text_col) or "", ()) if text_col else _from_sections(row, section_cols)
            if not text.strip():
                log.warning("%s: row %d has an empty %s; skipped", path, rowno, text_col or "report")
                continue
            try:
                fields.check_length(text)
            except FieldError as e:
                bad += 1
                yield Reject(str(path), str(e), line=reader.line_num, record=f"row {rowno}", cause=e)
                continue
            key = (row.get(id_col) or "").strip() if id_col else ""
            n += 1
            key = key or content_id(text, "row")
            yield Document(id=f"report:{path.stem}:{key}", text=text, tier=tier or TIER_REPORT,
                           kind="report", title=(row.get(title_col) or "").strip() if title_col else "",
                           source=path.name, sections=sections)
    except csv.Error as e:
        yield Reject(str(path), f"malformed CSV ({e})", line=reader.line_num, cause=e)
        return
    if n == 0 and not bad:
        raise InputError(f"{path}: no row has any text in column {text_col or ', '.join(section_cols)!r}")


_EXTRA = "\x00extra"  # DictReader's key for a row's fields beyond the header's


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
