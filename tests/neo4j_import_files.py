"""Reading ``neo4j-admin database import`` files back as the importer would (the tests' stand-in for it).

Shared by tests/unit/test_neo4j_import.py and tests/integration/test_neo4j_import_bolt.py. It follows the
importer's documented rules: the header names ``name:type`` fields, ``:ID(space)``, ``:START_ID(space)``,
``:END_ID(space)``, ``:LABEL`` and ``:TYPE``; RFC 4180 quoting; an empty field leaves the property unset;
``boolean`` is true exactly for ``true``; arrays are split on the array delimiter.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medkg.kg.neo4j_import import ARRAY_DELIMITER, FileSet

_FIELD = re.compile(r"^(?P<name>[^:]*):(?P<kind>[A-Za-z_]+(?:\[\])?)(?:\((?P<space>[^)]*)\))?$")


@dataclass(frozen=True)
class Field:
    name: str  # the property key ("" for :LABEL, :TYPE, :START_ID, :END_ID)
    kind: str  # ID, START_ID, END_ID, LABEL, TYPE or a property type (long, double, boolean, string, string[])
    space: str | None  # the ID space of ID, START_ID, END_ID


def parse_header(path: Path) -> list[Field]:
    with open(path, encoding="utf-8", newline="") as f:
        names = next(csv.reader(f))
    fields = []
    for text in names:
        m = _FIELD.match(text)
        if m is None:
            fields.append(Field(text, "string", None))  # no type: a string property
        else:
            fields.append(Field(m["name"], m["kind"], m["space"]))
    return fields


def typed(kind: str, text: str) -> Any:
    """One cell as the importer reads it (``None``: the property is not set)."""
    if text == "":
        return None
    if kind.endswith("[]"):
        return [typed(kind[:-2], t) for t in text.split(ARRAY_DELIMITER)]
    if kind in ("long", "int"):
        return int(text)
    if kind in ("double", "float"):
        return float(text)
    if kind == "boolean":
        return text == "true"
    return text


def raw_rows(fs: FileSet) -> Iterator[list[str]]:
    for path in fs.data:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            yield from csv.reader(f)


def records(fs: FileSet) -> Iterator[dict[str, Any]]:
    """Each row as ``{"id" or "src"/"dst", "label" or "type", "props": {...}}``, typed by the header."""
    fields = parse_header(fs.header)
    for row in raw_rows(fs):
        assert len(row) == len(fields), f"{fs.table}: {len(row)} cells under {len(fields)} header fields: {row}"
        out: dict[str, Any] = {"props": {}}
        for f, text in zip(fields, row):
            if f.kind == "ID":
                out["id"] = text
                if f.name:
                    out["props"][f.name] = text
            elif f.kind == "START_ID":
                out["src"] = text
            elif f.kind == "END_ID":
                out["dst"] = text
            elif f.kind in ("LABEL", "TYPE"):
                out[f.kind.lower()] = text
            else:
                value = typed(f.kind, text)
                if value is not None:
                    out["props"][f.name] = value
        yield out


def id_spaces(fs: FileSet) -> dict[str, str]:
    """``{"ID": space}`` of a node file set, ``{"START_ID": ..., "END_ID": ...}`` of a relationship one."""
    return {f.kind: f.space or "" for f in parse_header(fs.header) if f.kind in ("ID", "START_ID", "END_ID")}
