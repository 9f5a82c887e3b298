"""De-identification of clinical reports (tier 1) before anything is stored.

``build_graph`` passes every tier-1 document through :func:`deidentify_reports` right after reading it, so the
ledger, the store, the search index, the RDF export and the logs only ever see the de-identified text, and
every offset (sections, chunks, mentions, citations) indexes that text. See ``docs/deidentification.md``.

- :mod:`.recognizers`: the Presidio analyzer (spaCy ``en_core_web_sm`` and pattern recognisers), nothing
  downloaded;
- :mod:`.filters`: which of the statistical model's names and places to believe;
- :mod:`.dates`: per-document date shifting that keeps each date's format;
- :mod:`.edits`: applying replacements and carrying offsets across;
- :mod:`.deidentifier`: :class:`Deidentifier`, which puts them together.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Container, Iterable, Iterator
from pathlib import Path

from medkg.kg.records import TIER_REPORT, Document
from medkg.pipelines.deid.cache import CACHE_FILE, DeidCache
from medkg.pipelines.deid.deidentifier import (
    SECRET_ENV,
    Deidentifier,
    DeidReport,
    VocabularyTerms,
    bundled_terms,
    deid_secret,
    vocabulary_terms,
)
from medkg.pipelines.deid.edits import Edit, Span, apply_edits, remap_offset, remap_sections

log = logging.getLogger(__name__)

BATCH = 32  # reports the spaCy model reads at once

__all__ = ["Deidentifier", "DeidReport", "deidentify_reports", "deid_secret", "vocabulary_terms", "VocabularyTerms",
           "bundled_terms",
           "Edit", "Span", "apply_edits", "remap_offset", "remap_sections", "SECRET_ENV", "CACHE_FILE", "DeidCache"]


def deidentify_reports(docs: Iterable[Document], *, medical_terms: Container[str] | None = None,
                       deidentifier: Deidentifier | None = None, cache: Path | None = None,
                       cache_context: str = "") -> Iterator[Document]:
    """``docs`` with every tier-1 document de-identified; other tiers pass as they are.

    The analyzer is loaded only when the first report comes that ``cache`` (a :class:`~.cache.DeidCache` file;
    ``cache_context`` names what else the result depends on, such as the vocabulary) does not hold. Logs
    per-type counts (never text) when done.
    """
    deid = deidentifier
    totals: Counter[str] = Counter()
    reports = 0
    pending: list[Document] = []  # documents in reading order, held until BATCH reports are among them

    remembered: DeidCache | None = None

    def flush() -> Iterator[Document]:
        nonlocal deid, reports, remembered
        at = [i for i, d in enumerate(pending) if d.tier == TIER_REPORT]
        if at and deid is None:
            deid = Deidentifier(medical_terms=medical_terms)
        if at and cache is not None and remembered is None:
            assert deid is not None
            remembered = DeidCache(cache, deid.secret, cache_context)
        results = {i: remembered.get(pending[i]) if remembered is not None else None for i in at}
        fresh = [i for i, hit in results.items() if hit is None]
        if fresh:
            assert deid is not None
            for i, made in zip(fresh, deid.deidentify_many([pending[i] for i in fresh])):
                results[i] = made
                if remembered is not None:
                    remembered.put(pending[i], *made)
        for i, doc in enumerate(pending):
            if doc.tier != TIER_REPORT:
                yield doc
                continue
            new, report = results[i]  # type: ignore[misc]
            reports += 1
            totals.update(report.counts)
            log.debug("de-identified %s: %s", doc.id, report.summary())
            yield new
        if remembered is not None:
            remembered.commit()
        pending.clear()

    for doc in docs:
        pending.append(doc)
        if doc.tier == TIER_REPORT and sum(d.tier == TIER_REPORT for d in pending) >= BATCH:
            yield from flush()
        elif doc.tier != TIER_REPORT and len(pending) == 1:
            yield from flush()  # nothing waits: pass it on at once
    yield from flush()
    if remembered is not None:
        remembered.close()
        log.info("de-identification: %d of %d reports as before (%s)", remembered.hits, reports, cache)
    if reports:
        log.info("de-identified %d reports: %s", reports,
                 ", ".join(f"{t} {n}" for t, n in sorted(totals.items())) or "no identifiers found")
