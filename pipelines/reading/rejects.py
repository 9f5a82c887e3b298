"""Rejected inputs: what a reader reports in place of a record (or a file) it cannot read.

Readers yield a :class:`Reject` where a record is bad (a JSONL line, a
PubMedQA record, a CSV row, a PubTator document, a PubMed article) and go on
with the next; :func:`~medkg.pipelines.reading.read_documents` either stops at
the first one (raising it as an :class:`~medkg.errors.InputError`, the
default) or collects them, which is how a batch build (``medkg build``)
builds the good documents of a directory and reports the bad ones in
``<graph>/rejects.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import InputError
from medkg.kg.records import Document


@dataclass(frozen=True)
class Reject:
    """A record or file that was not read: the file, where in it (line, record) and why."""

    file: str
    reason: str
    line: int | None = None  # 1-based line of the file (JSONL, PubTator, CSV, XML) where the bad record is
    record: str | None = None  # the record's key where the format has one (a PMID, "row 3", "article 2")
    cause: BaseException | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        record = f"record {self.record}: " if self.record else ""
        return f"{where}: {record}{self.reason}"

    def to_json(self) -> dict[str, Any]:
        """The line written to ``rejects.jsonl``."""
        return {"file": self.file, "line": self.line, "record": self.record, "reason": self.reason}

    def error(self) -> InputError:
        """This reject as the error a strict reader raises (its cause attached)."""
        err = InputError(str(self))
        err.__cause__ = self.cause
        return err

    @classmethod
    def from_error(cls, path: Path, error: Exception) -> Reject:
        """A whole file rejected by a reader's error (whose message starts with the path)."""
        reason = str(error)
        for prefix in (f"{path}: ", f"{path}:"):
            if reason.startswith(prefix):
                reason = reason[len(prefix):]
                break
        return cls(str(path), reason, cause=error)


Item = Document | Reject


def strict(items: Iterable[Item]) -> Iterator[Document]:
    """The documents of a reader's items; the first reject is raised as an ``InputError``."""
    for item in items:
        if isinstance(item, Reject):
            raise item.error()
        yield item
