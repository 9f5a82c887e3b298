"""Clinical reports: plain-text notes (one per file) and CSV exports (one per row)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_REPORT, Document, content_id
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
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    fields = list(reader.fieldnames or [])
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
