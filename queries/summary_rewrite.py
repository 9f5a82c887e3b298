"""The optional LLM rewrite of topic and theme summaries (``medkg summaries rewrite``).

Builds make every summary without an LLM: a topic's text lists its most
frequent concepts and counts its passages ("Topic: Appendicitis; C-Reactive
Protein; ... (12 passages from 4 documents)"). That is enough for retrieval,
which scores tags and embeddings, but it reads poorly where people and the
answer refinement read it. This step asks the local model for one sentence
per summary, from the extractive text and the openings of a few member
passages (a theme: from its topics' texts), under a JSON schema so a small
model cannot run on. A sentence that reports a figure, loops or is cut off is
rejected and the extractive text stays (:func:`acceptable`): a summary is an
index label, and a figure lifted from one passage (or invented) misstates a
topic in a medical graph; a plain list of concepts does not. A model that writes
more than one sentence is held to its first (:func:`first_sentence`).

Rewrites are written into the current view's store and kept in the graph
directory (:data:`medkg.kg.view.summaries.REWRITES_FILE`), keyed by the extractive
text they replace: a later full build puts them back on every topic whose
members are unchanged, and a topic that changed keeps its new extractive text
until it is rewritten again. Larger summaries go first, so ``limit`` spends
the model's time where most passages are.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medkg.errors import OutputCutOffError
from medkg.kg import cypher
from medkg.kg.graphdir import GraphDir
from medkg.kg.store import GraphStore
from medkg.kg.view.summaries import REWRITES_FILE, load_rewrites, text_key
from medkg.pipelines.text.sections import ABBREVIATIONS
from medkg.queries import injection, prompts
from medkg.queries.llm import LocalLLM

log = logging.getLogger(__name__)

SYSTEM = prompts.SUMMARY_SYSTEM
SCHEMA = {"type": "object", "properties": {"summary": {"type": "string", "minLength": 10, "maxLength": 280}},
          "required": ["summary"]}
PASSAGES_PER_TOPIC = 3
_NUMBER = re.compile(r"(?<![A-Za-z\d-])\d+(?:[.,]\d+)?%?")  # a figure, not a digit inside a name (APC2, HbA1c)
PASSAGE_CHARS = 220


@dataclass
class RewriteReport:
    rewritten: int
    rejected: int  # the model's sentence failed the checks; the extractive text stays
    skipped: int  # already rewritten from the same extractive text
    seconds_per_summary: float


def rewrite_summaries(gd: GraphDir, store: GraphStore, llm: LocalLLM, levels: tuple[int, ...] = (1, 2),
                      limit: int | None = None, progress: Callable[[int, int], None] | None = None
                      ) -> RewriteReport:
    """Rewrite the texts of the summaries at ``levels`` (largest first, at most ``limit`` per level)."""
    path = gd.root / REWRITES_FILE
    rewrites = load_rewrites(path)
    done = skipped = rejected = 0
    t0 = time.perf_counter()
    for level in sorted(levels):  # topics before themes: a theme is described from its topics' new texts
        rows = sorted(store.query(cypher.SUMMARIES_AT_LEVEL, {"level": level}), key=lambda r: (-r["size"], r["id"]))
        labels = {v["text"] for v in rewrites.values()}
        todo = [r for r in rows if r["text"] not in labels]
        skipped += len(rows) - len(todo)
        for r in [r for r in todo if text_key(r["text"]) in rewrites]:  # labelled before, e.g. lost by a patch
            store.query(cypher.SET_SUMMARY_TEXT, {"id": r["id"], "text": rewrites[text_key(r["text"])]["text"]})
            skipped += 1
        todo = [r for r in todo if text_key(r["text"]) not in rewrites]
        for i, r in enumerate(todo[:limit]):
            text = _sentence(llm, r["text"], _evidence(store, r["id"], level))
            if text is None:
                rejected += 1
                log.info("kept the extractive text of %s: the model's sentence failed the checks", r["id"])
            else:
                rewrites[text_key(r["text"])] = {"extractive": r["text"], "text": text, "model": llm.name}
                store.query(cypher.SET_SUMMARY_TEXT, {"id": r["id"], "text": text})
                _save(path, rewrites)  # after each: an interrupted run keeps what it made
                done += 1
            if progress:
                progress(i + 1, min(len(todo), limit or len(todo)))
    per = (time.perf_counter() - t0) / (done + rejected) if done + rejected else 0.0
    log.info("rewrote %d summaries (%.1f s each), kept %d extractive, %d already rewritten", done, per, rejected,
             skipped)
    return RewriteReport(rewritten=done, rejected=rejected, skipped=skipped, seconds_per_summary=round(per, 2))


def _evidence(store: GraphStore, summary_id: str, level: int) -> list[str]:
    if level == 1:
        rows = store.query(cypher.PASSAGES_OF_TOPIC, {"id": summary_id, "n": PASSAGES_PER_TOPIC})
    else:
        rows = store.query(cypher.TOPICS_OF_THEME, {"id": summary_id, "n": PASSAGES_PER_TOPIC + 2})
    return [" ".join(str(r["text"]).split())[:PASSAGE_CHARS] for r in rows]


def _sentence(llm: LocalLLM, extractive: str, evidence: list[str]) -> str | None:
    """The model's sentence, or None when it fails the checks of :func:`acceptable`."""
    # passages are data: sentences addressed to the model are quarantined here too (medkg.queries.injection)
    user = prompts.SUMMARY_USER.format(extractive=injection.quarantine(extractive), evidence="".join(
        prompts.SUMMARY_EVIDENCE.format(text=injection.quarantine(e)) for e in evidence))
    try:
        out = llm.generate_json(SYSTEM, user, SCHEMA, max_tokens=128)
    except OutputCutOffError:
        return None  # a sentence that ran past the limit is rejected like any other the checks refuse
    text = first_sentence(" ".join(str(out.data.get("summary", "")).split()))
    return text if acceptable(text, extractive) else None


# a full stop after a word (not an initial or "e.g."), then the capital that opens the next sentence
_SENTENCE_END = re.compile(r"(?<=[a-z\d)\]]{2}\.)\s+(?=[A-Z])")
_ABBREVIATIONS = ABBREVIATIONS | {"al"}  # the clinical splitter's, and "et al." of the literature


def first_sentence(text: str) -> str:
    """The label is one sentence: the first of several, whatever the model wrote after it (small models go on
    until the schema's length limit cuts them off mid-sentence, and the cut one would be rejected)."""
    for m in _SENTENCE_END.finditer(text):
        word = text[: m.start() - 1].rsplit(None, 1)[-1].lower().rstrip(".")
        if word not in _ABBREVIATIONS:
            return text[: m.start()]
    return text


def acceptable(text: str, extractive: str) -> bool:
    """Reject what small models get wrong most.

    - a number that is not part of a concept name of the extractive text: the label must name a subject,
      and a result or figure lifted from one passage (or invented) misstates what a whole topic says;
    - output that loops (fewer than half its words distinct) or was cut off (no closing full stop).
    """
    words = re.findall(r"[a-z]+", text.lower())
    if len(words) < 3 or not text.endswith("."):
        return False
    if len(words) >= 8 and len(set(words)) < 0.5 * len(words):
        return False
    names = extractive.rsplit("(", 1)[0]  # the counts at the end are not concept names
    return set(_NUMBER.findall(text)) <= set(_NUMBER.findall(names))


def _save(path: Path, rewrites: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rewrites, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
