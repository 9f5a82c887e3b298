"""De-identifying a clinical report: identifiers found, replaced, and the document's offsets carried across.

Replacements are **tags** (``[NAME]``, ``[PHONE]``, ``[MRN]``...), not realistic surrogates, with two
exceptions: dates are *shifted* and ages over 89 become ``90+``. Why tags:

- a reader checking a cited span sees at once that something was removed; a made-up name reads as a real one,
  and could by chance be a real patient's;
- a tag is inert for extraction: it names no concept, while a surrogate drawn from a list of names may
  (``Parkinson``, ``Bell``, ``Graves``) and would put a false mention in the graph;
- nothing has to be kept consistent across documents, and nothing is left that looks like the original.

Dates are shifted rather than tagged because the intervals between them carry clinical meaning (onset to
admission, surgery to discharge) and the text still reads as a report; the shift is the same for every date of
a document, is never 0, and comes from an HMAC of the document id under a secret (:mod:`.dates`), so that
re-running a build gives byte-identical text (and the ledger sees an unchanged document) while the shift
cannot be computed without the secret. The secret is ``$MEDKG_DEID_SECRET``, else a random key made once in
medkg's data directory (``deid.key``, readable by its owner only), never in the graph directory, which may be
shared: anyone with the key and a stored date could compute the original.

:class:`DeidReport` holds counts per identifier type and nothing of the text, so it may be logged.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from medkg.kg.records import Document
from medkg.ontologies.concept import Concept
from medkg.paths import data_home
from medkg.pipelines.deid.dates import shift_dates, shift_for
from medkg.pipelines.deid.edits import Edit, Span, apply_edits, remap_sections, resolve_overlaps
from medkg.pipelines.deid.filters import (
    MedicalTerm,
    clip_line,
    find_words,
    keep_model_location,
    keep_model_person,
    keep_pattern_person,
    keep_url,
    name_words,
    propagate_names,
    trim_url,
)

if TYPE_CHECKING:  # Presidio loads on first use
    from presidio_analyzer.nlp_engine import NlpArtifacts

log = logging.getLogger(__name__)

SECRET_ENV = "MEDKG_DEID_SECRET"
AGE_REPLACEMENT = "90+"
MIN_SCORE = 0.3  # Presidio scores; every recogniser medkg configures scores 0.4 or more on its own


@dataclass(frozen=True)
class DeidReport:
    """What de-identifying one document replaced: counts per identifier type, never the strings."""

    doc_id: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{t} {n}" for t, n in sorted(self.counts.items())) or "nothing"


def secret_path() -> Path:
    return data_home() / "deid.key"


def deid_secret() -> bytes:
    """The date-shift secret: ``$MEDKG_DEID_SECRET``, else the key file, made (owner-only) on first use."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env.encode("utf-8")
    path = secret_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
            log.info("made the date-shift key of de-identification: %s (keep it private; set %s to use "
                     "another)", path, SECRET_ENV)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def vocabulary_terms(concepts: Iterable[Concept]) -> frozenset[str]:
    """Every name and synonym (lower-cased) of a :class:`~medkg.ontologies.vocabulary.Vocabulary`."""
    return frozenset(t.lower() for c in concepts for t in c.terms)


class VocabularyTerms(Container[str]):
    """A vocabulary's terms, collected (half a second for the bundled MeSH) when first asked about: a build
    whose inputs hold no report never pays for it."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        self._concepts: Iterable[Concept] | None = concepts
        self._terms: frozenset[str] = frozenset()

    def __contains__(self, term: object) -> bool:
        if self._concepts is not None:
            self._terms, self._concepts = vocabulary_terms(self._concepts), None
        return term in self._terms


@lru_cache(maxsize=1)
def bundled_terms() -> frozenset[str]:
    """The bundled MeSH's terms, loaded once per process: the medical vocabulary when none is given."""
    from medkg.ontologies.vocabulary import load_vocabulary

    return vocabulary_terms(load_vocabulary("mesh-bundled"))


def _merge_dates(spans: list[Span]) -> list[Span]:
    """Overlapping DATE detections as one span (the model's ``the morning of March`` and the pattern's
    ``March 3, 2019``), so that the date found inside is whole."""
    dates = sorted((s for s in spans if s.type == "DATE"), key=lambda s: s.start)
    merged: list[Span] = []
    for s in dates:
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span("DATE", last.start, max(last.end, s.end), last.source)
        else:
            merged.append(s)
    return [s for s in spans if s.type != "DATE"] + merged


class Deidentifier:
    """Finds the identifiers of a text with Presidio (:mod:`.recognizers`) and replaces them.

    ``secret`` keys the date shift (default: :func:`deid_secret`); ``medical_terms`` is the vocabulary whose
    terms the statistical model's names and places must not be (default: the bundled MeSH). The Presidio
    analyzer is loaded on first use and shared by every instance of the process.
    """

    def __init__(self, secret: bytes | str | None = None, *, medical_terms: Container[str] | None = None) -> None:
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._terms = medical_terms

    @property
    def secret(self) -> bytes:
        """The date-shift key, read (or made) when a date first needs shifting: no key for reports without."""
        if self._secret is None:
            self._secret = deid_secret()
        return self._secret

    @property
    def medical(self) -> MedicalTerm:
        if self._terms is None:
            self._terms = bundled_terms()
        return self._terms.__contains__

    def shift_days(self, key: str) -> int:
        return shift_for(self.secret, key)

    def detect(self, text: str, names: Iterable[str] = (), artifacts: NlpArtifacts | None = None) -> list[Span]:
        """The identifiers of ``text``: non-overlapping spans in text order (dates not yet checked to parse).

        ``names`` are name words (lower-cased) already known to be names, found in any case (see
        :meth:`deidentify`, which passes the text's names when it de-identifies the title). ``artifacts``: the
        spaCy reading of ``text`` when :meth:`deidentify_many` already made it in a batch.
        """
        from medkg.pipelines.deid.recognizers import ENTITIES, ENTITY_TYPES, INITIAL_NAME_SOURCE, NER_SOURCE, analyzer

        if not text.strip():
            return []
        medical = self.medical
        spans: list[Span] = []
        for r in analyzer().analyze(text=text, language="en", entities=ENTITIES, nlp_artifacts=artifacts):
            if r.score < MIN_SCORE:
                continue
            source = (r.recognition_metadata or {}).get("recognizer_name", "")
            span = Span(ENTITY_TYPES[r.entity_type], r.start, r.end, source)
            if source == NER_SOURCE and span.type != "DATE":
                span = clip_line(text, span)
                keep = (keep_model_person if span.type == "NAME" else keep_model_location)(text, span, medical)
            elif span.type == "NAME":
                keep = keep_pattern_person(text, span, medical, context_free=source == INITIAL_NAME_SOURCE)
            elif span.type == "URL":
                span = trim_url(text, span)
                keep = keep_url(text, span)
            else:
                keep = True
            if keep:
                spans.append(span)
        spans += propagate_names(text, [s for s in spans if s.type == "NAME"], medical)
        spans += find_words(text, names)
        return resolve_overlaps(_merge_dates(spans))

    def edits(self, text: str, key: str, names: Iterable[str] = ()) -> list[Edit]:
        """The replacements for ``text``, dates shifted by the shift of ``key`` (the document id)."""
        return self._edits(text, key, self.detect(text, names))

    def _edits(self, text: str, key: str, spans: list[Span]) -> list[Edit]:
        out: list[Edit] = []
        for span in spans:
            if span.type == "DATE":
                for start, end, shifted in shift_dates(text[span.start : span.end], self.shift_days(key)):
                    out.append(Edit(span.start + start, span.start + end, shifted, "DATE"))
            elif span.type == "AGE":
                out.append(Edit(span.start, span.end, AGE_REPLACEMENT, "AGE"))
            else:
                out.append(Edit(span.start, span.end, f"[{span.type}]", span.type))
        return out

    def deidentify_text(self, text: str, key: str) -> tuple[str, list[Edit]]:
        """``text`` de-identified, and the edits made (original offsets), for remapping offsets into it."""
        edits = self.edits(text, key)
        return apply_edits(text, edits), edits

    def deidentify_many(self, documents: list[Document], batch_size: int = 32) -> list[tuple[Document, DeidReport]]:
        """:meth:`deidentify` of each document; the spaCy model reads their texts in batches (``nlp.pipe``),
        with the same result (1.1-1.4 times the reports per second of one at a time, ``bench/deid.py``)."""
        from medkg.pipelines.deid.recognizers import analyzer

        texts = [d.text if d.text.strip() else "" for d in documents]
        engine = analyzer().nlp_engine
        artifacts = [a for _, a in engine.process_batch([t for t in texts if t], language="en", batch_size=batch_size)]
        found = iter(artifacts)
        return [self.deidentify(d, next(found) if t else None) for d, t in zip(documents, texts)]

    def deidentify(self, document: Document, artifacts: NlpArtifacts | None = None) -> tuple[Document, DeidReport]:
        """A new Document: text and title de-identified, date shifted, sections remapped onto the new text.

        The title is often a file name (``kowalczyk-marta-2019-03-14``) with no context to recognise a name
        by, so every word of the names found in the text is removed from it too, in any case. ``artifacts``:
        see :meth:`detect`."""
        spans = self.detect(document.text, artifacts=artifacts)
        edits = self._edits(document.text, document.id, spans)
        names = name_words(document.text, [s for s in spans if s.type == "NAME"], self.medical)
        title_edits = self.edits(document.title, document.id, names) if document.title else []
        new = replace(document, text=apply_edits(document.text, edits), title=apply_edits(document.title, title_edits),
                      date=self._shift_field(document.date, document.id),
                      sections=remap_sections(document.sections, edits))
        counts = Counter(e.type for e in (*edits, *title_edits))
        return new, DeidReport(document.id, dict(sorted(counts.items())))

    def _shift_field(self, value: str, key: str) -> str:
        """The document's ``date`` field moved like the dates of its text (a year alone stays)."""
        if not any(c.isdigit() for c in value):
            return value
        return apply_edits(value, [Edit(s, e, new) for s, e, new in shift_dates(value, self.shift_days(key))])
