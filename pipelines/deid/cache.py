"""Remembered de-identifications: a rebuild skips Presidio for the reports it de-identified before.

A build reads every input again and decides by the stored text whether a document changed; a report's stored
text is its de-identified text, so without this every rebuild ran Presidio on every report before it could
tell that nothing had changed (on the bundled sample a no-op rebuild took 12 s instead of 4 s).

The cache sits beside the ledger (``deid_cache.sqlite`` in the graph directory) and holds, per report, the
de-identified document (what the ledger stores anyway) under a key that is an HMAC, with the local
de-identification key, of everything the de-identification reads: the original text and fields, the rules
version and the vocabulary whose terms are no names. The original text is never written; without the key the
entry cannot even be checked against a guess. A changed report, vocabulary or :data:`RULES` gives a new key,
so the report is de-identified again; one entry per document id is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
from dataclasses import asdict
from pathlib import Path

from medkg.errors import StoreError
from medkg.kg.records import Document, Section
from medkg.pipelines.deid.deidentifier import DeidReport

log = logging.getLogger(__name__)

CACHE_FILE = "deid_cache.sqlite"
#: Bump when what de-identification finds or writes changes: every report is de-identified again.
RULES = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, doc_id TEXT NOT NULL, document TEXT NOT NULL,
                                    counts TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entries_doc ON entries (doc_id);
"""


class DeidCache:
    """De-identified reports by a keyed hash of the original (see the module docstring)."""

    def __init__(self, path: Path, secret: bytes, context: str = "") -> None:
        self.path = path
        self._secret = secret
        self._context = context
        try:
            self._con = sqlite3.connect(path, timeout=30)
            self._con.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the de-identification cache ({e}); delete the file, "
                             "the next build de-identifies the reports again") from e
        self.hits = 0

    def key(self, doc: Document) -> str:
        material = json.dumps([RULES, self._context, doc.id, doc.source, doc.content_key], ensure_ascii=False)
        return hmac.new(self._secret, material.encode("utf-8"), hashlib.sha256).hexdigest()

    def get(self, doc: Document) -> tuple[Document, DeidReport] | None:
        """The de-identified document and its report, if this exact report was de-identified before."""
        row = self._con.execute("SELECT document, counts FROM entries WHERE key = ?", (self.key(doc),)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data["sections"] = tuple(Section(**s) for s in data.get("sections", ()))
        self.hits += 1
        return Document(**data), DeidReport(doc.id, json.loads(row[1]))

    def put(self, original: Document, new: Document, report: DeidReport) -> None:
        """Remember ``new`` as the de-identification of ``original`` (replacing any older entry of its id)."""
        self._con.execute("DELETE FROM entries WHERE doc_id = ?", (original.id,))
        self._con.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                          (self.key(original), original.id, json.dumps(asdict(new), ensure_ascii=False),
                           json.dumps(dict(report.counts))))

    def commit(self) -> None:
        self._con.commit()

    def close(self) -> None:
        self._con.commit()
        self._con.close()


def forget(path: Path, doc_ids: set[str]) -> None:
    """Drop the entries of deleted documents (nothing to do when there is no cache)."""
    if not path.exists() or not doc_ids:
        return
    con = sqlite3.connect(path, timeout=30)
    try:
        con.executemany("DELETE FROM entries WHERE doc_id = ?", [(i,) for i in sorted(doc_ids)])
        con.commit()
    except sqlite3.Error as e:
        log.warning("%s: could not drop the entries of deleted documents (%s)", path, e)
    finally:
        con.close()
