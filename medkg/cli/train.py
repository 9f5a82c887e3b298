"""``medkg train``: training medkg's own models from annotated files."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction) -> None:
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
