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

from medkg.kg.records import TIER_REPORT, Document
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

__all__ = ["Deidentifier", "DeidReport", "deidentify_reports", "deid_secret", "vocabulary_terms", "VocabularyTerms",
           "bundled_terms",
           "Edit", "Span", "apply_edits", "remap_offset", "remap_sections", "SECRET_ENV"]


def deidentify_reports(docs: Iterable[Document], *, medical_terms: Container[str] | None = None,
                       deidentifier: Deidentifier | None = None) -> Iterator[Document]:
    """``docs`` with every tier-1 document de-identified; other tiers pass as they are.

    The analyzer is loaded only when the first report comes. Logs per-type counts (never text) when done.
    """
    deid = deidentifier
    totals: Counter[str] = Counter()
    reports = 0
    for doc in docs:
        if doc.tier != TIER_REPORT:
            yield doc
            continue
        if deid is None:
            deid = Deidentifier(medical_terms=medical_terms)
        new, report = deid.deidentify(doc)
        reports += 1
        totals.update(report.counts)
        log.debug("de-identified %s: %s", doc.id, report.summary())
        yield new
    if reports:
        log.info("de-identified %d reports: %s", reports,
                 ", ".join(f"{t} {n}" for t, n in sorted(totals.items())) or "no identifiers found")
