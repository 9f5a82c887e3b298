"""Checks of the fields of an input record, each failing with a :class:`FieldError` that says what is wrong.

JSONL and PubMedQA records are JSON, so any field can hold any JSON value; a
reader takes a value only when it has the documented type and range, and
rejects the record otherwise (nothing is stored as a ``repr`` or quietly cut):

- ``id``: a non-empty string, or an integer; ``text``: a non-empty string of
  at most :data:`MAX_DOCUMENT_CHARS` characters;
- ``tier``: the integer 1 (reports) or 2 (literature);
- ``sections``: a list of ``{"label", "start", "end"}`` objects, offsets
  integers with ``0 <= start < end <= len(text)``;
- other text fields (``title``, ``kind``, ``source``, ``date``, ``pmid``):
  strings (``date`` and ``pmid`` may be integers); ``null`` is the same as
  leaving a field out.

No string may hold a NUL character or an unpaired surrogate (``"\\ud800"``):
the first is the mark of a binary file, the second cannot be stored as UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

from medkg.kg.records import Section

# The longest document text read (characters). The extractor reads a document as one spaCy Doc, whose memory
# grows with its length; a longer text (a book, a dump) must be split into parts, each its own document.
MAX_DOCUMENT_CHARS = 5_000_000
TIERS = {1: "reports", 2: "literature"}


class FieldError(ValueError):
    """A field of an input record has the wrong type or value (the message names the field)."""


def show(value: Any) -> str:
    """A JSON value as an error message shows it: its type and its start."""
    kind = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number",
            str: "a string", type(None): "null"}.get(type(value), type(value).__name__)
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return f"{kind} ({text[:40]}{'...' if len(text) > 40 else ''})" if value is not None else kind


def check_chars(value: str, name: str) -> str:
    """``value`` if it holds no NUL character and no unpaired surrogate."""
    nul = value.find("\x00")
    if nul >= 0:
        raise FieldError(f"{name!r} holds a NUL character at offset {nul} (binary data?)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FieldError(f"{name!r} holds an unpaired surrogate at offset {e.start}; it cannot be stored") from e
    return value


def string(value: Any, name: str, *, required: bool = False, allow_int: bool = False, default: str = "") -> str:
    """A text field: a string (or an integer, where ``allow_int``); ``None`` is ``default`` unless ``required``."""
    if value is None:
        if required:
            raise FieldError(f"{name!r} is missing")
        return default
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(f"{name!r} must be a string{' or an integer' if allow_int else ''}, not {show(value)}")
    if required and not value.strip():
        raise FieldError(f"{name!r} is empty")
    return check_chars(value, name)


def text(value: Any, name: str = "text") -> str:
    """A document's text: a non-empty string no longer than :data:`MAX_DOCUMENT_CHARS`."""
    value = string(value, name, required=True)
    check_length(value, f"{name!r}")
    return value


def check_length(value: str, what: str = "the text") -> str:
    """``value`` if it is no longer than :data:`MAX_DOCUMENT_CHARS`."""
    if len(value) > MAX_DOCUMENT_CHARS:
        raise FieldError(f"{what} is {len(value):,} characters long, over the limit of {MAX_DOCUMENT_CHARS:,}; "
                         "split the document into parts")
    return value


def tier(value: Any) -> int | None:
    """A record's ``tier``: 1 or 2 (``None`` when absent)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in TIERS:
        raise FieldError(f"'tier' must be 1 (reports) or 2 (literature), not {show(value)}")
    return value


def integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"{name!r} must be an integer, not {show(value)}")
    return value


def sections(value: Any, text_length: int) -> tuple[Section, ...]:
    """A record's ``sections``: ``[{"label": str, "start": int, "end": int}, ...]`` within the text."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError(f"'sections' must be a list of {{label, start, end}} objects, not {show(value)}")
    out = []
    for i, s in enumerate(value):
        name = f"sections[{i}]"
        if not isinstance(s, dict):
            raise FieldError(f"{name!r} must be an object {{label, start, end}}, not {show(s)}")
        label = string(s.get("label"), f"{name}.label", required=True)
        start, end = integer(s.get("start"), f"{name}.start"), integer(s.get("end"), f"{name}.end")
        if not 0 <= start < end <= text_length:
            raise FieldError(f"{name!r} spans {start}-{end}, not a non-empty span of the text (0-{text_length})")
        out.append(Section(label, start, end))
    return tuple(out)
