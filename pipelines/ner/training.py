"""``medkg train ner``: the statistical mention finder, trained on PubTator gold.

The model is spaCy's transition-based ``ner`` with its own small CNN
``tok2vec`` (width 64, depth 2; hashed embeddings of the normalised form,
prefix, suffix and shape; no pretrained word vectors, so nothing but the training files and the
bundled MeSH is needed and the model stays a few MB). It learns the two entity
types the development corpora annotate, ``Chemical`` and ``Disease``, on
spaCy's blank English tokenizer with medkg's extra splits
(:mod:`medkg.pipelines.text.tokenizer`), the same tokenizer the extraction pipeline
runs.

One more embedded feature, ``TAG``, carries the bundled MeSH dictionary's
matches (``B-CHEM:D02``, ``I-DISO:C10+C23``, ``B-OTHER``...; see
:mod:`medkg.pipelines.ner.lexicon_tags`), which the extraction pipeline sets the
same way before the model runs. It stands in for the word vectors the model
lacks: on the held-out tenth it raised F1 from 0.773 to 0.815 (both trained on
spaCy's plain tokenizer and a width-96 CNN; the bundled model, with MeSH
branches in the tags, reaches 0.804).

Two corpora annotate different things. BC5CDR marks chemicals and diseases;
NCBI-disease marks only diseases, so a chemical in an NCBI abstract is
unannotated, not "no entity". Teaching the model that it is "no entity" would
fight the BC5CDR examples. Such tokens are therefore marked *missing* (spaCy's
``-`` tag: no gradient either way): in a file that never uses a type, every
span the vocabulary's dictionary finds for that type's semantic group is
missing rather than outside. Gold spans that do not fall on token boundaries
(about 1% of BC5CDR, e.g. a drug name glued to a suffix) are missing too.

With a vocabulary, training also counts how often each kind of dictionary
match is a gold mention (:mod:`medkg.pipelines.linking.priors`) and saves the
counts beside the model, over all the training files.

Model selection never sees the development splits: a fixed tenth of the
training documents (by a hash of the document id) is held out, the epoch with
the best held-out F1 is kept, and training stops after ``patience`` epochs
without improvement. With the same files, seed and settings, training is
deterministic and reproduces the model byte for byte (a test checks this).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.training import Example, offsets_to_biluo_tags
from spacy.util import compounding, fix_random_seed, minibatch

from medkg.errors import InputError
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.linking.priors import PRIORS_FILE, count_priors
from medkg.pipelines.ner.lexicon_tags import LexiconTagger
from medkg.pipelines.ner.model import MODEL_FORMAT
from medkg.pipelines.reading import read_gold
from medkg.pipelines.text.tokenizer import blank_english

log = logging.getLogger(__name__)

LABELS = ("Chemical", "Disease")
LABEL_GROUPS = {"Chemical": "CHEM", "Disease": "DISO"}


@dataclass
class TrainReport:
    """What ``train_ner`` did, also written to the model folder as ``training.json``."""

    files: list[dict[str, str | int]]
    seed: int
    epochs_run: int
    best_epoch: int
    heldout_documents: int
    train_documents: int
    heldout_scores: dict[str, float]
    seconds: float
    lexicon_features: bool = False
    history: list[dict[str, float]] = field(default_factory=list)
    format: int = MODEL_FORMAT


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _heldout(doc_id: str, fraction: float) -> bool:
    bucket = int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:4], "big") / 2**32
    return bucket < fraction


def examples_from_pubtator(path: Path, nlp: Language, lexicon: Lexicon | None, lexicon_features: bool = False
                           ) -> list[tuple[str, Example]]:
    """``(doc id, Example)`` per document of a PubTator file, with unannotated types marked missing.

    With ``lexicon_features`` the predicted side is tagged by the dictionary as the
    extraction pipeline tags it (:mod:`medkg.pipelines.ner.lexicon_tags`).
    """
    tagger = LexiconTagger(lexicon) if lexicon_features and lexicon is not None else None
    documents, gold = read_gold(path)
    used = {g.type for g in gold}
    unannotated = [LABEL_GROUPS[t] for t in LABELS if t not in used]
    by_doc: dict[str, list[tuple[int, int, str]]] = {}
    for g in gold:
        by_doc.setdefault(g.doc_id, []).append((g.start, g.end, g.type))
    out = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\[W030\]")  # misaligned gold spans become missing
        for d in documents:
            doc = nlp.make_doc(d.text)
            spans = _without_overlaps(by_doc.get(d.id, []))
            tags = offsets_to_biluo_tags(doc, spans, missing="O")  # misaligned spans still come out as "-"
            if unannotated and lexicon is not None:
                _mark_unannotated(doc, tags, lexicon, unannotated)
            example = Example.from_dict(doc, {"entities": tags})
            if tagger is not None:
                tagger(example.predicted)
            out.append((d.id, example))
    return out


def _without_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Gold spans, longest first where two overlap (NCBI nests a few composite mentions)."""
    kept: list[tuple[int, int, str]] = []
    for s in sorted(spans, key=lambda x: (x[0] - x[1], x[0])):
        if all(s[1] <= k[0] or k[1] <= s[0] for k in kept):
            kept.append(s)
    return sorted(kept)


def _mark_unannotated(doc: spacy.tokens.Doc, tags: list[str], lexicon: Lexicon, groups: list[str]) -> None:
    for start, end, cands, _ in lexicon.find(doc.text):
        if not any(lexicon.concepts.get(cid, ("", "", ()))[1] in groups for cid, _ in cands):
            continue
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None and all(tags[i] == "O" for i in range(span.start, span.end)):
            for i in range(span.start, span.end):
                tags[i] = "-"


def ner_config(lexicon_features: bool) -> dict[str, Any]:
    """spaCy's ``ner`` with a CNN tok2vec; ``TAG`` carries the dictionary's matches when ``lexicon_features``."""
    attrs, rows = ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [5000, 1000, 2500, 2500]
    if lexicon_features:
        attrs, rows = attrs + ["TAG"], rows + [512]  # group x MeSH branches x B/I
    # width 64, depth 2 rather than spaCy's 96 and 4: on the dev splits F1 moved by -0.003 (BC5CDR) and +0.002
    # (NCBI-disease) while the front end ran 1.5 times as fast (the CNN is most of the model's time)
    tok2vec = {"@architectures": "spacy.Tok2Vec.v2",
               "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 64, "attrs": attrs, "rows": rows,
                         "include_static_vectors": False},
               "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 64, "depth": 2,
                          "window_size": 1, "maxout_pieces": 3}}
    return {"model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                      "extra_state_tokens": False, "hidden_width": 64, "maxout_pieces": 2, "use_upper": True,
                      "nO": None, "tok2vec": tok2vec}}


def blank_ner(lexicon_features: bool = False) -> Language:
    nlp = blank_english()
    ner: Any = nlp.add_pipe("ner", config=ner_config(lexicon_features))  # spaCy's EntityRecognizer
    for label in LABELS:
        ner.add_label(label)
    return nlp


def train_ner(files: Iterable[Path], out_dir: Path, *, lexicon: Lexicon | None = None, max_epochs: int = 30,
              patience: int = 5, heldout_fraction: float = 0.1, seed: int = 0, dropout: float = 0.15,
              lexicon_features: bool = True,
              on_epoch: Callable[[int, dict[str, float]], None] | None = None) -> TrainReport:
    """Train the NER model on PubTator files and save the best epoch to ``out_dir``."""
    files = [Path(f) for f in files]
    if not files:
        raise InputError("train ner: no training files given")
    t0 = time.perf_counter()
    fix_random_seed(seed)
    if lexicon is None:
        lexicon_features = False  # nothing to take them from (tests train tiny models without a vocabulary)
    nlp = blank_ner(lexicon_features)
    train: list[Example] = []
    heldout: list[Example] = []
    for path in files:
        for doc_id, ex in examples_from_pubtator(path, nlp, lexicon, lexicon_features):
            (heldout if _heldout(doc_id, heldout_fraction) else train).append(ex)
    if not train or not heldout:
        raise InputError(f"train ner: {len(train)} training and {len(heldout)} held-out documents; need both "
                         "(give more documents or change the held-out fraction)")
    optimizer = nlp.initialize(lambda: train)
    rng = random.Random(seed)
    best_f, best_epoch, best_bytes, history = -1.0, 0, b"", []
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        rng.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=compounding(4.0, 16.0, 1.01)):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        with nlp.use_params(optimizer.averages):
            scores = nlp.evaluate(heldout)
            f = float(scores["ents_f"] or 0.0)
            row = {"epoch": epoch, "loss": round(losses.get("ner", 0.0), 2), "heldout_f1": round(f, 4),
                   "heldout_p": round(float(scores["ents_p"] or 0), 4),
                   "heldout_r": round(float(scores["ents_r"] or 0), 4)}
            history.append(row)
            log.info("epoch %d: loss %.1f, held-out F1 %.4f", epoch, row["loss"], f)
            if on_epoch is not None:
                on_epoch(epoch, row)
            if f > best_f:
                best_f, best_epoch, best_bytes = f, epoch, nlp.to_bytes()
        if epoch - best_epoch >= patience:
            break
    nlp.from_bytes(best_bytes)
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    best = history[best_epoch - 1]
    report = TrainReport(
        files=[{"name": p.name, "sha256": _sha256(p), "bytes": p.stat().st_size} for p in files], seed=seed,
        epochs_run=epoch, best_epoch=best_epoch, heldout_documents=len(heldout), train_documents=len(train),
        heldout_scores={k: best[k] for k in ("heldout_f1", "heldout_p", "heldout_r")},
        seconds=round(time.perf_counter() - t0, 1), lexicon_features=lexicon_features, history=history)
    (out_dir / "training.json").write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    if lexicon is not None:
        count_priors(files, lexicon).save(out_dir / PRIORS_FILE)
    return report
