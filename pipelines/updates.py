"""PubMed baseline and update files in a build: the latest version of each citation, deleted citations removed.

NLM publishes PubMed as an annual *baseline* (``pubmed25n0001.xml.gz`` ...) and
daily *update files* numbered after it (``pubmed25n1275.xml.gz`` ...). An update
file holds new citations, revised ones (a whole ``PubmedArticle`` again, under
the PMID it had) and, at its end, a ``DeleteCitation`` list of PMIDs withdrawn.
The files are meant to be applied in file-number order, which is the order a
build reads them in (the paths as given, a directory's files sorted).

What a build does with them (the reader gives articles and
:class:`~medkg.pipelines.reading.rejects.Deletion` records, each with its PMID's
``Version``):

- *Later wins.* Within one run, of the articles with the same PMID and version
  the last one read is built; the earlier ones are never extracted.
- *Higher version wins.* NLM's versioned citations keep their PMID and number
  their versions 1, 2, ... ("all citations not versioned are version 1"; only
  the most recent version is searchable in PubMed). Of several versions the
  highest is built, whatever the order of the files. The version of a stored
  document above 1 is remembered in the ledger (meta key ``pubmed_versions``),
  so that a later run does not replace version 2 with a revision of version 1.
- *Deletions.* A ``DeleteCitation`` PMID removes that version: an article of
  it read earlier in the run is dropped, and the stored document is deleted
  from the ledger (hence from the view) when it has that version. An article
  read *after* the deletion adds the citation again. When every version is
  gone the document is deleted; a PMID the graph never had is no error (update
  files delete citations you may never have loaded), only counted in the log.
- *Resumable and idempotent.* The decisions are made from the inputs and the
  ledger before anything is extracted (a first reading of the PubMed files,
  which holds one small entry per PMID), deletions are applied then, and the
  build goes on as usual. Run again after a crash, or run again at all, the same
  files lead to the same decisions; what is already in the ledger is unchanged.

Other formats are untouched: their duplicate ids still keep the first copy (see
``_new_or_changed`` in :mod:`medkg.pipelines.build`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.ledger import Ledger
from medkg.kg.records import Document
from medkg.pipelines.reading.documents import split_inputs
from medkg.pipelines.reading.pubmed_xml import pubmed_xml_versions
from medkg.pipelines.reading.rejects import Deletion

log = logging.getLogger(__name__)

VERSIONS_KEY = "pubmed_versions"  # ledger meta: {document id: version} of stored PubMed documents above version 1
Key = int  # the first 64 bits of a document's content key: which copy of an article is meant
Live = tuple[int, Key] | dict[int, Key]  # the live versions of one PMID: (version, key), or {version: key}


def _key(doc: Document) -> Key:
    return int(doc.content_key[:16], 16)


class PubmedUpdates:
    """What the PubMed inputs of one run say about each citation, and the filter that applies it.

    Built by :func:`apply_pubmed_updates`; :meth:`latest` then passes the documents of the build's reading,
    keeping of each PubMed citation only the copy chosen here.
    """

    def __init__(self) -> None:
        self._live: dict[str, Live] = {}  # PMID id -> its live versions, as the files are read
        self._killed: dict[str, set[int]] = {}  # PMID id -> the versions a DeleteCitation named
        self.plan: dict[str, tuple[int, Key] | None] = {}  # id -> the article to build, or None: build none of it
        self.delete: set[str] = set()  # stored documents to remove
        self.withdrawn: set[str] = set()  # every id whose last word in the inputs is a deletion
        self.not_in_graph = 0  # deleted citations the graph does not have
        self.superseded = 0  # PubMed articles read but not built (a later or higher version, or deleted)
        self.files: list[Path] = []
        self._passed: set[str] = set()  # the chosen articles the build's reading has passed

    # -- the first reading --------------------------------------------------------------------------------
    def read(self, paths: list[Path], tier: int | None) -> None:
        """Read the PubMed XML files among ``paths`` in build order; a file's unreadable part is left to the build's
        own reading to report (strict builds have checked every input already)."""
        self.files, _ = split_inputs(paths)
        for f in self.files:
            try:
                for item, version in pubmed_xml_versions(f, tier):
                    if isinstance(item, Document):
                        self._article(item.id, version, _key(item))
                    elif isinstance(item, Deletion):
                        self._deletion(item.doc_id, item.version)
            except (InputError, OSError) as e:
                log.debug("%s: read up to an error (%s); the build reports it", f, e)

    def _article(self, doc_id: str, version: int, key: Key) -> None:
        live = self._live.get(doc_id)
        if live is None or (isinstance(live, tuple) and live[0] == version):
            self._live[doc_id] = (version, key)
            return
        versions = dict([live]) if isinstance(live, tuple) else live
        versions[version] = key
        self._live[doc_id] = versions

    def _deletion(self, doc_id: str, version: int) -> None:
        self._killed.setdefault(doc_id, set()).add(version)
        live = self._live.get(doc_id)
        if isinstance(live, tuple) and live[0] == version:
            self._live[doc_id] = {}
        elif isinstance(live, dict):
            live.pop(version, None)

    # -- the decisions --------------------------------------------------------------------------------------
    def decide(self, known: Collection[str], stored_versions: dict[str, int]) -> None:
        """For each citation: the article to build, or keep the stored document, or delete it.

        The stored document (``known``; its version from ``stored_versions``, else 1) counts as one more
        version, read before every input: a deletion of its version removes it, an input article of the same
        or a higher version replaces it, an input article of a lower version is ignored.
        """
        for doc_id in self._live.keys() | self._killed.keys():
            read = doc_id in self._live  # an article of it was read (perhaps deleted after)
            live = self._live.pop(doc_id, {})
            versions = dict([live]) if isinstance(live, tuple) else live
            killed = self._killed.get(doc_id, set())
            stored = stored_versions.get(doc_id, 1) if doc_id in known else None
            best = max(versions, default=0)
            if stored is not None and stored not in killed and stored > best:
                choice = None  # the graph holds a higher version than any read here
            elif versions:
                choice = (best, versions[best])
            else:
                choice = None
                self.withdrawn.add(doc_id)
                if stored is not None:
                    self.delete.add(doc_id)
                else:
                    self.not_in_graph += 1
            if read:
                self.plan[doc_id] = choice
        self._killed.clear()

    def versions(self, stored_versions: dict[str, int]) -> dict[str, int]:
        """The ``pubmed_versions`` of the ledger after this run: the chosen versions above 1, deletions out."""
        out = {d: v for d, v in stored_versions.items() if d not in self.delete}
        for doc_id, choice in self.plan.items():
            if choice is not None:
                if choice[0] > 1:
                    out[doc_id] = choice[0]
                else:
                    out.pop(doc_id, None)
        return out

    # -- the build's reading ------------------------------------------------------------------------------
    def latest(self, docs: Iterable[Document]) -> Iterator[Document]:
        """``docs`` with every PubMed article not chosen left out (each chosen one passes once); documents of
        other ids pass as they are."""
        for doc in docs:
            if doc.id not in self.plan:
                yield doc
                continue
            choice = self.plan[doc.id]
            if choice is not None and choice[1] == _key(doc) and doc.id not in self._passed:
                self._passed.add(doc.id)  # an identical later copy is not built twice
                yield doc
            else:
                self.superseded += 1
        if self.superseded:
            log.info("PubMed updates: %d articles not built (a later or higher version, a deletion, or an older "
                     "version than the graph's)", self.superseded)


def apply_pubmed_updates(paths: list[Path], tier: int | None, ledger: Ledger, known: dict[str, tuple[str, str]],
                         stats: dict[str, int], seen: set[str]) -> PubmedUpdates:
    """Read the PubMed inputs once, delete the withdrawn citations from ``ledger`` (and from ``known``), and
    return the filter for the build's reading (:meth:`PubmedUpdates.latest`).

    ``stats["deleted"]`` is set to the number of documents removed. The withdrawn ids are added to ``seen`` (the
    ids the run has dealt with), so that a run of deletions only is not taken for an empty input. A run that
    would delete every stored document and add none is refused with an :class:`InputError` before the ledger is
    touched.
    """
    updates = PubmedUpdates()
    stats.setdefault("deleted", 0)
    updates.read(paths, tier)
    if not updates.files:
        return updates
    stored_versions = _stored_versions(ledger)
    updates.decide(known, stored_versions)
    if updates.delete and not known.keys() - updates.delete and not _adds(updates, paths):
        names = ", ".join(str(f) for f in updates.files[:3]) + (", ..." if len(updates.files) > 3 else "")
        raise InputError(f"{names}: the deleted citations (DeleteCitation) are all {len(updates.delete)} documents "
                         f"of the graph {ledger.path.parent} and the inputs add none; remove the graph directory "
                         "instead")
    if updates.delete:
        stats["deleted"] = ledger.delete(sorted(updates.delete))
        for doc_id in updates.delete:
            known.pop(doc_id, None)
    seen.update(updates.withdrawn)
    new_versions = updates.versions(stored_versions)
    if new_versions != stored_versions:
        ledger.set_meta(VERSIONS_KEY, json.dumps(new_versions, sort_keys=True))
    log.info("PubMed updates: %d documents deleted, %d deleted citations were not in the graph",
             stats["deleted"], updates.not_in_graph)
    return updates


def _adds(updates: PubmedUpdates, paths: list[Path]) -> bool:
    """Whether the run may add a document: a chosen PubMed article, or any input of another format."""
    return any(c is not None for c in updates.plan.values()) or bool(split_inputs(paths)[1])


def _stored_versions(ledger: Ledger) -> dict[str, int]:
    raw = ledger.get_meta(VERSIONS_KEY)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("%s: the stored PubMed versions are unreadable; every stored citation is taken as version 1",
                    ledger.path)
        return {}
    return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}
