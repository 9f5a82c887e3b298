"""Split a document into chunks of whole sentences, keeping document offsets.

A chunk is the unit of a meta-graph, of retrieval and of citation, so it must
be short enough to quote (about ``max_chars``) and must never cut a sentence
or cross a section boundary: a citation that starts in METHODS and ends in
RESULTS would misattribute a finding.

Sections come from the reader (PubMedQA labels, PubTator title/abstract) or,
for reports, from heading lines such as ``HISTORY OF PRESENT ILLNESS:``.
"""

from __future__ import annotations

import re

from medkg.kg.records import Chunk, Document, chunk_id
from medkg.pipelines.text.sections import report_sections


def split_sentences(text: str, sentence_starts: list[int]) -> list[tuple[int, int]]:
    """Turn sentence start offsets into trimmed ``(start, end)`` spans, also splitting at blank lines."""
    bounds = sorted(set(sentence_starts) | {m.end() for m in re.finditer(r"\n[ \t]*\n", text)} | {0})
    spans = []
    for i, s in enumerate(bounds):
        e = bounds[i + 1] if i + 1 < len(bounds) else len(text)
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            spans.append((s + lead, e - trail))
    return spans


def chunk_document(doc: Document, sentences: list[tuple[int, int]], max_chars: int = 600) -> list[Chunk]:
    """Greedily pack consecutive sentences of one section into chunks of at most ``max_chars``."""
    sections = doc.sections or (report_sections(doc.text) if doc.kind == "report" else ())

    def section_of(pos: int) -> str:
        for sec in sections:
            if sec.start <= pos < sec.end:
                return sec.label
        return ""

    chunks: list[Chunk] = []
    cur: list[tuple[int, int]] = []
    cur_sec = ""

    def flush() -> None:
        if cur:
            start, end = cur[0][0], cur[-1][1]
            chunks.append(Chunk(id=chunk_id(doc.id, len(chunks)), doc_id=doc.id, tier=doc.tier, ordinal=len(chunks),
                                start=start, end=end, text=doc.text[start:end], section=cur_sec))
            cur.clear()

    for s, e in sentences:
        sec = section_of(s)
        if cur and (sec != cur_sec or e - cur[0][0] > max_chars):
            flush()
        if not cur:
            cur_sec = sec
        cur.append((s, e))
    flush()
    return chunks
