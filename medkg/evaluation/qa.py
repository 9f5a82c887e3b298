"""``medkg eval qa``: every retrieval mode on a PubMedQA-style set, side by side.

What is measured, per mode, on the same questions, graph, model and budget:

- ``recall@1/5/10``: the question's source abstract among the top documents
  the mode's retrieval ranked (``None`` for ``llm-only``, which retrieves nothing);
- ``accuracy`` and ``macro_f1`` over yes/no/maybe (answers are constrained to the
  three options; an abstention counts as wrong and belongs to no class);
- ``citation_validity``: the share of citations whose quote is exactly the
  source document's text at the cited span, checked against the documents as
  read from the dataset, not against the store (``None`` when a mode cites nothing);
- ``abstention_rate`` and ``latency_p50_s`` (question analysis + retrieval + LLM).

The question is asked on its own, as a user would ask it: its abstract is not
pasted into the prompt, and retrieval must find it in the index (that is what
recall measures). ``--corpus`` indexes another file's abstracts instead, for
example to measure answers when the source abstract is not in the index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medkg.errors import InputError
from medkg.kg.records import Document
from medkg.pipelines.reading import read_pubmedqa

if TYPE_CHECKING:
    from medkg.queries.api import KnowledgeGraph
    from medkg.queries.settings import AnswerSettings, RetrievalSettings

log = logging.getLogger(__name__)

LABELS = ["yes", "no", "maybe"]


@dataclass(frozen=True)
class QAItem:
    """A PubMedQA-style question with its gold label and the abstract it was asked about."""

    doc_id: str
    question: str
    label: str


@dataclass
class ModeResult:
    """What one retrieval mode got on a question set; ``metrics()`` summarises it."""

    mode: str
    hits: dict[int, list[bool]] = field(default_factory=lambda: {1: [], 5: [], 10: []})
    predictions: list[tuple[str, str]] = field(default_factory=list)  # (gold, predicted)
    citations: int = 0
    valid_citations: int = 0
    abstentions: int = 0
    latencies: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        n = len(self.latencies)
        asked = len(self.predictions)
        return {
            "questions": n,
            **{f"recall@{k}": (round(sum(v) / len(v), 4) if v else None) for k, v in self.hits.items()},
            "accuracy": round(sum(g == p for g, p in self.predictions) / asked, 4) if asked else None,
            "macro_f1": round(macro_f1(self.predictions), 4) if asked else None,
            "citation_validity": round(self.valid_citations / self.citations, 4) if self.citations else None,
            "citations": self.citations,
            "abstention_rate": round(self.abstentions / asked, 4) if asked else None,
            "latency_p50_s": round(statistics.median(self.latencies), 3) if n else None,
        }


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def read_items(path: Path) -> list[QAItem]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"{path}: dataset not found") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a PubMedQA-style JSON file ({e})") from e
    items = []
    for pmid, rec in data.items() if isinstance(data, dict) else []:
        label = str(rec.get("final_decision", "")).lower() if isinstance(rec, dict) else ""
        if label not in LABELS or not rec.get("QUESTION"):
            raise InputError(f"{path}: record {pmid} needs QUESTION and final_decision yes/no/maybe")
        items.append(QAItem(doc_id=f"PMID:{pmid}", question=rec["QUESTION"], label=label))
    if not items:
        raise InputError(f"{path}: no questions found")
    return items


def corpus_graph(corpus: Path, cache_dir: Path, build: Callable[[list[Path], Path], Any]) -> Path:
    """Build (or reuse) the graph of a corpus file, cached by the file's content hash."""
    try:
        digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:16]
    except OSError as e:
        raise InputError(f"{corpus}: cannot read the corpus ({e.strerror})") from e
    target = cache_dir / f"{corpus.stem}-{digest}"
    # builds are idempotent: an up-to-date graph returns at once, one made by another medkg (another NER model,
    # vocabulary or embedder) is re-extracted from its ledger
    log.info("indexing %s into %s", corpus, target)
    build([corpus], target)
    return target


def evaluate(graph: KnowledgeGraph, items: list[QAItem], documents: dict[str, Document], modes: list[str], *,
             settings: RetrievalSettings | None = None, answer_settings: AnswerSettings | None = None,
             answer: bool = True, progress: Callable[[str, int, int], None] | None = None,
             on_mode: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run every mode over ``items`` on an open ``KnowledgeGraph``; return metrics per mode.

    ``on_mode`` is called with each mode's metrics as soon as that mode is done,
    so a long run that is stopped keeps what it measured.
    """
    analyses = {}
    analysis_s = {}
    for it in items:
        t = time.perf_counter()
        analyses[it.question] = graph.analyse(it.question)
        analysis_s[it.question] = time.perf_counter() - t
    results = {}
    for mode in modes:
        res = ModeResult(mode)
        for i, it in enumerate(items, start=1):
            t = time.perf_counter()
            if answer:
                ans = graph.ask(it.question, settings, mode=mode, options=LABELS, analysis=analyses[it.question],
                                answer_settings=answer_settings)
                ranking = ans.retrieval_path.get("ranking", [])
                res.predictions.append((it.label, ans.answer if not ans.abstained else "abstain"))
                res.abstentions += ans.abstained
                for c in ans.citations:
                    res.citations += 1
                    doc = documents.get(c.doc_id)
                    res.valid_citations += doc is not None and doc.text[c.start : c.end] == c.quote
            else:
                ranking = graph.retrieve(it.question, settings, mode, analyses[it.question]).ranking
            res.latencies.append(time.perf_counter() - t + analysis_s[it.question])
            if mode != "llm-only":
                for k in res.hits:
                    res.hits[k].append(it.doc_id in ranking[:k])
            if progress:
                progress(mode, i, len(items))
        results[mode] = res.metrics()
        if on_mode:
            on_mode(mode, results[mode])
    return results


def load_corpus(path: Path) -> dict[str, Document]:
    return {d.id: d for d in read_pubmedqa(path)}
