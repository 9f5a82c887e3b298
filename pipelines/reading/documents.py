"""Document readers: JSONL, PubTator, PubMed XML, PubMedQA JSON, plain-text and CSV reports.

Each reader yields :class:`~medkg.kg.records.Document` records and
raises :class:`~medkg.errors.InputError` naming the file (and line) when the
input is unreadable: missing, not UTF-8, malformed or empty. Under each
``read_*`` is an ``*_items`` generator that yields a
:class:`~medkg.pipelines.reading.rejects.Reject` for a bad record and goes on;
``read_documents`` picks the reader from the file suffix, walks directories,
and either stops at the first bad input or collects the rejects.

Document ids are stable across runs: the source id when there is one
(``PMID:123``), else ``<kind>:<file stem>`` for one-document files, so that a
changed report replaces its old version instead of adding a second one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document
from medkg.pipelines.reading import fields
from medkg.pipelines.reading.fields import FieldError
from medkg.pipelines.reading.files import missing, read_text
from medkg.pipelines.reading.pubmed_xml import pubmed_xml_items
from medkg.pipelines.reading.pubmedqa import pubmedqa_items
from medkg.pipelines.reading.pubtator import pubtator_items
from medkg.pipelines.reading.rejects import Deletion, Item, Reject, strict
from medkg.pipelines.reading.reports import csv_report_items, report_items

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ".md"}
SUPPORTED = ".jsonl, .pubtator, .xml/.xml.gz (PubMed), .json (PubMedQA), .csv or .txt"


def read_jsonl(path: Path, tier: int | None = None) -> Iterator[Document]:
    """One JSON object per line with at least ``id`` and ``text`` (fields checked as :mod:`.fields` says)."""
    return strict(jsonl_items(path, tier))


def jsonl_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """The documents of a JSONL file, and a :class:`Reject` for each line that is not a valid record."""
    n = 0
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):  # not splitlines: JSON may hold U+2028
        if not line.strip():
            continue
        n += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield Reject(str(path), f"malformed JSON ({e.msg} at column {e.colno})", line=lineno, cause=e)
            continue
        except RecursionError as e:
            yield Reject(str(path), "malformed JSON (nested too deeply)", line=lineno, cause=e)
            continue
        try:
            yield _jsonl_document(obj, path, tier)
        except FieldError as e:
            key = obj.get("id") if isinstance(obj, dict) else None
            record = str(key) if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key) else None
            yield Reject(str(path), str(e), line=lineno, record=record, cause=e)
    if n == 0:
        raise InputError(f"{path}: the file is empty (no JSON lines)")


def _jsonl_document(obj: Any, path: Path, tier: int | None) -> Document:
    if not isinstance(obj, dict):
        raise FieldError(f"expected a JSON object with 'id' and 'text', not {fields.show(obj)}")
    text = fields.text(obj.get("text"))
    own_tier = fields.tier(obj.get("tier"))
    return Document(
        id=fields.string(obj.get("id"), "id", required=True, allow_int=True), text=text,
        tier=tier or own_tier or TIER_LITERATURE,
        kind=fields.string(obj.get("kind"), "kind", default="abstract") or "abstract",
        title=fields.string(obj.get("title"), "title"),
        source=fields.string(obj.get("source"), "source", default=path.name),
        date=fields.string(obj.get("date"), "date", allow_int=True),
        pmid=fields.string(obj.get("pmid"), "pmid", allow_int=True),
        sections=fields.sections(obj.get("sections"), len(text)),
    )


def read_documents(paths: list[Path], tier: int | None = None, rejects: list[Reject] | None = None,
                   deletions: list[Deletion] | None = None) -> Iterator[Document]:
    """Read every supported file under ``paths`` in a stable (sorted) order.

    By default the first bad input stops the reading with an :class:`~medkg.errors.InputError`. Given a
    ``rejects`` list, a bad record or file is appended to it instead (a :class:`Reject`: file, line or record,
    reason) and reading goes on with the next; the documents of a file read before an error in it (a truncated
    XML or CSV file) are kept.

    Given a ``deletions`` list, the documents the inputs withdraw (the ``DeleteCitation`` PMIDs of PubMed update
    files; no other format has any) are appended to it as :class:`Deletion` records, each before the next
    document is yielded, so a consumer that looks at the list between documents sees them in file order.
    Without one they are left out (and counted in the log).
    """
    for f in _input_files(paths, rejects):
        n = withdrawn = 0
        try:
            for item in _reader_for(f)(f, tier):  # type: ignore[misc]  # _input_files yields readable names only
                if isinstance(item, Document):
                    n += 1
                    yield item
                elif isinstance(item, Deletion):
                    withdrawn += 1
                    if deletions is not None:
                        deletions.append(item)
                elif rejects is None:
                    raise item.error()
                else:
                    _reject(rejects, item)
        except InputError as e:
            if rejects is None:
                raise
            _reject(rejects, Reject.from_error(f, e))
        except OSError as e:  # a read that failed half-way (a file removed or a disk gone under it)
            if rejects is None:
                raise InputError(f"{f}: cannot read ({e.strerror or e})") from e
            _reject(rejects, Reject(str(f), f"cannot read ({e.strerror or e})", cause=e))
        log.info("read %d documents from %s", n, f)
        if withdrawn:
            log.log(logging.INFO if deletions is not None else logging.DEBUG, "%s lists %d deleted documents%s", f,
                    withdrawn, "" if deletions is not None else " (this reading leaves them out)")


def split_inputs(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(the PubMed XML files, the other files) among the inputs, each in the order :func:`read_documents` reads
    them; unreadable inputs are left out here (the reading itself reports them)."""
    pubmed: list[Path] = []
    other: list[Path] = []
    for f in _input_files(paths, []):
        (pubmed if _reader_for(f) is pubmed_xml_items else other).append(f)
    return pubmed, other


def _reject(rejects: list[Reject], reject: Reject) -> None:
    log.info("rejected %s", reject)
    rejects.append(replace(reject, cause=None))  # a cause's traceback would keep the reader's frames alive


def _input_files(paths: list[Path], rejects: list[Reject] | None) -> Iterator[Path]:
    """The files to read: given files as they are, directories walked (sorted); problems raised or rejected."""
    for p in paths:
        problem, files = None, [p]
        if p.is_dir():
            # a symbolic link that leads nowhere (broken, or a loop) is listed so that it is reported
            files = sorted(f for f in p.rglob("*") if _reader_for(f) is not None and (f.is_file() or f.is_symlink()
                                                                                       and not f.exists()))
            if not files:
                problem = f"{p}: no readable documents ({SUPPORTED}) in this directory"
        elif (why := missing(p)) is not None:
            problem = f"{p}: {why}"
        elif _reader_for(p) is None:
            problem = f"{p}: unsupported file type {p.suffix!r} (use {SUPPORTED})"
        if problem is None:
            yield from files
        elif rejects is None:
            raise InputError(problem)
        else:
            _reject(rejects, Reject.from_error(p, InputError(problem)))


def _reader_for(path: Path) -> Callable[[Path, int | None], Iterator[Item]] | None:
    name = path.name.lower()
    if name.endswith(".jsonl"):
        return jsonl_items
    if name.endswith((".pubtator", ".pubtator.txt")) or "pubtator" in name:
        return pubtator_items
    if path.suffix.lower() in TEXT_SUFFIXES:
        return report_items
    if name.endswith((".xml", ".xml.gz")):
        return pubmed_xml_items
    if name.endswith(".csv"):
        return csv_report_items
    if name.endswith(".json"):
        return pubmedqa_items
    return None
