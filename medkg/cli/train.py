"""``medkg train``: training medkg's own models from annotated files."""

from __future__ import annotations

import argparse
from pathlib import Path

from medkg.cli import common
from medkg.errors import MedKGError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    tr = sub.add_parser("train", help="train medkg's models")
    tr_sub = tr.add_subparsers(dest="what", required=True)
    tn = tr_sub.add_parser("ner", help="the chemical/disease NER model, from PubTator files with gold mentions")
    tn.add_argument("files", nargs="+", type=Path, help="PubTator training files (e.g. BC5CDR and NCBI-disease train)")
    tn.add_argument("--out", type=Path, required=True, help="model folder to write")
    tn.add_argument("--max-epochs", type=common.whole(1, 10_000), default=40)
    tn.add_argument("--patience", type=common.whole(1, 10_000), default=6,
                    help="stop after N epochs without a better held-out F1")
    tn.add_argument("--seed", type=common.whole(0, 2**32 - 1), default=0)
    tn.add_argument("--no-lexicon-features", action="store_true",
                    help="do not give the model the bundled MeSH dictionary's matches as a feature")
    tn.set_defaults(func=cmd_train_ner)

    tr_rel = tr_sub.add_parser("relations", help="the typed relation model (INDUCES from PubTator CID lines, "
                                                 "other types from pair-label files)")
    tr_rel.add_argument("files", nargs="+", type=Path,
                        help="PubTator files with gold mentions (and CID lines, e.g. BC5CDR train)")
    tr_rel.add_argument("--out", type=Path, required=True, help="model folder to write")
    tr_rel.add_argument("--labels", action="append", default=[], metavar="TYPE=FILE[:SPLIT]",
                        help="a pair-labels TSV for a relation type, e.g. "
                             "TREATS=bench/relations/treats_labels.tsv:train "
                             "(only the rows of SPLIT, when given)")
    tr_rel.add_argument("--heldout", type=common.number(0, 0.9), default=0.1,
                        help="share of documents kept out of a first model to report held-out figures (0: none)")
    tr_rel.add_argument("--threshold", action="append", default=[], metavar="TYPE=P",
                        help="decision threshold of a type (default: the cross-validated 0.28 for INDUCES, "
                             "0.5 otherwise)")
    tr_rel.add_argument("--priors", action="store_true",
                        help="also learn per-concept priors from the training annotations (for your own corpora; "
                             "the bundled model has none)")
    common.add_vocab_option(tr_rel)
    tr_rel.set_defaults(func=cmd_train_relations)

    trn = tr_sub.add_parser("report-names", help="the names report writers use for findings, learned from reports "
                                                 "coded with MeSH (the IU chest X-ray CSV format)")
    trn.add_argument("file", type=Path, help="coded reports: a CSV with the columns uid, MeSH and the report text")
    trn.add_argument("--out", type=Path, required=True,
                     help="names file to write (the bundled one is pipelines/linking/bundled/report_names.json)")
    trn.add_argument("--part", choices=("all", "tune", "check"), default="all",
                     help="all reports, or one half by uid (tune: uid//4 even, check: odd)")
    trn.add_argument("--min-support", type=common.whole(1, 1_000_000), default=None,
                     help="reports a name must be right in (default 2)")
    trn.add_argument("--min-precision", type=common.number(0, 1), default=None,
                     help="share of the reports it is positive in that must code its concept (default 0.7)")
    common.add_vocab_option(trn)
    trn.set_defaults(func=cmd_train_report_names)


def cmd_train_report_names(args: argparse.Namespace) -> int:
    from medkg.evaluation.reports import coded_reports
    from medkg.ontologies.vocabulary import load_vocabulary
    from medkg.pipelines.linking.report_names import LearnConfig, ReportNames
    from medkg.pipelines.linking.report_names_training import ReportReader, coded_as_from_reports, learn_from_reports

    vocabulary = common.vocabulary(args) or load_vocabulary("mesh-bundled")
    reports = coded_reports(args.file, vocabulary, args.part)
    config = LearnConfig()
    config.min_support = args.min_support or config.min_support
    config.min_precision = config.min_precision if args.min_precision is None else args.min_precision
    reader = ReportReader(vocabulary)
    names = learn_from_reports(reports, vocabulary, config, reader)
    coded_as = coded_as_from_reports(reports, reader, config)
    ReportNames(names, {"file": args.file.name, "part": args.part, "reports": len(reports),
                        "min_support": config.min_support, "min_precision": config.min_precision},
                coded_as).save(args.out)
    for n in names:
        print(f"{n.key:30s} {n.concept_id:14s} right in {n.right}, wrong in {n.wrong}")
    for p in coded_as:
        print(f"{p.concept_id} coded as {p.coded_as}: right in {p.right}, wrong in {p.wrong}")
    print(f"saved {len(names)} names and {len(coded_as)} broader descriptors learned from {len(reports)} reports "
          f"to {args.out}")
    return 0


def cmd_train_ner(args: argparse.Namespace) -> int:
    from medkg.ontologies.vocabulary import load_vocabulary
    from medkg.pipelines.linking.lexicon import Lexicon
    from medkg.pipelines.ner.training import train_ner

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


def _per_type(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        rtype, sep, value = item.partition("=")
        if not sep or not rtype or not value:
            raise MedKGError(f"{what} takes TYPE=VALUE, not {item!r}")
        out[rtype.strip().upper()] = value.strip()
    return out


def cmd_train_relations(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from medkg.ontologies.vocabulary import load_vocabulary
    from medkg.pipelines.relations.classifier import TrainConfig
    from medkg.pipelines.relations.training import DEFAULT_CONFIGS, train_relations

    labels: dict[str, tuple[Path, str | None]] = {}
    for rtype, spec in _per_type(args.labels, "--labels").items():
        path, _, split = spec.partition(":")
        labels[rtype] = (Path(path), split or None)
    thresholds = {t: float(v) for t, v in _per_type(args.threshold, "--threshold").items()}
    configs = {}
    for rtype in {"INDUCES", *labels}:
        base = DEFAULT_CONFIGS.get(rtype, TrainConfig())
        configs[rtype] = replace(base, use_priors=bool(args.priors), threshold=thresholds.get(rtype, base.threshold))

    def progress(rtype: str, scores: dict[str, float]) -> None:
        print(f"{rtype}: held-out P {scores.get('precision', 0):.4f} R {scores.get('recall', 0):.4f} "
              f"F1 {scores.get('f1', 0):.4f} ({scores.get('documents', 0)} documents)", flush=True)

    vocabulary = common.vocabulary(args) or load_vocabulary("mesh-bundled")
    report = train_relations(args.files, args.out, vocabulary, labels=labels,
                             heldout_share=args.heldout, configs=configs, on_type=progress)
    print(f"saved the relation model to {args.out}: " + ", ".join(
        f"{t} ({report.documents[t]} documents, {report.positives[t]} positive pairs)" for t in report.documents)
        + f" [{report.seconds:.0f} s]")
    return 0

