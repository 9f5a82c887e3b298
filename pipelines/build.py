"""Batch builds: documents in, the graph directory updated, resumably and idempotently.

Two phases:

1. *Ledger update.* Read the inputs; a document whose id and text hash are
   already in the ledger (:mod:`medkg.kg.ledger`) is skipped, a new or changed
   one is extracted (chunks, linked entities, relations; in worker processes,
   :mod:`medkg.pipelines.extract_pool`), embedded, and committed with its batch.
   Killed half-way, a build keeps every committed batch; run again, it goes on
   where it stopped.
2. *View.* If the ledger changed (or the current view is missing or was made
   from another ledger state), a new ``view-N`` directory is written and the
   manifest switches to it (:mod:`medkg.kg.graphdir`). A large change rebuilds
   the view from the ledger (:mod:`medkg.pipelines.assemble`: store rows by
   ``COPY``, tier links, summaries, search index); a change to a few documents
   patches a copy of the previous view with ``MERGE`` (:mod:`medkg.pipelines.patch`).
   On the Neo4j backend the server's graph is synchronised instead
   (``GraphStore.replace_contents``).

Builds add to a graph: documents not in this run's inputs stay until
``delete_documents`` removes them. Re-running on the same inputs changes
nothing and returns in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medkg import __version__
from medkg.errors import InputError
from medkg.kg.graphdir import FORMAT_VERSION, GraphDir, refuse_foreign_dir
from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.store import open_store
from medkg.kg.summaries import REWRITES_FILE, apply_rewrites, load_rewrites
from medkg.ontologies.vocabulary import Vocabulary, load_vocabulary
from medkg.pipelines.assemble import Corpus, assemble
from medkg.pipelines.embedding import (DEFAULT_EMBEDDER, STATIC_EMBEDDER, Embedder, embedder_fingerprint,
                                      embedder_label, resolve_embedder)
from medkg.pipelines.extract_pool import batched, extract_batches
from medkg.pipelines.lexicon import Lexicon
from medkg.pipelines.nlp import EXTRACTION_RULES, ner_fingerprint
from medkg.pipelines.patch import ViewDiff, patch_view, should_patch, view_diff, write_document_keys
from medkg.pipelines.readers import read_documents
from medkg.pipelines.records import Document

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total); total 0 = unknown
BATCH_DOCS = 32  # documents per committed ledger batch (what a crash can cost)


def sample_paths() -> list[Path]:
    """The bundled sample corpus: literature abstracts (tier 2) and synthetic notes (tier 1)."""
    import medkg

    root = Path(medkg.__file__).resolve().parent / "sample"
    return [root / "abstracts.jsonl", root / "notes"]


@dataclass
class BuildReport:
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

    @property
    def processed(self) -> int:
        return self.added + self.replaced

    @property
    def docs_per_second(self) -> float:
        """Documents processed (extracted, embedded, stored) per second of the whole build."""
        return self.processed / self.seconds if self.seconds else 0.0


@dataclass
class _Run:
    gd: GraphDir
    vocab: Vocabulary
    store: str
    store_options: dict[str, Any]
    embedder: Embedder | None
    progress: Progress
    embedder_label: str = DEFAULT_EMBEDDER  # the embedder to load (a name or path), recorded in the manifest
    models_dir: Path | None = None
    full: bool = False  # rebuild the whole view, even for a small change or none (re-clusters topics and themes)
    timings: dict[str, float] = field(default_factory=dict)
    _t: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._t, 3)
        self._t = now

    def get_embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = Embedder.named(self.embedder_label, self.models_dir)
        return self.embedder

    @property
    def embedder_name(self) -> str:
        return self.embedder.name if self.embedder else self.embedder_label

    @property
    def store_identity(self) -> str:
        """Which store the view is in: the backend, and for a server its address and database (no password)."""
        o = self.store_options
        return self.store if not o.get("uri") else f"{self.store}:{o['uri']}/{o.get('database', '')}"


def build_graph(paths: list[Path | str], graph_dir: Path | str, *, tier: int | None = None,
                vocabulary: Vocabulary | None = None, embedder: Embedder | str | Path | None = None,
                store: str | None = None, store_options: dict[str, Any] | None = None, workers: int | None = None,
                batch_docs: int = BATCH_DOCS, progress: Progress | None = None,
                models_dir: Path | None = None, full: bool = False) -> BuildReport:
    """Add the documents under ``paths`` (files or directories) to the graph in ``graph_dir``.

    ``store`` defaults to the graph's current backend (``embedded`` for a new graph), ``embedder`` (a loaded
    :class:`Embedder`, a registered name or a model directory) to the one the graph was built with
    (``all-MiniLM-L6-v2`` for a new graph). Changing it re-embeds every stored document. A change to a few
    documents patches the previous view unless ``full`` asks for a rebuild (see :mod:`medkg.pipelines.patch`).
    """
    t0 = time.perf_counter()
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p}: file not found")
    if embedder is not None and not isinstance(embedder, Embedder):
        resolve_embedder(embedder, models_dir)  # a wrong name fails here, before the graph directory is touched
    gd = _open_graph_dir(Path(graph_dir))
    with graph_lock(gd):
        current = gd.peek_manifest() or {}
        loaded = embedder if isinstance(embedder, Embedder) else None
        label = loaded.name if loaded else embedder_label(embedder or current.get("embedder"))
        run = _Run(gd, vocabulary or load_vocabulary("mesh-bundled"), store or current.get("store", "embedded"),
                   store_options or {}, loaded, progress or (lambda stage, done, total: None),
                   embedder_label=label, models_dir=models_dir, full=full, _t=t0)
        run.lap("vocabulary")
        with Ledger(gd.ledger_path) as ledger:
            fingerprint = _prepare(run, ledger)
            known = ledger.known()
            stats = {"added": 0, "replaced": 0, "unchanged": 0}
            seen: set[str] = set()
            todo = _new_or_changed(read_documents([Path(p) for p in paths], tier), known, fingerprint, stats, seen)
            _extract_into(run, ledger, _chain(todo, _outdated(ledger, known, fingerprint, seen, stats)),
                          fingerprint, _default_workers(workers, run.embedder_name == STATIC_EMBEDDER),
                          max(1, batch_docs))
            return _finish(run, ledger, t0, stats)


def delete_documents(ids: Iterable[str], graph_dir: Path | str, *, vocabulary: Vocabulary | None = None,
                     store_options: dict[str, Any] | None = None, full: bool = False) -> tuple[int, BuildReport]:
    """Remove documents and everything derived only from them; returns (removed, report of the new view)."""
    t0 = time.perf_counter()
    gd = GraphDir(Path(graph_dir))
    manifest = gd.read_manifest()
    with graph_lock(gd), Ledger(gd.ledger_path) as ledger:
        run = _Run(gd, vocabulary or load_vocabulary("mesh-bundled"), manifest.get("store", "embedded"),
                   store_options or {}, None, lambda stage, done, total: None,
                   embedder_label=manifest.get("embedder", DEFAULT_EMBEDDER), full=full)
        ids, known = set(ids), ledger.known()
        missing = sorted(ids - set(known))
        pending = manifest.get("ledger_state") != ledger.state()  # an earlier delete or build did not finish
        if missing and not pending:
            raise InputError(f"not in the graph {gd.root}: {', '.join(missing[:10])}")
        if not set(known) - ids:
            raise InputError(f"{gd.root}: deleting {len(ids & set(known))} documents would leave the graph empty; "
                             "remove the directory instead")
        removed = ledger.delete(ids & set(known))
        log.info("removed %d documents from the ledger", removed)
        return removed, _finish(run, ledger, t0, {"added": 0, "replaced": 0, "unchanged": 0})


@contextmanager
def graph_lock(gd: GraphDir) -> Iterator[None]:
    """One build or delete at a time per graph directory (an advisory lock, released if the process dies)."""
    import fcntl

    if not gd.root.is_dir():
        gd.read_manifest()  # raises the clear error: no graph here / a file, not a graph directory
    with open(gd.root / ".lock", "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise InputError(f"{gd.root}: another build or delete is running on this graph; wait for it") from e
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# -- phase 1: the ledger ---------------------------------------------------------------------------------------

def _open_graph_dir(target: Path) -> GraphDir:
    refuse_foreign_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    gd = GraphDir(target)
    if not gd.ledger_path.exists() and gd.manifest_path.exists():
        # a graph of an older format: nothing to resume from, start it again
        log.warning("%s: replacing a graph of an older format (its ledger is missing)", target)
        for name in ("manifest.json", "store.lbug", "lexicon.pkl", "index"):
            p = target / name
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    for debris in target.glob(".*.tmp*"):
        shutil.rmtree(debris, ignore_errors=True) if debris.is_dir() else debris.unlink(missing_ok=True)
    return gd


def _prepare(run: _Run, ledger: Ledger) -> str:
    """Write the lexicon if the vocabulary changed; return the extraction fingerprint."""
    fingerprint = hashlib.sha256(json.dumps(
        {"medkg": __version__, "format": FORMAT_VERSION, "vocabularies": run.vocab.versions,
         "concepts": len(run.vocab.concepts), "embedder": embedder_fingerprint(run.embedder_name),
         "ner": ner_fingerprint(), "rules": EXTRACTION_RULES},
        sort_keys=True).encode()
    ).hexdigest()[:16]
    if ledger.get_meta("fingerprint") != fingerprint or not run.gd.lexicon_path.exists():
        tmp = run.gd.root / ".lexicon.pkl.tmp"
        Lexicon.from_vocabulary(run.vocab).save(tmp)
        os.replace(tmp, run.gd.lexicon_path)
        ledger.set_meta("fingerprint", fingerprint)
        ledger.set_meta("vocabularies", json.dumps(run.vocab.versions, sort_keys=True))
    run.lap("lexicon")
    return fingerprint


def _new_or_changed(docs: Iterable[Document], known: dict[str, tuple[str, str]], fingerprint: str,
                    stats: dict[str, int], seen: set[str]) -> Iterator[Document]:
    for doc in docs:
        if doc.id in seen:
            log.warning("document %s appears twice in the inputs; keeping the first copy", doc.id)
            continue
        seen.add(doc.id)
        old = known.get(doc.id)
        if old == (doc.content_key, fingerprint):
            stats["unchanged"] += 1
            continue
        stats["replaced" if old else "added"] += 1
        yield doc
    if not seen:
        raise InputError("no documents found in the inputs")


def _outdated(ledger: Ledger, known: dict[str, tuple[str, str]], fingerprint: str, seen: set[str],
              stats: dict[str, int]) -> Iterator[Document]:
    """Stored documents extracted under another fingerprint (a new vocabulary, embedder or medkg), from their text.

    Runs after the inputs are read (``seen`` is complete then); documents are loaded a block at a time and
    before their rows are replaced.
    """
    stale = sorted(d for d, (_, fp) in known.items() if fp != fingerprint and d not in seen)
    if stale:
        log.info("re-extracting %d stored documents made with another vocabulary or embedder", len(stale))
    for i in range(0, len(stale), 200):
        docs = [r.document for r in ledger.records(stale[i : i + 200])]
        stats["replaced"] += len(docs)
        yield from docs


def _extract_into(run: _Run, ledger: Ledger, todo: Iterator[Document], fingerprint: str, workers: int,
                  batch_docs: int) -> None:
    """Extract, embed and commit ``todo`` batch by batch."""
    done = 0
    first = next(todo, None)
    if first is None:
        return
    stream = _chain(iter([first]), todo)
    for extracted in extract_batches(batched(stream, batch_docs), run.gd.lexicon_path, workers):
        texts = [g.chunk.text for _, gs in extracted for g in gs]
        vectors = run.get_embedder().encode(texts)
        records, row = [], 0
        for doc, gs in extracted:
            records.append(LedgerRecord(doc, gs, vectors[row : row + len(gs)]))
            row += len(gs)
        ledger.put(records, fingerprint)
        done += len(records)
        run.progress("extract+embed", done, 0)
    run.lap("extract+embed")


def _chain(*parts: Iterator[Document]) -> Iterator[Document]:
    for part in parts:
        yield from part


def _default_workers(workers: int | None, static_embedder: bool) -> int:
    """Extraction processes: one core is left to the transformer embedder; a static one needs none."""
    if workers is not None:
        return max(0, workers)
    return max(1, min(4, (os.cpu_count() or 2) - (0 if static_embedder else 1)))


# -- phase 2: the view -----------------------------------------------------------------------------------------

def _finish(run: _Run, ledger: Ledger, t0: float, stats: dict[str, int]) -> BuildReport:
    gd, state = run.gd, ledger.state()
    if len(ledger) == 0:
        raise InputError(f"{gd.root}: the graph would have no documents left; remove the directory instead")
    current = gd.peek_manifest()
    rebuilt = run.full or not (current and current.get("ledger_state") == state
                               and current.get("store_identity", current.get("store")) == run.store_identity)
    if rebuilt:
        counts, patched = _new_view(run, ledger, state, current)
    else:
        counts, patched = current["counts"], False  # type: ignore[index]
        log.info("nothing changed; the graph is up to date")
    gd.remove_stale_views()
    return BuildReport(graph=gd.root.resolve(), documents=len(ledger), counts=counts,
                       seconds=round(time.perf_counter() - t0, 3), view_rebuilt=rebuilt,
                       view_patched=patched, stage_seconds=run.timings, **stats)


def _new_view(run: _Run, ledger: Ledger, state: str, current: dict[str, Any] | None) -> tuple[dict[str, int], bool]:
    """Write the next view, patched when the change is small (see :mod:`medkg.pipelines.patch`), else in full;
    return its counts and whether it was patched."""
    diff = _patchable(run, ledger, current) if current and not run.full else None
    if diff:
        try:
            return _patch_view(run, ledger, state, diff, current), True  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - whatever failed, the full rebuild below is the safe path
            # the ledger is committed, so a patch that failed would fail again on every later build
            log.warning("patching the view failed (%s: %s); rebuilding it from the ledger", type(e).__name__, e,
                        exc_info=log.isEnabledFor(logging.DEBUG))
    return _write_view(run, ledger, state), False


def _write_view(run: _Run, ledger: Ledger, state: str) -> dict[str, int]:
    gd = run.gd
    dim = run.embedder.dim if run.embedder else 0
    corpus = Corpus.from_ledger(ledger, dim)
    if not dim and len(corpus.vectors):
        dim = int(corpus.vectors.shape[1])
    run.lap("read ledger")
    view = gd.new_view()
    try:
        _link_or_copy(gd.lexicon_path, view / "lexicon.pkl")  # the view keeps the lexicon it was built with
        batch, _ = assemble(corpus, run.vocab, view / "index")
        apply_rewrites(batch.nodes["Summary"], load_rewrites(gd.root / REWRITES_FILE))  # medkg summaries rewrite
        write_document_keys(view / "index", ledger.known())
        run.lap("link+summaries+index")
        with open_store(run.store, view / "store.lbug", read_only=False, create=True, **run.store_options) as st:
            st.replace_contents(batch)
            st.add_chunk_vectors([g.chunk.id for g in corpus.graphs], corpus.vectors)
            counts = st.counts()
        run.lap("store")
    except BaseException:
        shutil.rmtree(view, ignore_errors=True)
        raise
    gd.switch_to(view, _manifest(run, len(corpus.documents), dim, counts, state, "full"))
    return counts


def _patchable(run: _Run, ledger: Ledger, current: dict[str, Any]) -> ViewDiff | None:
    """The change to patch into the current view, or None when the view must be rebuilt."""
    same = (run.store == "embedded" and current.get("store_identity") == run.store_identity
            and current.get("embedder") == run.embedder_name and current.get("vocabularies") == run.vocab.versions)
    diff = view_diff(run.gd.view_dir, ledger.known()) if same else None
    return diff if diff is not None and should_patch(diff, len(ledger)) else None


def _patch_view(run: _Run, ledger: Ledger, state: str, diff: ViewDiff, current: dict[str, Any]) -> dict[str, int]:
    gd, previous = run.gd, run.gd.view_dir
    view = gd.new_view()
    try:
        _link_or_copy(gd.lexicon_path, view / "lexicon.pkl")
        counts = patch_view(previous, view, ledger, diff, run.vocab, load_rewrites(gd.root / REWRITES_FILE))
        run.lap("patch view")
    except BaseException:
        shutil.rmtree(view, ignore_errors=True)
        raise
    gd.switch_to(view, _manifest(run, len(ledger), int(current.get("dim", 0)), counts, state, "patch"))
    return counts


def _manifest(run: _Run, documents: int, dim: int, counts: dict[str, int], state: str, kind: str
              ) -> dict[str, Any]:
    return {
        "medkg_version": __version__, "store": run.store, "store_identity": run.store_identity,
        "embedder": run.embedder_name, "dim": dim, "vocabularies": run.vocab.versions, "documents": documents,
        "counts": counts, "ledger_state": state, "view_kind": kind,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "stage_seconds": run.timings,
    }


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link where the file system allows one (the build replaces ``src`` by rename, never in place)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
