"""``medkg eval``: measuring retrieval, answers and linking on real data (a user's own or public datasets)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg import paths
from medkg.cli import common
from medkg.errors import MedKGError

if TYPE_CHECKING:  # the models load only when a command needs them
    from medkg.ontologies.vocabulary import Vocabulary
    from medkg.pipelines.extractor import Extractor


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="evaluate on real data")
    ev_sub = ev.add_subparsers(dest="what", required=True)
    q = ev_sub.add_parser("qa", help="PubMedQA-style question answering, every mode side by side")
    q.add_argument("--dataset", type=Path, required=True, help="PubMedQA-style JSON (questions and abstracts)")
    q.add_argument("--corpus", type=Path, help="index this file's abstracts instead of the dataset's own")
    q.add_argument("--mode", action="append", help="modes to run (repeat or comma-separate; default all)")
    q.add_argument("--offset", type=common.whole(0, 10_000_000), default=0, help="skip the first N questions")
    q.add_argument("--limit", type=common.whole(0, 10_000_000), default=0, help="only N questions (after --offset)")
    common.add_answer_options(q)
    q.add_argument("--model", default=os.environ.get("MEDKG_LLM_MODEL"), help="model name or .gguf path")
    q.add_argument("--no-llm", action="store_true", help="retrieval metrics only (fast)")
    q.add_argument("--embedder", help="build the corpus graph with this embedder (a name or a directory; default "
                   "all-MiniLM-L6-v2)")
    q.add_argument("--cache", type=Path, help="where corpus graphs are kept (default $XDG_CACHE_HOME/medkg/eval, "
                                              "~/.cache/medkg/eval)")
    q.add_argument("--out", type=Path, help="also write the JSON report here")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q.set_defaults(func=cmd_eval_qa)
    li = ev_sub.add_parser("linking", help="mention finding and concept linking against PubTator gold")
    li.add_argument("--dataset", type=Path, required=True, help="a PubTator file with annotations")
    li.add_argument("--limit", type=common.whole(0, 10_000_000), default=0, help="only the first N documents")
    li.add_argument("--json", action="store_true", help="print the report as JSON")
    li.add_argument("--without", help="switch pipeline steps off to measure what they add (comma-separated): "
                                      "ner, priors (the NER model's match priors), dictionary, tfidf, abbreviations, "
                                      "salts, composites, context")
    li.add_argument("--ner-model", type=Path, help="a model folder from 'medkg train ner' (default: the bundled one)")
    li.add_argument("--dictionary-fills", choices=("auto", "none", "annotated", "priors", "all"), default="auto",
                    help="which dictionary chemicals/diseases the NER model did not find are kept: none, those named "
                         "by a loaded annotated corpus, those plus the kinds the model's match priors count as "
                         "mentions at least 80%% of the time, or all; auto (default): priors when the NER model has "
                         "them, else annotated if such names are loaded, else all")
    common.add_vocab_option(li)
    li.set_defaults(func=cmd_eval_linking)
    rp = ev_sub.add_parser("reports", help="disease findings of clinical reports against coded MeSH findings (the IU "
                                           "chest X-ray CSV format)")
    rp.add_argument("--dataset", type=Path, required=True, help="a CSV with uid, MeSH and report columns")
    rp.add_argument("--part", choices=("all", "tune", "check"), default="all",
                    help="all reports, or one half by uid (tune: uid//4 even, check: odd)")
    rp.add_argument("--limit", type=common.whole(0, 10_000_000), default=0, help="only the first N reports")
    rp.add_argument("--without", help="switch pipeline steps off (comma-separated, as for eval linking)")
    rp.add_argument("--deidentify", action="store_true",
                    help="de-identify each report first, as a build does (to measure what it costs)")
    rp.add_argument("--json", action="store_true", help="print the report as JSON")
    common.add_vocab_option(rp)
    rp.set_defaults(func=cmd_eval_reports)
    re_ = ev_sub.add_parser("relations", help="typed relations against PubTator relation lines (BioCreative V CDR "
                                              "CID: document-level concept pairs)")
    re_.add_argument("--dataset", type=Path, required=True, help="a PubTator file with mentions and CID lines")
    re_.add_argument("--gold-entities", action="store_true",
                     help="relate the annotated mentions (the relation stage alone) instead of medkg's own")
    re_.add_argument("--model", type=Path, help="a folder from 'medkg train relations' (default: the bundled one)")
    re_.add_argument("--limit", type=common.whole(0, 10_000_000), default=0, help="only the first N documents")
    re_.add_argument("--json", action="store_true", help="print the report as JSON")
    common.add_vocab_option(re_)
    re_.set_defaults(func=cmd_eval_relations)


def cmd_eval_qa(args: argparse.Namespace) -> int:
    from medkg.evaluation import qa
    from medkg.pipelines.build import build_graph
    from medkg.queries.settings import MODES, RetrievalSettings

    modes = [m.strip() for chunk in (args.mode or [",".join(MODES)]) for m in chunk.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise MedKGError(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    items = qa.read_items(args.dataset)[args.offset :][: args.limit or None]
    corpus = args.corpus or args.dataset
    cache = args.cache or paths.default_eval_cache()
    if args.embedder:  # a graph per embedder, so comparing two does not re-embed the corpus each time
        cache = cache / Path(args.embedder).name
    gdir = qa.corpus_graph(corpus, cache, lambda paths, target: build_graph(
        paths, target, tier=2, progress=common.Progress(), embedder=args.embedder, models_dir=common.models_dir()))
    documents = qa.load_corpus(corpus)
    with common.open_graph(args, graph=gdir) as graph:
        if not args.no_llm:
            graph.llm  # noqa: B018  (load once, outside the timed loop)
        model = None if args.no_llm else graph.llm.name
        modes_done: dict[str, dict] = {}
        report = {"dataset": str(args.dataset), "corpus": str(corpus), "questions": len(items), "model": model,
                  "modes": modes_done}

        def save(mode: str, metrics: dict) -> None:
            modes_done[mode] = metrics
            if args.out:
                args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")

        settings = RetrievalSettings(**common.retrieval_knobs(args))
        results = qa.evaluate(graph, items, documents, modes, settings=settings,
                              answer_settings=common.answer_settings(args), answer=not args.no_llm,
                              progress=common.Progress(), on_mode=save)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    keys = ["recall@1", "recall@5", "recall@10", "accuracy", "macro_f1", "citation_validity", "abstention_rate",
            "latency_p50_s"]
    print(f"{len(items)} questions, model {model or '(retrieval only)'}")
    print(f"{'mode':10s} " + " ".join(f"{k:>17s}" for k in keys))
    for mode, m in results.items():
        print(f"{mode:10s} " + " ".join(f"{'-' if m[k] is None else m[k]:>17}" for k in keys))
    return 0


def cmd_eval_linking(args: argparse.Namespace) -> int:
    import tempfile

    from medkg.evaluation import linking
    from medkg.ontologies.library import VocabularyLibrary
    from medkg.pipelines.reading import read_gold

    documents, gold = read_gold(args.dataset)
    if args.limit:
        documents = documents[: args.limit]
        keep = {d.id for d in documents}
        gold = [g for g in gold if g.doc_id in keep]
    with tempfile.TemporaryDirectory(prefix="medkg-eval-") as tmp:
        vocab = VocabularyLibrary(args.vocab_dir).vocabulary()
        options = {"ner_dir": args.ner_model} if args.ner_model else {}
        extractor = _extractor(vocab, tmp, without=_without(args), dictionary_fills_ner_groups=args.dictionary_fills,
                               **options)
        mapped = {m for c in vocab.concepts.values() for m in c.mappings}
        report = linking.evaluate(documents, gold, extractor.mentions_many,
                                  lambda cid: vocab.concepts[cid].mappings if cid in vocab.concepts else (),
                                  known=lambda cid: cid in vocab.concepts or cid in mapped)
    out = report.to_dict()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{args.dataset}: {report.documents} documents, {report.gold_mentions} gold mentions, "
          f"{report.predicted_mentions} predicted, {out['docs_per_s']} documents/s")
    print(f"{'level':9s} {'type':9s} {'precision':>9s} {'recall':>7s} {'f1':>7s} {'tp':>6s} {'fp':>6s} {'fn':>6s}")
    for level, by_type in out["levels"].items():
        for etype, m in by_type.items():
            print(f"{level:9s} {etype:9s} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:7.4f} "
                  f"{m['tp']:6d} {m['fp']:6d} {m['fn']:6d}")
    lacking = out["outside_vocabulary"]
    print(f"{lacking['gold_mentions']} gold mentions have ids no loaded vocabulary has (retired or renumbered "
          f"since the corpus was annotated, or never in it); {lacking['span_found']} of them were found with the "
          "right span and count as wrong links")
    return 0


def cmd_eval_relations(args: argparse.Namespace) -> int:
    import tempfile

    from medkg.evaluation import relations
    from medkg.ontologies.library import VocabularyLibrary
    from medkg.pipelines.reading import read_pubtator, read_relations
    from medkg.pipelines.relations.model import RELATION_MODEL_DIR, RelationModel

    model_dir = args.model or RELATION_MODEL_DIR
    if args.gold_entities:
        report = relations.gold_entities(args.dataset, RelationModel.load(model_dir), limit=args.limit)
    else:
        documents = list(read_pubtator(args.dataset))[: args.limit or None]
        keep = {d.id for d in documents}
        gold = [r for r in read_relations(args.dataset) if r.doc_id in keep]
        with tempfile.TemporaryDirectory(prefix="medkg-eval-") as tmp:
            extractor = _extractor(VocabularyLibrary(args.vocab_dir).vocabulary(), tmp, relations_dir=model_dir)
            report = relations.end_to_end(documents, gold, extractor)
    out = report.to_dict()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{args.dataset}: {out['documents']} documents, {out['entities']} entities, {out['docs_per_s']} documents/s")
    print(f"{'type':10s} {'precision':>9s} {'recall':>7s} {'f1':>7s} {'tp':>6s} {'fp':>6s} {'fn':>6s}")
    for rtype, m in [("all", out), *out["types"].items()]:
        print(f"{rtype:10s} {m['precision']:9.4f} {m['recall']:7.4f} {m['f1']:7.4f} {m['tp']:6d} {m['fp']:6d} "
              f"{m['fn']:6d}")
    return 0


def cmd_eval_reports(args: argparse.Namespace) -> int:
    import tempfile

    from medkg.evaluation import reports
    from medkg.ontologies.library import VocabularyLibrary

    vocab = VocabularyLibrary(args.vocab_dir).vocabulary()
    with tempfile.TemporaryDirectory(prefix="medkg-eval-") as tmp:
        extractor = _extractor(vocab, tmp, without=_without(args) | {"relations"})
        prepare = None
        if args.deidentify:
            from medkg.pipelines.deid import Deidentifier, VocabularyTerms

            deid = Deidentifier(medical_terms=VocabularyTerms(vocab))
            prepare = lambda doc: deid.deidentify(doc)[0]  # noqa: E731
        report = reports.evaluate(args.dataset, vocab, lambda texts: extractor.mentions_many(texts, clinical=True),
                                  part=args.part, limit=args.limit, prepare=prepare)
    out = report.to_dict()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{args.dataset} ({args.part}): {out['reports']} reports, {out['normal_reports']} coded normal, "
          f"{out['docs_per_s']} reports/s")
    print(f"recall {out['recall']:.4f}  precision {out['precision']:.4f}  f1 {out['f1']:.4f}  "
          f"normal_fp {out['normal_fp']:.4f}  (tp {out['tp']}, fp {out['fp']}, fn {out['fn']})")
    print(f"{'descriptor':40s} {'found':>6s} {'coded':>6s} {'fp':>5s}")
    for name, m in list(out["descriptors"].items())[:25]:
        print(f"{name[:40]:40s} {m['tp']:6d} {m['tp'] + m['fn']:6d} {m['fp']:5d}")
    return 0


def _without(args: argparse.Namespace) -> frozenset[str]:
    """The pipeline steps ``--without`` switches off."""
    return frozenset(w.strip() for w in (args.without or "").split(",") if w.strip())


def _extractor(vocab: Vocabulary, tmp: str, **options: Any) -> Extractor:
    """An extractor over ``vocab``'s term index, written under ``tmp``: an evaluation builds no graph."""
    from medkg.pipelines.extractor import Extractor
    from medkg.pipelines.linking.lexicon import Lexicon

    lexicon_path = Path(tmp) / "lexicon.pkl"
    Lexicon.from_vocabulary(vocab).save(lexicon_path)
    return Extractor(lexicon_path, **options)
