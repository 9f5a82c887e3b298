"""PubMedQA JSON: one abstract per question record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section
from medkg.pipelines.reading.files import read_text


def read_pubmedqa(path: Path, tier: int | None = None) -> Iterator[Document]:
    """PubMedQA JSON (``{pmid: {QUESTION, CONTEXTS, LABELS, ...}}``): one abstract per record.

    The text joins the labelled contexts with blank lines; each label becomes a
    section. PubMedQA keeps no paper titles, so ``title`` holds the question.
    """
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: malformed JSON ({e.msg} at line {e.lineno})") from e
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a JSON object of PubMedQA records keyed by PMID")
    for pmid, rec in data.items():
        contexts = rec.get("CONTEXTS") if isinstance(rec, dict) else None
        if not contexts:
            raise InputError(f"{path}: record {pmid} has no CONTEXTS")
        labels = rec.get("LABELS") or [""] * len(contexts)
        text, sections = "", []
        for label, ctx in zip(labels, contexts):
            if text:
                text += "\n\n"
            sections.append(Section(str(label), len(text), len(text) + len(ctx)))
            text += ctx
        yield Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract",
                       title=str(rec.get("QUESTION", "")), source=path.name, date=str(rec.get("YEAR", "")),
                       pmid=str(pmid), sections=tuple(sections))
