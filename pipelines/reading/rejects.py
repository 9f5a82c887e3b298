"""Rejected inputs: what a reader reports in place of a record (or a file) it cannot read.

Readers yield a :class:`Reject` where a record is bad (a JSONL line, a
PubMedQA record, a CSV row, a PubTator document, a PubMed article) and go on
with the next; :func:`~medkg.pipelines.reading.read_documents` either stops at
the first one (raising it as an :class:`~medkg.errors.InputError`, the
default) or collects them, which is how a batch build (``medkg build``)
builds the good documents of a directory and reports the bad ones in
``<graph>/rejects.jsonl``.

A reader may also yield a :class:`Deletion`: a document its source withdraws
(PubMed update files list the citations NLM deleted in ``DeleteCitation``).
Other formats never do; :func:`strict` and a plain ``read_documents`` leave
them out, and a build applies them (:mod:`medkg.pipelines.updates`).
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


@dataclass(frozen=True)
class Deletion:
    """A document withdrawn by its source: a PMID of a PubMed ``DeleteCitation``, in the file that lists it.

    ``version`` is the ``Version`` attribute of the PMID (1 for a citation that was never versioned): NLM may
    delete one version of a versioned citation and keep the others.
    """

    doc_id: str
    source: str
    version: int = 1

    def __str__(self) -> str:
        return f"{self.source}: delete {self.doc_id}" + (f" version {self.version}" if self.version != 1 else "")


Item = Document | Reject | Deletion


def strict(items: Iterable[Item]) -> Iterator[Document]:
    """The documents of a reader's items (deletions left out); the first reject is raised as an ``InputError``."""
    for item in items:
        if isinstance(item, Reject):
            raise item.error()
        if isinstance(item, Document):
            yield item
