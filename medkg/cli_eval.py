"""``medkg eval`` and ``medkg train``: measuring on real data and training medkg's own models.

Kept apart from :mod:`medkg.cli`, which holds the everyday commands (build, ask, explore); these commands
need the evaluation datasets of ``../shared/data`` or a user's own.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

from medkg import cli
from medkg.errors import MedKGError


def add_eval_and_train(sub: argparse._SubParsersAction, answer_knobs: Callable[[argparse.ArgumentParser], None],
                       vocab_arg: Callable[[argparse.ArgumentParser], None]) -> None:
    ev = sub.add_parser("eval", help="evaluate on real data")
    ev_sub = ev.add_subparsers(dest="what", required=True)
    q = ev_sub.add_parser("qa", help="PubMedQA-style question answering, every mode side by side")
    q.add_argument("--dataset", type=Path, required=True, help="PubMedQA-style JSON (questions and abstracts)")
    q.add_argument("--corpus", type=Path, help="index this file's abstracts instead of the dataset's own")
    q.add_argument("--mode", action="append", help="modes to run (repeat or comma-separate; default all)")
    q.add_argument("--offset", type=int, default=0, help="skip the first N questions")
    q.add_argument("--limit", type=int, default=0, help="only N questions (after --offset)")
    answer_knobs(q)
    q.add_argument("--model", default=os.environ.get("MEDKG_LLM_MODEL"), help="model name or .gguf path")
    q.add_argument("--no-llm", action="store_true", help="retrieval metrics only (fast)")
    q.add_argument("--embedder", help="build the corpus graph with this embedder (a name or a directory; default "
                   "all-MiniLM-L6-v2)")
    q.add_argument("--cache", type=Path, help="where corpus graphs are kept (default ~/.cache/medkg/eval)")
    q.add_argument("--out", type=Path, help="also write the JSON report here")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q.set_defaults(func=cmd_eval_qa)
    li = ev_sub.add_parser("linking", help="mention finding and concept linking against PubTator gold")
    li.add_argument("--dataset", type=Path, required=True, help="a PubTator file with annotations")
    li.add_argument("--limit", type=int, default=0, help="only the first N documents")
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
    vocab_arg(li)
    li.set_defaults(func=cmd_eval_linking)

    tr = sub.add_parser("train", help="train medkg's models")
    tr_sub = tr.add_subparsers(dest="what", required=True)
    tn = tr_sub.add_parser("ner", help="the chemical/disease NER model, from PubTator files with gold mentions")
    tn.add_argument("files", nargs="+", type=Path, help="PubTator training files (e.g. BC5CDR and NCBI-disease train)")
    tn.add_argument("--out", type=Path, required=True, help="model folder to write")
    tn.add_argument("--max-epochs", type=int, default=40)
    tn.add_argument("--patience", type=int, default=6, help="stop after N epochs without a better held-out F1")
    tn.add_argument("--seed", type=int, default=0)
    tn.add_argument("--no-lexicon-features", action="store_true",
                    help="do not give the model the bundled MeSH dictionary's matches as a feature")
    tn.set_defaults(func=cmd_train_ner)


def cmd_eval_qa(args: argparse.Namespace) -> int:
    from medkg.evaluation import qa
    from medkg.pipelines.build import build_graph
    from medkg.queries.api import MODES
    from medkg.queries.context import RetrievalSettings

    modes = [m.strip() for chunk in (args.mode or [",".join(MODES)]) for m in chunk.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise MedKGError(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    items = qa.read_items(args.dataset)[args.offset :][: args.limit or None]
    corpus = args.corpus or args.dataset
    cache = args.cache or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medkg" / "eval"
    if args.embedder:  # a graph per embedder, so comparing two does not re-embed the corpus each time
        cache = cache / Path(args.embedder).name
    gdir = qa.corpus_graph(corpus, cache, lambda paths, target: build_graph(
        paths, target, tier=2, progress=cli._Progress(), embedder=args.embedder, models_dir=cli._models_dir()))
    documents = qa.load_corpus(corpus)
    with cli._open(args, graph=gdir) as graph:
        if not args.no_llm:
            graph.llm  # noqa: B018  (load once, outside the timed loop)
        model = None if args.no_llm else graph.llm.name
        report = {"dataset": str(args.dataset), "corpus": str(corpus), "questions": len(items), "model": model,
                  "modes": {}}

        def save(mode: str, metrics: dict) -> None:
            report["modes"][mode] = metrics
            if args.out:
                args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")

        settings = RetrievalSettings(**cli._answer_knobs(args))
        results = qa.evaluate(graph, items, documents, modes, settings=settings, answer=not args.no_llm,
                              progress=cli._Progress(), on_mode=save)
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
    from medkg.pipelines.lexicon import Lexicon
    from medkg.pipelines.nlp import Extractor

    documents, gold = linking.read_gold(args.dataset)
    if args.limit:
        documents = documents[: args.limit]
        keep = {d.id for d in documents}
        gold = [g for g in gold if g.doc_id in keep]
    with tempfile.TemporaryDirectory(prefix="medkg-eval-") as tmp:
        lexicon_path = Path(tmp) / "lexicon.pkl"
        vocab = VocabularyLibrary(args.vocab_dir).vocabulary()
        Lexicon.from_vocabulary(vocab).save(lexicon_path)
        without = frozenset(w.strip() for w in (args.without or "").split(",") if w.strip())
        options = {"ner_dir": args.ner_model} if args.ner_model else {}
        extractor = Extractor(lexicon_path, without=without, dictionary_fills_ner_groups=args.dictionary_fills,
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


def cmd_train_ner(args: argparse.Namespace) -> int:
    from medkg.ontologies.vocabulary import load_vocabulary
    from medkg.pipelines.lexicon import Lexicon
    from medkg.pipelines.ner_training import train_ner

    # the bundled MeSH tells which chemicals a disease-only corpus left unannotated
    lexicon = Lexicon.from_vocabulary(load_vocabulary(), approximate=False)

    def progress(epoch: int, row: dict[str, float]) -> None:
        print(f"epoch {epoch:2d}  loss {row['loss']:10.1f}  held-out P {row['heldout_p']:.4f} "
              f"R {row['heldout_r']:.4f} F1 {row['heldout_f1']:.4f}", flush=True)

    report = train_ner(args.files, args.out, lexicon=lexicon, max_epochs=args.max_epochs, patience=args.patience,
                       seed=args.seed, lexicon_features=not args.no_lexicon_features, on_epoch=progress)
    print(f"saved the epoch {report.best_epoch} model to {args.out} (held-out F1 "
          f"{report.heldout_scores['heldout_f1']:.4f}; {report.train_documents} training, "
          f"{report.heldout_documents} held-out documents; {report.seconds:.0f} s)")
    return 0
