"""Batch builds: documents in, the graph directory updated, resumably and idempotently.

Two phases:

1. *Ledger update.* Read the inputs; a document whose id and text hash are
   already in the ledger (:mod:`medkg.kg.ledger`) is skipped, a new or changed
   one is extracted (chunks, linked entities, relations; in worker processes,
   :mod:`medkg.pipelines.workers`), embedded, and committed with its batch.
   Killed half-way, a build keeps every committed batch; run again, it goes on
   where it stopped.
2. *View.* If the ledger changed (or the current view is missing or was made
   from another ledger state), a new ``view-N`` directory is written and the
   manifest switches to it (:mod:`medkg.kg.view.writer`). A large change rebuilds
   the view from the ledger (store rows by ``COPY``, tier links, summaries,
   search index); a change to a few documents patches a copy of the previous
   view with ``MERGE``. On the Neo4j backend the server's graph is synchronised
   instead (``GraphStore.replace_contents``).

Builds add to a graph: documents not in this run's inputs stay until
``delete_documents`` removes them. Re-running on the same inputs changes
nothing and returns in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import InputError
from medkg.kg.graphdir import BACKEND_KEY, FORMAT_VERSION, GraphDir, graph_lock, open_for_writing
from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.records import TIER_REPORT, Document
from medkg.kg.view.writer import Stopwatch, ViewSpec, update_view
from medkg.ontologies.vocabulary import Vocabulary, load_vocabulary
from medkg.paths import sample_paths
from medkg.pipelines.deid import VocabularyTerms, deidentify_reports
from medkg.pipelines.deid.cache import CACHE_FILE as DEID_CACHE_FILE
from medkg.pipelines.deid.cache import forget as forget_deidentified
from medkg.pipelines.embedding.embedder import (
    DEFAULT_EMBEDDER,
    Embedder,
    batch_size_for,
    embedder_fingerprint,
    embedder_label,
    resolve_embedder,
)
from medkg.pipelines.engines import Engine, ExtractionJob, open_engine
from medkg.pipelines.engines.shards import SHARDS_DIR, Leftovers
from medkg.pipelines.extractor import EXTRACTION_RULES, REPORT_RULES
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.report_names import report_names_fingerprint
from medkg.pipelines.ner.model import ner_fingerprint
from medkg.pipelines.reading import read_documents
from medkg.pipelines.reading.files import missing
from medkg.pipelines.reading.rejects import Reject
from medkg.pipelines.relations.model import relation_fingerprint
from medkg.pipelines.updates import apply_pubmed_updates
from medkg.pipelines.workers import batched
from medkg.version import __version__

log = logging.getLogger(__name__)

__all__ = ["BuildReport", "build_graph", "delete_documents", "graph_lock", "sample_paths"]

Progress = Callable[[str, int, int], None]  # (stage, done, total); total 0 = unknown
BATCH_DOCS = 32  # documents per committed ledger batch (what a crash can cost)
REJECTS_FILE = "rejects.jsonl"  # beside the graph: the inputs the last lenient build could not read


@dataclass
class BuildReport:
    """What a build or a delete did, and the graph it left."""

    graph: Path
    documents: int  # in the graph after the build
    added: int
    replaced: int
    unchanged: int
    counts: dict[str, int]
    seconds: float
    view_rebuilt: bool = True  # a new view was written (False: nothing changed)
    view_patched: bool = False  # ... by patching the previous one rather than rebuilding it from the ledger
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)  # inputs not read (a build with ``strict=False``)
    rejects_path: Path | None = None  # where they are listed, one JSON object per line
    deleted: int = 0  # documents the inputs withdrew (PubMed DeleteCitation), removed from the graph

    @property
    def processed(self) -> int:
        return self.added + self.replaced

    @property
    def docs_per_second(self) -> float:
        """Documents processed (extracted, embedded, stored) per second of the whole build."""
        return self.processed / self.seconds if self.seconds else 0.0


def build_graph(paths: Sequence[Path | str], graph_dir: Path | str, *, tier: int | None = None,
                vocabulary: Vocabulary | None = None, embedder: Embedder | str | Path | None = None,
                store: str | None = None, store_options: dict[str, Any] | None = None, workers: int | None = None,
                batch_docs: int = BATCH_DOCS, progress: Progress | None = None,
                models_dir: Path | None = None, full: bool = False, deidentify: bool = True,
                strict: bool = True, engine: str = "local", address: str | None = None) -> BuildReport:
    """Add the documents under ``paths`` (files or directories) to the graph in ``graph_dir``.

    ``store`` defaults to the graph's current backend (``embedded`` for a new graph), ``embedder`` (a loaded
    :class:`Embedder`, a registered name or a model directory) to the one the graph was built with
    (``all-MiniLM-L6-v2`` for a new graph). Changing it re-embeds every stored document. A change to a few
    documents patches the previous view unless ``full`` asks for a rebuild (see :mod:`medkg.kg.view.writer`).

    Clinical reports (tier 1) are de-identified right after reading (:mod:`medkg.pipelines.deid`): what the
    ledger, the store and every offset see is the de-identified text. ``deidentify=False`` stores them as
    given, and says so in a warning.

    ``strict`` (the default): every input is read (and checked) before anything is stored, and the first bad
    one stops the build with an :class:`InputError`, the graph untouched. ``strict=False``: a bad record or
    file is skipped, the good documents are built, and the rejects (file, line or record, reason) are in the
    report and in ``<graph>/rejects.jsonl`` (rewritten by each build; removed when nothing was rejected).

    ``engine`` extracts and embeds: ``local`` (a process pool here, ``workers`` processes) or ``ray`` (a local
    Ray cluster, or the one at ``address``; ``workers`` actors, default one per CPU of the cluster); see
    :mod:`medkg.pipelines.engines`. The graph is the same either way.
    """
    clock = Stopwatch()
    for p in map(Path, paths):
        if (why := missing(p)) is not None:
            raise InputError(f"{p}: {why}")
    if strict:
        _check_inputs([Path(p) for p in paths], tier)
    rejects: list[Reject] | None = None if strict else []
    if embedder is not None and not isinstance(embedder, Embedder):
        resolve_embedder(embedder, models_dir)  # a wrong name fails here, before the graph directory is touched
    gd = open_for_writing(Path(graph_dir))
    with graph_lock(gd, "a build"):
        current = gd.peek_manifest() or {}
        loaded = embedder if isinstance(embedder, Embedder) else None
        label = loaded.name if loaded else embedder_label(embedder or current.get("embedder"))  # type: ignore[arg-type]
        vocab = vocabulary or load_vocabulary("mesh-bundled")
        clock.lap("vocabulary")
        with Ledger(gd.ledger_path) as ledger:
            backend = store or gd.backend()  # recorded now: a rerun of a failed first build keeps it
            ledger.set_meta(BACKEND_KEY, backend)
            fingerprints = _prepare(gd, vocab, label, ledger)
            clock.lap("lexicon")
            known = ledger.known()
            stats = {"added": 0, "replaced": 0, "unchanged": 0}
            seen: set[str] = set()
            pubmed = apply_pubmed_updates([Path(p) for p in paths], tier, ledger, known, stats, seen)
            docs = _deidentified(pubmed.latest(read_documents([Path(p) for p in paths], tier, rejects)), deidentify,
                                 vocab, gd.root / DEID_CACHE_FILE)
            todo = _new_or_changed(docs, known, fingerprints, stats, seen, rejects, gd.root / REJECTS_FILE)
            job = _job(gd, label, loaded, models_dir, fingerprints.shards, workers, engine)
            eng = open_engine(engine, address=address, embedder=loaded)
            try:
                _extract_into(eng, job, ledger, _chain(todo, _outdated(ledger, known, fingerprints, seen, stats)),
                              max(1, batch_docs), progress or (lambda stage, done, total: None), fingerprints)
            finally:
                eng.close()
                rejects_path = _write_rejects(gd.root / REJECTS_FILE, rejects or [])
            clock.lap("extract+embed")
            spec = ViewSpec(store=backend, store_options=store_options or {},
                            vocab=vocab, embedder=label, dim=loaded.dim if loaded else 0, full=full)
            report = _finish(gd, ledger, spec, clock, stats)
            report.rejects, report.rejects_path = rejects or [], rejects_path
            return report


def delete_documents(ids: Iterable[str], graph_dir: Path | str, *, vocabulary: Vocabulary | None = None,
                     store_options: dict[str, Any] | None = None, full: bool = False) -> tuple[int, BuildReport]:
    """Remove documents and everything derived only from them; returns (removed, report of the new view)."""
    clock = Stopwatch()
    gd = GraphDir(Path(graph_dir))
    manifest = gd.read_manifest()
    with graph_lock(gd, "a delete"), Ledger(gd.ledger_path) as ledger:
        spec = ViewSpec(store=manifest.get("store", "embedded"), store_options=store_options or {},
                        vocab=vocabulary or load_vocabulary("mesh-bundled"),
                        embedder=manifest.get("embedder", DEFAULT_EMBEDDER), full=full)
        ids, known = set(ids), ledger.known()
        missing = sorted(ids - set(known))
        pending = manifest.get("ledger_state") != ledger.state()  # an earlier delete or build did not finish
        if missing and not pending:
            raise InputError(f"not in the graph {gd.root}: {', '.join(missing[:10])}")
        if not set(known) - ids:
            raise InputError(f"{gd.root}: deleting {len(ids & set(known))} documents would leave the graph empty; "
                             "remove the directory instead")
        removed = ledger.delete(ids & set(known))
        forget_deidentified(gd.root / DEID_CACHE_FILE, ids & set(known))
        log.info("removed %d documents from the ledger", removed)
        return removed, _finish(gd, ledger, spec, clock, {"added": 0, "replaced": 0, "unchanged": 0})


# -- phase 1: the ledger ---------------------------------------------------------------------------------------

def _prepare(gd: GraphDir, vocab: Vocabulary, embedder_name: str, ledger: Ledger) -> Fingerprints:
    """Write the lexicon if the vocabulary changed; return the extraction fingerprints."""
    fingerprint = hashlib.sha256(json.dumps(
        {"medkg": __version__, "format": FORMAT_VERSION, "vocabularies": vocab.versions,
         "concepts": len(vocab.concepts), "embedder": embedder_fingerprint(embedder_name),
         "ner": ner_fingerprint(), "relations": relation_fingerprint(), "rules": EXTRACTION_RULES},
        sort_keys=True).encode()
    ).hexdigest()[:16]
    # the names learned from coded reports are matched in reports only: they re-extract reports, not literature
    reports = hashlib.sha256(f"{fingerprint}:reports:{REPORT_RULES}:{report_names_fingerprint()}".encode()
                             ).hexdigest()[:16]
    if ledger.get_meta("fingerprint") != fingerprint or ledger.get_meta("report_fingerprint") != reports or \
            not gd.lexicon_path.exists():
        tmp = gd.root / ".lexicon.pkl.tmp"
        Lexicon.from_vocabulary(vocab).save(tmp)
        os.replace(tmp, gd.lexicon_path)
        ledger.set_meta("fingerprint", fingerprint)
        ledger.set_meta("report_fingerprint", reports)
        ledger.set_meta("vocabularies", json.dumps(vocab.versions, sort_keys=True))
    return Fingerprints(fingerprint, reports)


@dataclass(frozen=True)
class Fingerprints:
    """What a build's records are made under: the literature's fingerprint, and the reports' (the same plus
    :data:`~medkg.pipelines.extractor.REPORT_RULES`), so a change in how reports are read re-extracts reports
    only. Reports stored under another report fingerprint are re-extracted like any outdated document; one
    stored before reports had a fingerprint of their own (it carries the literature's) when an input holds it
    again."""

    literature: str
    reports: str

    def of(self, tier: int) -> str:
        return self.reports if tier == TIER_REPORT else self.literature

    def of_document(self, doc: Document) -> str:
        return self.of(doc.tier)

    @property
    def shards(self) -> str:
        """The fingerprint shards of an interrupted distributed build carry (both parts)."""
        return f"{self.literature}+{self.reports}"


def _deidentified(docs: Iterable[Document], enabled: bool, vocab: Vocabulary, cache: Path) -> Iterator[Document]:
    """Reports de-identified before the ledger sees them (their content key is then that of the stored text;
    de-identification is deterministic, so an unchanged report stays unchanged), or passed as read. ``cache``
    remembers the de-identifications, so a rebuild does not run them again (:mod:`medkg.pipelines.deid.cache`)."""
    if enabled:
        context = json.dumps([vocab.versions, len(vocab.concepts)], sort_keys=True)
        return deidentify_reports(docs, medical_terms=VocabularyTerms(vocab), cache=cache, cache_context=context)
    log.warning("de-identification is off (--no-deidentify): clinical reports (tier 1) are stored as given, "
                "with any names, dates and other identifiers they hold")
    return iter(docs)


def _check_inputs(paths: list[Path], tier: int | None) -> None:
    """Read every input once before a strict build stores anything: the first bad one raises ``InputError``."""
    n = sum(1 for _ in read_documents(paths, tier))
    log.info("checked the inputs: %d documents", n)


def _write_rejects(path: Path, rejects: list[Reject]) -> Path | None:
    """``rejects.jsonl`` beside the graph, written anew (removed when there are none); its path, if written."""
    try:
        if not rejects:
            path.unlink(missing_ok=True)
            return None
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rejects:
                f.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        return path
    except OSError as e:
        log.warning("could not write the list of rejected inputs to %s (%s)", path, e.strerror or e)
        return None


def _nothing_read(rejects: list[Reject] | None, rejects_path: Path) -> str:
    """The error of a build that read no document at all."""
    if not rejects:
        return "no documents found in the inputs"
    if len(rejects) == 1:
        return str(rejects[0])
    return f"no document could be read: {len(rejects)} inputs rejected, see {rejects_path} (first: {rejects[0]})"


def _new_or_changed(docs: Iterable[Document], known: dict[str, tuple[str, str]], fingerprints: Fingerprints,
                    stats: dict[str, int], seen: set[str], rejects: list[Reject] | None = None,
                    rejects_path: Path = Path(REJECTS_FILE)) -> Iterator[Document]:
    for doc in docs:
        if doc.id in seen:
            log.warning("document %s appears twice in the inputs; keeping the first copy", doc.id)
            continue
        seen.add(doc.id)
        old = known.get(doc.id)
        if old == (doc.content_key, fingerprints.of(doc.tier)):
            stats["unchanged"] += 1
            continue
        stats["replaced" if old else "added"] += 1
        yield doc
    if not seen:
        raise InputError(_nothing_read(rejects, rejects_path))


def _outdated(ledger: Ledger, known: dict[str, tuple[str, str]], fingerprints: Fingerprints, seen: set[str],
              stats: dict[str, int]) -> Iterator[Document]:
    """Stored documents extracted under another fingerprint (a new vocabulary, embedder or medkg), from their text.

    Runs after the inputs are read (``seen`` is complete then); documents are loaded a block at a time and
    before their rows are replaced.
    """
    current = {fingerprints.literature, fingerprints.reports}
    stale = sorted(d for d, (_, fp) in known.items() if fp not in current and d not in seen)
    if stale:
        log.info("re-extracting %d stored documents made with another vocabulary or embedder", len(stale))
    for i in range(0, len(stale), 200):
        docs = [r.document for r in ledger.records(stale[i : i + 200])]
        stats["replaced"] += len(docs)
        yield from docs


def _job(gd: GraphDir, label: str, loaded: Embedder | None, models_dir: Path | None, fingerprint: str,
         workers: int | None, engine: str) -> ExtractionJob:
    """What the engine's workers need; the embedder is resolved here (a static one is distilled here, once)."""
    if loaded is not None:
        name, path, batch = loaded.name, loaded.path, loaded.batch_size
    else:
        name, path = resolve_embedder(label, models_dir)
        batch = batch_size_for(name)
    n = _default_workers(workers) if engine == "local" else (workers or 0)
    return ExtractionJob(lexicon_path=gd.lexicon_path, embedder_name=name, embedder_path=Path(path),
                         embedder_batch=batch, fingerprint=fingerprint, shard_dir=gd.root / SHARDS_DIR, workers=n)


def _extract_into(engine: Engine, job: ExtractionJob, ledger: Ledger, todo: Iterator[Document], batch_docs: int,
                  progress: Progress, fingerprints: Fingerprints) -> None:
    """Extract, embed and commit ``todo`` batch by batch.

    Records that an interrupted distributed build left as shards (:class:`Leftovers`) are committed as they
    are, when they hold exactly the document this build wants; the rest goes to the engine.
    """
    leftovers = Leftovers(job.shard_dir, job.fingerprint)
    reused: list[LedgerRecord] = []
    done = 0

    def wanted() -> Iterator[Document]:
        for doc in todo:
            record = leftovers.take(doc.id, doc.content_key) if len(leftovers) else None
            if record is None:
                yield doc
            else:
                reused.append(record)

    for records in engine.run(batched(wanted(), batch_docs), job):
        records, reused[:] = records + reused, []
        ledger.put(records, fingerprints.of_document)
        done += len(records)
        progress("extract+embed", done, 0)
    if reused:
        ledger.put(reused, fingerprints.of_document)
        progress("extract+embed", done + len(reused), 0)
    leftovers.clear()


def _chain(*parts: Iterator[Document]) -> Iterator[Document]:
    for part in parts:
        yield from part


def _default_workers(workers: int | None) -> int:
    """Extraction processes, each of which also embeds its batches: one per core, at most four (each holds a
    lexicon and the models)."""
    if workers is not None:
        return max(0, workers)
    return max(1, min(4, os.cpu_count() or 2))


# -- phase 2: the view -----------------------------------------------------------------------------------------

def _finish(gd: GraphDir, ledger: Ledger, spec: ViewSpec, clock: Stopwatch, stats: dict[str, int]) -> BuildReport:
    if len(ledger) == 0:
        raise InputError(f"{gd.root}: the graph would have no documents left; remove the directory instead")
    update = update_view(gd, ledger, spec, clock)
    return BuildReport(graph=gd.root.resolve(), documents=len(ledger), counts=update.counts,
                       seconds=clock.seconds(), view_rebuilt=update.rebuilt,
                       view_patched=update.patched, stage_seconds=clock.timings, added=stats["added"],
                       replaced=stats["replaced"], unchanged=stats["unchanged"], deleted=stats.get("deleted", 0))
