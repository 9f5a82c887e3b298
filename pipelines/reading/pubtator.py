"""PubTator files: documents, gold mentions and relation lines.

PubTator writes ``PMID|t|title`` and ``PMID|a|abstract`` lines, then one line per
annotated mention (``PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>ids``; end
exclusive; ``-1`` = not linkable; ``|`` joins several ids) and one per relation
(``PMID<TAB>CID<TAB>chemical<TAB>disease``), with a blank line between documents.
The document text is ``title + " " + abstract``, the convention PubTator's own
offsets use, so gold spans index our text directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section
from medkg.ontologies.curie import pubtator_curie
from medkg.pipelines.reading import fields
from medkg.pipelines.reading.fields import FieldError
from medkg.pipelines.reading.files import read_text
from medkg.pipelines.reading.rejects import Item, Reject, strict

log = logging.getLogger(__name__)


def read_pubtator(path: Path, tier: int | None = None) -> Iterator[Document]:
    """The documents of a PubTator file; annotation lines are skipped here (see :func:`read_gold`)."""
    return strict(pubtator_items(path, tier))


def pubtator_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """The documents of a PubTator file, a :class:`Reject` for each one without both its lines or its text."""
    pending: dict[str, int] = {}  # PMID -> line of a title still waiting for its abstract
    titles: dict[str, str] = {}
    found = False
    raw = read_text(path)
    if not raw.strip():
        raise InputError(f"{path}: the file is empty")
    for lineno, line in enumerate(raw.split("\n"), start=1):
        line = line.rstrip("\r")
        kind = "t" if "|t|" in line[:20] else "a" if "|a|" in line[:20] else ""
        if not kind:
            continue
        found = True
        pmid, _, body = line.split("|", 2)
        if not pmid.strip():
            yield Reject(str(path), f"a '|{kind}|' line without a PMID", line=lineno)
        elif kind == "t":
            if pmid in pending:
                yield Reject(str(path), "a title line without an abstract line", line=pending[pmid], record=pmid)
            pending[pmid], titles[pmid] = lineno, body
        elif pmid not in pending:
            yield Reject(str(path), "an abstract line without a title line before it", line=lineno, record=pmid)
        else:
            del pending[pmid]
            yield _document(path, lineno, pmid, titles.pop(pmid), body, tier)
    for pmid, lineno in pending.items():
        yield Reject(str(path), "a title line without an abstract line (a truncated file?)", line=lineno,
                     record=pmid)
    if not found:
        raise InputError(f"{path}: no 'PMID|t|title' lines found; is this a PubTator file?")


def _document(path: Path, lineno: int, pmid: str, title: str, abstract: str, tier: int | None) -> Item:
    text = f"{title} {abstract}"
    if not text.strip():
        return Reject(str(path), "an empty title and abstract", line=lineno, record=pmid)
    try:
        fields.check_length(text)
    except FieldError as e:
        return Reject(str(path), str(e), line=lineno, record=pmid, cause=e)
    sections = (Section("TITLE", 0, len(title)), Section("ABSTRACT", len(title) + 1, len(text)))
    return Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract",
                    title=title, source=path.name, pmid=pmid, sections=sections)


GOLD_TYPES = {"Chemical": "Chemical", "Disease": "Disease", "SpecificDisease": "Disease",
              "DiseaseClass": "Disease", "Modifier": "Disease", "CompositeMention": "Disease"}
GROUP_TYPES = {"DISO": "Disease", "CHEM": "Chemical"}


@dataclass(frozen=True)
class GoldMention:
    """An annotated mention of a PubTator file: document, span, type and concept ids."""

    doc_id: str
    start: int
    end: int
    text: str
    type: str
    ids: frozenset[str]


def read_gold(path: Path) -> tuple[list[Document], list[GoldMention]]:
    """Documents and gold mentions of a PubTator file; relation lines (``CID``) are skipped."""
    documents = list(read_pubtator(path))
    by_id = {d.id: d for d in documents}
    gold: list[GoldMention] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 6:
                continue  # title, abstract, blank and relation lines
            pmid, start, end, text, etype, ids = cols[:6]
            doc = by_id.get(f"PMID:{pmid}")
            try:
                s, e = int(start), int(end)
            except ValueError as err:
                raise InputError(f"{path}:{lineno}: offsets {start!r}, {end!r} are not integers") from err
            if doc is None or doc.text[s:e] != text.strip():  # NCBI-disease pads a few mention texts with spaces
                raise InputError(f"{path}:{lineno}: mention {text!r} is not at {s}-{e} of PMID {pmid}")
            if etype not in GOLD_TYPES:
                continue
            found = frozenset(c for c in (pubtator_curie(i) for i in ids.replace("+", "|").split("|")) if c)
            gold.append(GoldMention(doc.id, s, e, doc.text[s:e], GOLD_TYPES[etype], found))
    if not gold:
        raise InputError(f"{path}: no annotated mentions of a known type ({', '.join(sorted(GOLD_TYPES))})")
    return documents, gold


# PubTator relation types and the graph's relation types: BioCreative V CDR's CID is "chemical induces disease"
RELATION_TYPES = {"CID": "INDUCES", "TREATS": "TREATS"}


@dataclass(frozen=True)
class GoldRelation:
    """A document-level relation of a PubTator file: a type between two concepts (CURIEs)."""

    doc_id: str
    type: str  # a graph relation type (INDUCES for CID lines)
    source: str  # the chemical
    target: str  # the disease


def read_relations(path: Path) -> list[GoldRelation]:
    """The relation lines of a PubTator file (``PMID<TAB>CID<TAB>chemical<TAB>disease``), as graph types.

    Lines of a type medkg does not know are skipped with their count logged; a relation line that names a
    document the file does not hold is an error (it would be counted as a miss of every system).
    """
    known = {d.id for d in read_pubtator(path)}
    out: list[GoldRelation] = []
    skipped: dict[str, int] = {}
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        cols = line.split("\t")
        if len(cols) != 4 or "|" in line[:20]:
            continue  # title, abstract, mention and blank lines
        pmid, kind, a, b = cols
        if kind not in RELATION_TYPES:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        source, target = pubtator_curie(a), pubtator_curie(b)
        if f"PMID:{pmid}" not in known:
            raise InputError(f"{path}:{lineno}: relation for PMID {pmid}, which has no title or abstract here")
        if source and target:
            out.append(GoldRelation(f"PMID:{pmid}", RELATION_TYPES[kind], source, target))
    if skipped:
        log.info("%s: skipped relation lines of unknown types %s", path, skipped)
    return out
