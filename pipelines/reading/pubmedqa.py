"""PubMedQA JSON: one abstract per question record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section
from medkg.pipelines.reading import fields
from medkg.pipelines.reading.fields import FieldError
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.reading.rejects import Item, Reject, strict


def read_pubmedqa(path: Path, tier: int | None = None) -> Iterator[Document]:
    """PubMedQA JSON (``{pmid: {QUESTION, CONTEXTS, LABELS, ...}}``): one abstract per record.

    The text joins the labelled contexts with blank lines; each label becomes a
    section. PubMedQA keeps no paper titles, so ``title`` holds the question.
    ``CONTEXTS`` must be a non-empty list of strings, ``LABELS`` (if given) a
    list of strings of the same length.
    """
    return strict(pubmedqa_items(path, tier))


def pubmedqa_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """The records of a PubMedQA file as documents, a :class:`Reject` for each invalid one."""
    raw = read_text(path)
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: malformed JSON ({e.msg} at line {e.lineno})") from e
    except RecursionError as e:
        raise InputError(f"{path}: malformed JSON (nested too deeply)") from e
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a JSON object of PubMedQA records keyed by PMID, not "
                         f"{fields.show(data)}")
    for pmid, rec in data.items():
        try:
            yield _record(pmid, rec, path, tier)
        except FieldError as e:
            yield Reject(str(path), str(e), record=pmid or '""', cause=e)


def _record(pmid: str, rec: Any, path: Path, tier: int | None) -> Document:
    fields.string(pmid, "PMID (the record's key)", required=True)
    if not isinstance(rec, dict):
        raise FieldError(f"expected an object with QUESTION and CONTEXTS, not {fields.show(rec)}")
    contexts = rec.get("CONTEXTS")
    if not isinstance(contexts, list) or not contexts:
        raise FieldError(f"'CONTEXTS' must be a non-empty list of strings, not {fields.show(contexts)}")
    contexts = [fields.string(c, f"CONTEXTS[{i}]", required=True) for i, c in enumerate(contexts)]
    labels = rec.get("LABELS")
    if labels is None:
        labels = [""] * len(contexts)
    elif not isinstance(labels, list) or len(labels) != len(contexts):
        raise FieldError(f"'LABELS' must be a list of {len(contexts)} strings, one per context, not "
                         f"{fields.show(labels)}")
    labels = [fields.string(x, f"LABELS[{i}]") for i, x in enumerate(labels)]
    text, sections = "", []
    for label, ctx in zip(labels, contexts):
        if text:
            text += "\n\n"
        sections.append(Section(label, len(text), len(text) + len(ctx)))
        text += ctx
    fields.check_length(text)
    return Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract",
                    title=fields.string(rec.get("QUESTION"), "QUESTION"), source=path.name,
                    date=fields.string(rec.get("YEAR"), "YEAR", allow_int=True), pmid=pmid, sections=tuple(sections))
