"""Ledger shards: a batch of extraction results written to a shared path by whichever worker made it.

A distributed build cannot have every worker write the ledger (one SQLite
file, one writer). Each worker instead writes what it made of a batch of
documents to a *shard* file in ``<graph>/shards/`` (the graph directory is on
a path every node can reach), and the driver commits shard after shard to the
ledger, then deletes it. A shard is written to a temporary name and renamed,
so a file with the final name is always complete.

Shards also carry a build across a crash of the driver. When the driver dies
between a worker's rename and its own commit, the shard stays behind; the next
build of the same graph reads the leftovers (:class:`Leftovers`) and commits a
record from them instead of extracting its document again -- but only when the
document, its content and the extraction fingerprint are the ones that build
wants now, so a stale shard can never bring back an older version of a
document. Leftovers are removed once the build has committed what it needs.

The payload is a zlib-compressed pickle of medkg's own records (the ledger's
format and the same trust: written and read by medkg on the user's machines).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from medkg.errors import GraphCorruptError
from medkg.kg import pickles
from medkg.kg.ledger import LedgerRecord

log = logging.getLogger(__name__)

SHARD_SUFFIX = ".shard"
SHARDS_DIR = "shards"  # under the graph directory


@dataclass(frozen=True)
class Shard:
    """One batch's results as a worker wrote them: the file and what it holds."""

    path: Path
    fingerprint: str
    records: list[LedgerRecord]


def shard_name(doc_keys: Iterable[tuple[str, str]]) -> str:
    """A file name determined by the batch's (document id, content key) pairs: a retried batch overwrites its
    own shard instead of adding a second one."""
    h = hashlib.sha256()
    for doc_id, key in doc_keys:
        h.update(f"{doc_id}\t{key}\n".encode())
    return f"batch-{h.hexdigest()[:24]}{SHARD_SUFFIX}"


def write_shard(directory: Path, records: list[LedgerRecord], fingerprint: str) -> Path:
    """Write ``records`` as one shard in ``directory`` (atomically); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / shard_name((r.document.id, r.document.content_key) for r in records)
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    payload = zlib.compress(pickle.dumps((fingerprint, records), protocol=5), 1)
    with open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_shard(path: Path) -> Shard:
    """A shard's records; ``GraphCorruptError`` naming the file if it cannot be read."""
    try:
        fingerprint, records = pickles.loads(zlib.decompress(path.read_bytes()))
    except (OSError, zlib.error, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as e:
        raise GraphCorruptError(f"{path}: the shard cannot be read ({e})") from e
    return Shard(path, fingerprint, records)


class Leftovers:
    """Complete shards an interrupted build left in ``directory``, indexed by what they hold.

    ``take(doc_id, content_key)`` hands back a record made under ``fingerprint`` for exactly that content, once.
    Unreadable shards and half-written temporary files are deleted with a warning: they are only a cache of
    work the build can redo.
    """

    def __init__(self, directory: Path, fingerprint: str) -> None:
        self.directory = directory
        self._records: dict[tuple[str, str], LedgerRecord] = {}
        self._files: list[Path] = []
        if not directory.is_dir():
            return
        for tmp in directory.glob(f".*{SHARD_SUFFIX}.*.tmp"):
            tmp.unlink(missing_ok=True)
        for path in sorted(directory.glob(f"*{SHARD_SUFFIX}")):
            self._files.append(path)
            try:
                shard = read_shard(path)
            except GraphCorruptError as e:
                log.warning("%s; it is removed and its documents are extracted again", e)
                continue
            if shard.fingerprint != fingerprint:
                continue  # made with another vocabulary, embedder or medkg: of no use
            for r in shard.records:
                self._records[(r.document.id, r.document.content_key)] = r
        if self._files:
            log.info("found %d shards of an interrupted build (%d usable records) in %s",
                     len(self._files), len(self._records), directory)

    def __len__(self) -> int:
        return len(self._records)

    def take(self, doc_id: str, content_key: str) -> LedgerRecord | None:
        return self._records.pop((doc_id, content_key), None)

    def clear(self) -> None:
        """Delete the leftover files (call once their usable records are committed or no longer wanted)."""
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files, self._records = [], {}
        with contextlib.suppress(OSError):
            self.directory.rmdir()  # only if empty: shards being written by a running build stay
