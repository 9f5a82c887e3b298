"""The public Python API: ``KnowledgeGraph.open(path)`` and ``graph.ask(question)``.

Opening a graph validates its directory and opens the store and search index;
that is all it does, so it takes a fraction of a second. The embedder, the NLP
pipeline and the LLM load on first use and are kept for later questions.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg.errors import MedKGError, ModelError, QueryError, StoreError
from medkg.kg import cypher
from medkg.kg.graphdir import GraphDir, graph_lock
from medkg.kg.guard import check_cypher
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore, open_store
from medkg.queries import explore, prompts
from medkg.queries.answer import generate_answer
from medkg.queries.baselines import BM25Retriever, FlatRetriever, HybridRetriever, NoRetrieval, VectorRetriever
from medkg.queries.choice import OptionChooser
from medkg.queries.llm import LLMSettings
from medkg.queries.records import Answer, ConceptRef
from medkg.queries.retrieval import QuestionAnalysis, Retrieval, Retriever, approx_tokens
from medkg.queries.scoped import DocumentRetriever, resolve_document
from medkg.queries.settings import MODES, AnswerSettings, RetrievalSettings
from medkg.queries.uretrieve import URetriever

if TYPE_CHECKING:
    from medkg.kg import neo4j_import
    from medkg.pipelines.embedding.embedder import Embedder
    from medkg.pipelines.extractor import Extractor
    from medkg.queries.llm import LocalLLM
    from medkg.queries.uretrieve import URetriever as _URetriever

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
RDF_CACHE = "rdf.nt"  # the N-Triples of a view, written on the first SPARQL query (views never change)


class KnowledgeGraph:
    """An open graph: ask questions with cited answers, explore it with Cypher or SPARQL, read its statistics.

    Open one with :meth:`open` (a built graph directory) and close it when done, or use it as a context
    manager. Opening validates the directory and opens the store and search index, and nothing more; the
    embedder, the extraction pipeline (to read questions) and the LLM load on first use and stay loaded for
    later questions. One instance is not meant for concurrent use from several threads.
    """

    def __init__(self, gd: GraphDir, manifest: dict[str, Any], store: GraphStore, index: SearchIndex, *,
                 llm: LLMSettings, models_dir: Path | None, embedder_path: Path | None,
                 store_options: dict[str, Any] | None = None) -> None:
        self.dir = gd
        self.manifest = manifest
        self.store = store
        self.index = index
        self._llm_settings = llm
        self._models_dir = models_dir
        self._embedder_path = embedder_path
        self._store_options = dict(store_options or {})  # kept to reopen the store on a new view (refresh)
        self._embedder: Embedder | None = None
        self._extractor: Extractor | None = None
        self._llm: LocalLLM | None = None
        self._uretriever: _URetriever | None = None
        self._rdf: Any = None  # the RDF view, loaded on the first SPARQL query
        self._chooser: OptionChooser | None = None  # keeps the content-free option scores between questions
        self._writable = not store.read_only  # open() says: an embedded graph's writes go through writing()

    @classmethod
    def open(cls, path: Path | str, *, write: bool = False, llm: LLMSettings | None = None,
             models_dir: Path | str | None = None, embedder_path: Path | str | None = None,
             store_options: dict[str, Any] | None = None) -> KnowledgeGraph:
        """Open a built graph. ``llm.model`` is a registered model name (``medkg models``) or a .gguf path.

        ``store_options`` are the connection settings of a server backend (``uri``, ``username``,
        ``password``, ``database`` for Neo4j); the embedded store needs none. ``write`` lets :meth:`cypher`
        and :meth:`writing` change the graph; on the embedded store a write works on a copy of the view that
        replaces it when the write commits (:mod:`medkg.kg.view.working`), so the view this graph reads is
        opened read-only either way and other processes may read it meanwhile.
        """
        gd, manifest, store, index = _open_view(Path(path), write, store_options or {})
        graph = cls(gd, manifest, store, index, llm=llm or LLMSettings(),
                    models_dir=Path(models_dir) if models_dir else None,
                    embedder_path=Path(embedder_path) if embedder_path else None, store_options=store_options)
        graph._writable = write
        return graph

    def refresh(self, force: bool = False) -> bool:
        """Move to the graph's current view if a build, delete or write switched it; returns whether it moved.

        The loaded models stay loaded: the embedder unless the graph now names another, the question reader
        unless the vocabulary (hence the view's lexicon) changed, the LLM always. A long-running process
        (``medkg serve``) calls this before each use; one that opened an older view keeps reading that view
        until then (the previous view is kept until the build after). ``force`` reopens the store even on the
        same view, to see what another handle wrote to a server's store (an embedded store's writes make a new
        view), which an open read-only store does not.
        """
        manifest = GraphDir(self.dir.root).read_manifest()
        same = (manifest.get("view"), manifest.get("built_at")) == (self.manifest.get("view"),
                                                                     self.manifest.get("built_at"))
        if same and not force:
            return False
        gd, manifest, store, index = _open_view(self.dir.root, self._writable, self._store_options)
        if not _same_file(self.dir.view_lexicon_path, gd.view_lexicon_path):
            self._extractor = None
        if (manifest.get("embedder"), manifest.get("dim")) != (self.manifest.get("embedder"), self.manifest.get("dim")):
            self._embedder = None
        old, self.store = self.store, store
        self.dir, self.manifest, self.index = gd, manifest, index
        self._uretriever = None
        self._rdf = None
        old.close()
        log.info("moved to %s", manifest.get("view"))
        return True

    @contextmanager
    def writing(self) -> Iterator[GraphStore]:
        """A writable store for statements that change the graph, all of them committed when the block ends.

        On the embedded store they run, under the graph's lock, on a copy of the current view that becomes
        the current view when the block ends without an error, and this graph moves to it; an error, or a
        process killed meanwhile, leaves the graph as it was, and readers never see a write half done
        (:mod:`medkg.kg.view.working`). On a server store they run on the server, as they come. Raises
        :class:`StoreError` on a graph opened read-only, :class:`InputError` while a build or another write
        holds the graph.
        """
        if not self._writable:
            raise StoreError("the graph is open read-only; pass --write to change it")
        if not self.store.read_only:  # a server's store: its transactions are its own
            yield self.store
            return
        from medkg.kg.view.working import WorkingCopy

        with graph_lock(self.dir, "a Cypher write", reentrant=True), WorkingCopy(self.dir) as work:
            reading, self.store = self.store, work.store
            try:
                yield work.store
            finally:
                self.store = reading
            work.commit()
        self.refresh()

    def _writes_by_copy(self, query: str) -> bool:
        """A statement that changes an embedded graph opened for writing: it runs in :meth:`writing`."""
        if not (self._writable and self.store.read_only):
            return False
        check_cypher(query, write=True)  # what no mode allows is refused before anything is copied
        try:
            check_cypher(query)
        except QueryError:
            return True
        return False

    # -- lazily loaded models -------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder the graph's chunks were embedded with (questions must be embedded alike)."""
        if self._embedder is None:
            from medkg.pipelines.embedding.embedder import DEFAULT_EMBEDDER, Embedder

            # the question must be embedded like the chunks were: the manifest names the build's embedder
            spec = self._embedder_path or self.manifest.get("embedder", DEFAULT_EMBEDDER)
            embedder = Embedder.named(spec, self._models_dir)
            built = int(self.manifest.get("dim") or 0)
            if built and embedder.dim != built:
                raise ModelError(f"{self.dir.root}: the graph's chunks were embedded in {built} dimensions by "
                                 f"{self.manifest.get('embedder')}, but {spec} gives {embedder.dim}; "
                                 "rebuild the graph (medkg build) or use the embedder it was built with")
            self._embedder = embedder
        return self._embedder

    @property
    def extractor(self) -> Extractor:
        """The extraction pipeline, with the lexicon the current view was built with, to read questions."""
        if self._extractor is None:
            from medkg.pipelines.extractor import Extractor

            # every dictionary match of a question counts: a one-line question gives the NER model (trained on
            # abstracts) little context, and retrieval wants each concept it names ("acute appendicitis")
            self._extractor = Extractor(self.dir.view_lexicon_path, dictionary_fills_ner_groups="all")
        return self._extractor

    @property
    def llm(self) -> LocalLLM:
        """The local LLM (``LLMSettings.model``, else the default model), loaded on first use."""
        if self._llm is None:
            from medkg.paths import default_models_dir
            from medkg.queries.llm import LocalLLM
            from medkg.queries.models import DEFAULT_MODEL, resolve_model

            st = self._llm_settings
            path = resolve_model(st.model, self._models_dir or default_models_dir(), DEFAULT_MODEL)
            self._llm = LocalLLM(path, n_ctx=st.n_ctx, n_threads=st.n_threads, n_gpu_layers=st.n_gpu_layers)
            self._chooser = OptionChooser(self._llm)
        return self._llm

    # -- questions ----------------------------------------------------------------
    def analyse(self, question: str) -> QuestionAnalysis:
        """Read ``question`` as retrieval does: its (non-negated) concepts, their tags and its embedding."""
        question = _check_question(question)
        lexicon = self.extractor.lexicon
        concepts: dict[str, ConceptRef] = {}
        negated: dict[str, ConceptRef] = {}
        groups: dict[str, str] = {}
        tags: set[str] = set()
        for m in self.extractor.mentions(question):
            cid = m.link.concept_id
            name, group, cats = lexicon.concepts[cid]
            groups[cid] = group
            if m.negated:  # kept out of retrieval's ranking; a question about one report still asks about it
                negated[cid] = ConceptRef(cid, name)
                continue
            concepts[cid] = ConceptRef(cid, name)
            tags |= {cid, f"group:{group}", *(f"tree:{c}" for c in cats)}
        vector = self.embedder.encode([question])[0]
        return QuestionAnalysis(concepts=list(concepts.values()), tags=tags, vector=vector,
                                negated=[c for k, c in negated.items() if k not in concepts], groups=groups)

    def retriever(self, mode: str = "uretrieve", settings: RetrievalSettings | None = None) -> Retriever:
        """The retriever of one mode; all modes share the analysis, budget and prompt."""
        st = (settings or RetrievalSettings()).check()
        count = self._llm.count_tokens if self._llm is not None else approx_tokens
        if mode == "uretrieve":
            if self._uretriever is None or self._uretriever.settings != st:
                self._uretriever = URetriever(self.store, self.index, self.dir.index_dir, st, count)
            return self._uretriever
        flat: dict[str, type[FlatRetriever]] = {"vector": VectorRetriever, "bm25": BM25Retriever,
                                                "hybrid": HybridRetriever}
        if mode in flat:
            return flat[mode](self.store, self.index, st, count)
        if mode == "llm-only":
            return NoRetrieval()
        raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")

    def scoped_retriever(self, document: str, settings: RetrievalSettings | None = None,
                         mode: str = "uretrieve") -> DocumentRetriever:
        """The retriever of a question about one document (:mod:`medkg.queries.scoped`).

        Raises :class:`~medkg.errors.NotFoundError` when ``document`` is not in the graph, and
        :class:`~medkg.errors.QueryError` for a mode other than U-Retrieve (the scope replaces its top-down step).
        """
        st = (settings or RetrievalSettings()).check()
        if mode != "uretrieve":
            raise QueryError(f"a question about one document (document={document!r}) is answered by U-Retrieve; "
                             f"mode {mode!r} cannot be combined with it")
        doc = resolve_document(self.store, document)
        count = self._llm.count_tokens if self._llm is not None else approx_tokens
        return DocumentRetriever(self.store, self.index, doc, st, count)

    def retrieve(self, question: str, settings: RetrievalSettings | None = None, mode: str = "uretrieve",
                 analysis: QuestionAnalysis | None = None, *, document: str | None = None) -> Retrieval:
        """The evidence ``mode`` finds for ``question``, without asking the LLM.

        ``document`` (a document id such as ``report:note-7``) scopes the question to that document: its
        passages, the findings read in them, and the literature its entities REFERENCE.
        """
        retriever = self.retriever(mode, settings) if document is None else self.scoped_retriever(document,
                                                                                                  settings, mode)
        return retriever.retrieve(analysis or self.analyse(question), question.strip())

    def ask(self, question: str, settings: RetrievalSettings | None = None, *, mode: str = "uretrieve",
            options: list[str] | None = None, analysis: QuestionAnalysis | None = None,
            answer_settings: AnswerSettings | None = None,
            on_retrieval: Callable[[Retrieval], None] | None = None, document: str | None = None) -> Answer:
        """Retrieve evidence, ask the LLM (once, plus bounded refinement), return a checked, cited answer.

        ``options`` (e.g. ``["yes", "no", "maybe"]``) constrains the answer to one of them; ``settings``
        tunes retrieval, ``answer_settings`` refinement and option scoring. ``on_retrieval`` is called with
        the evidence before the LLM is (a server streams it while the answer is generated). ``document`` (an
        id such as ``report:note-7``) scopes the question to that document and the literature its entities
        REFERENCE (:mod:`medkg.queries.scoped`); an unknown id raises :class:`~medkg.errors.NotFoundError`
        before any model loads.
        """
        st = (settings or RetrievalSettings()).check()
        ans = (answer_settings or AnswerSettings()).check()
        if options is not None and (not options or any(not str(o).strip() for o in options)):
            raise QueryError("options must be a non-empty list of non-empty strings")
        _check_question(question)
        t0 = time.perf_counter()
        scoped = self.scoped_retriever(document, st, mode) if document is not None else None
        llm = self.llm  # load (or fail on a missing model) before spending time on retrieval
        if scoped is not None:
            scoped.count = llm.count_tokens  # resolved before the model loaded: count with its tokenizer
            retrieval = scoped.retrieve(analysis or self.analyse(question), question.strip())
        else:
            retrieval = self.retrieve(question, st, mode, analysis)
        if on_retrieval is not None:
            on_retrieval(retrieval)
        t1 = time.perf_counter()
        answer = generate_answer(question.strip(), retrieval, llm, self.store, options, ans, self._chooser)
        t2 = time.perf_counter()
        answer.prompt_version = prompts.PROMPT_VERSION
        if retrieval.scope:
            answer.prompt_version += f"+{prompts.DOCUMENT_PROMPT_VERSION}"
        answer.retrieval_path.setdefault("ranking", retrieval.ranking)
        answer.timings = {"retrieve_s": round(t1 - t0, 3), "generate_s": round(t2 - t1, 3),
                          "total_s": round(t2 - t0, 3)}
        return answer

    # -- exploration --------------------------------------------------------------
    def cypher(self, query: str, params: dict[str, Any] | None = None, *,
               timeout_s: float | None = None, max_rows: int | None = None) -> list[dict[str, Any]]:
        """Run Cypher on the store (read-only unless the graph was opened with ``write=True``).

        What a statement may do is checked first (:mod:`medkg.kg.guard`: read clauses only on a read-only
        graph; never files, extensions or engine settings). ``timeout_s`` stops a statement that runs longer
        (a :class:`QueryError`) where the store can cancel one (the embedded store and Neo4j can; ArcadeDB's
        Bolt plugin cannot). ``max_rows``: at most that many rows plus one are returned, so that the caller can
        tell the result was cut (the store never hands over more).
        """
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the Cypher query is empty")
        if max_rows is not None and max_rows < 1:
            raise QueryError(f"the row limit must be 1 or more (got {max_rows})")
        if timeout_s is not None and timeout_s <= 0:
            raise QueryError(f"the time limit must be positive (got {timeout_s:g} s)")
        if self._writes_by_copy(query):
            with self.writing():
                return self.cypher(query, params, timeout_s=timeout_s, max_rows=max_rows)
        check_cypher(query, write=not self.store.read_only)
        if not timeout_s:
            rows = self.store.query(query, params, max_rows=max_rows)
        else:
            t0 = time.perf_counter()
            self.store.set_query_timeout(timeout_s)
            try:
                rows = self.store.query(query, params, max_rows=max_rows)
            except StoreError as e:
                if time.perf_counter() - t0 < timeout_s * 0.9:
                    raise
                raise QueryError(f"the query ran past its time limit of {timeout_s:g} s") from e
            finally:
                self.store.set_query_timeout(None)
        if not self.store.read_only:  # the cached RDF view may no longer match the store
            self._rdf = None
            (self.dir.view_dir / RDF_CACHE).unlink(missing_ok=True)
        return rows

    def documents(self, *, tier: int | None = None, text: str = "", offset: int = 0,
                  limit: int = 50) -> explore.DocumentList:
        """A page of the graph's documents (by tier, then id); ``text`` keeps those whose id or title has it."""
        return explore.list_documents(self.store, tier=tier, text=text, offset=offset, limit=limit)

    def document(self, doc_id: str) -> explore.DocumentView:
        """One document: its text, chunks, entity spans with concept links and flags, and relations (typed
        first). Raises :class:`~medkg.errors.NotFoundError` for an unknown id."""
        return explore.read_document(self.store, self.dir.ledger_path, doc_id)

    def find_concepts(self, text: str, limit: int = 20) -> list[explore.ConceptHit]:
        """Concepts by id, name or synonym (case-insensitive substring), best matches first."""
        return explore.find_concepts(self.store, text, limit)

    def concept(self, concept_id: str) -> explore.ConceptView:
        """One concept: broader, narrower and mapped concepts, mentions and documents per tier, relations, and
        its neighbourhood as nodes and edges. Raises :class:`~medkg.errors.NotFoundError` for an unknown id."""
        return explore.read_concept(self.store, concept_id)

    # -- the RDF view -----------------------------------------------------------
    def export_rdf(self, out: Path | str, fmt: str = "turtle") -> int:
        """Write the RDF view (SKOS, PROV-O, Web Annotation) to ``out``; returns the number of triples."""
        from medkg.kg import rdf

        return rdf.export(self.store, Path(out), fmt)

    def export_neo4j_import(self, out_dir: Path | str, *, compress: bool = False) -> neo4j_import.ImportFiles:
        """Write the graph as ``neo4j-admin database import full`` files into ``out_dir`` (new or empty).

        One header and one or more data files per node label and relationship type (gzipped with
        ``compress``), the constraints to create afterwards (``schema.cypher``) and the command that loads them
        (:mod:`medkg.kg.neo4j_import`). Each ``Document`` carries the sync hash computed from the graph's ledger,
        so that ``medkg build --store neo4j`` on the imported database goes on with ``MERGE`` updates only.
        Raises :class:`~medkg.errors.InputError` for a non-empty ``out_dir``.
        """
        from medkg.kg import neo4j_import

        return neo4j_import.write_import_files(self.store, Path(out_dir), ledger_path=self.dir.ledger_path,
                                               compress=compress)

    def sparql(self, query: str, *, timeout_s: float | None = None, max_rows: int | None = None,
               memory_mb: int | None = None) -> tuple[list[str], list[list[Any]]]:
        """Answer a SPARQL SELECT or ASK query over the RDF view: (column names, rows).

        The query is checked first (no SERVICE, no FROM, no update: :mod:`medkg.kg.sparql`) and runs under a
        memory bound (``memory_mb``, default 2048), a time limit (``timeout_s``, default none) and a row limit
        (at most ``max_rows`` plus one rows are returned, so that the caller can tell the result was cut).
        """
        from medkg.kg import rdf, sparql

        if max_rows is not None and max_rows < 1:
            raise QueryError(f"the row limit must be 1 or more (got {max_rows})")
        if timeout_s is not None and timeout_s <= 0:
            raise QueryError(f"the time limit must be positive (got {timeout_s:g} s)")
        sparql.check_sparql(query)
        if self._rdf is None:
            self._rdf = rdf.load_view(self.store, self.dir.view_dir / RDF_CACHE)
        return sparql.run_bounded(self._rdf, query, timeout_s=timeout_s, max_rows=max_rows,
                                  memory_mb=memory_mb or sparql.MEMORY_MB)

    def stats(self) -> dict[str, Any]:
        """Counts per node and edge type, nodes per tier, sizes on disk, vocabulary versions."""
        by_tier: dict[str, dict[str, int]] = {}
        for table in ("Document", "Chunk", "Entity"):
            rows = self.store.query(cypher.COUNT_BY_TIER.format(table=table))
            by_tier[table] = {str(r["tier"]): int(r["n"]) for r in sorted(rows, key=lambda r: r["tier"])}
        levels = self.store.query(cypher.SUMMARIES_BY_LEVEL)
        view = self.dir.view
        return {"graph": str(self.dir.root), "store": self.manifest.get("store", "embedded"),
                "counts": self.store.counts(), "by_tier": by_tier,
                "summaries_by_level": {str(r["level"]): int(r["n"]) for r in sorted(levels, key=lambda r: r["level"])},
                "view": {"kind": self.manifest.get("view_kind", "full"), "name": self.manifest.get("view")},
                "bytes": {"store": _size(view.store), "index": _size(view.index),
                          "ledger": _size(self.dir.ledger_path)},
                "vocabularies": self.manifest.get("vocabularies", {}), "embedder": self.manifest.get("embedder"),
                "built_at": self.manifest.get("built_at")}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_view(root: Path, write: bool, options: dict[str, Any]
               ) -> tuple[GraphDir, dict[str, Any], GraphStore, SearchIndex]:
    """The current view's store (read-only unless a server's store opened for writing) and search index.

    A build or write may switch the manifest, and remove an old view, between reading the manifest and opening
    the files it names: then the new current view is opened instead.
    """
    for attempt in range(3):
        gd = GraphDir(root)
        manifest = gd.read_manifest()
        backend = manifest.get("store", "embedded")
        try:
            store = open_store(backend, gd.store_path, read_only=not write or backend == "embedded", **options)
            try:
                return gd, manifest, store, SearchIndex.load(gd.index_dir)
            except BaseException:
                store.close()
                raise
        except MedKGError:
            moved = (GraphDir(root).peek_manifest() or {}).get("view") != manifest.get("view")
            if not moved or attempt == 2:
                raise
            log.info("%s: the view changed while it was opened; opening the new one", root)
    raise AssertionError("unreachable")


def _check_question(question: str) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QueryError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QueryError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return question.strip()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # the older view is gone
        return False


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
