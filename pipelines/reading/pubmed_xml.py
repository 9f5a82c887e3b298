"""PubMed/MEDLINE XML (``PubmedArticleSet``, as E-utilities and the annual baseline ship it), streamed.

The baseline files hold 30,000 articles each (gzipped, ~20 MB); ``iterparse``
reads one ``PubmedArticle`` at a time and clears it, so memory stays flat.
The text is the title, a space, then the abstract parts joined by spaces,
the convention PubTator uses, so offsets agree with PubTator annotations of
the same article. Labelled parts of structured abstracts (BACKGROUND,
RESULTS, ...) become sections. Articles without an abstract are skipped
(a title alone says little and would crowd retrieval); the count is logged.

The daily update files have the same shape: new and revised ``PubmedArticle``
records (a revised one under the PMID it had), then a ``DeleteCitation``
element listing the PMIDs NLM withdrew. Each of those becomes a
:class:`~medkg.pipelines.reading.rejects.Deletion`, yielded where it stands in
the file; a PMID there that is not a number is a
:class:`~medkg.pipelines.reading.rejects.Reject`. The ``Version`` attribute of
a PMID (NLM's versioned citations: one PMID, versions 1, 2, ...; "all
citations not versioned are version 1") is not part of the document id
(``PMID:<n>`` whatever the version); :func:`pubmed_xml_versions` gives it with
each item, for the build to keep the highest version
(:mod:`medkg.pipelines.updates`).
"""

from __future__ import annotations

import gzip
import logging
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section
from medkg.pipelines.reading import fields
from medkg.pipelines.reading.fields import FieldError
from medkg.pipelines.reading.rejects import Deletion, Item, Reject, strict

log = logging.getLogger(__name__)
_PROLOG_BYTES = 1 << 20  # the DOCTYPE and whatever precedes the root element must fit in this


def _text(el: ET.Element | None) -> str:
    """All text inside an element (titles and abstracts carry inline <i>, <sup> markup)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def _open(path: Path) -> IO[bytes]:
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile is a binary file object
        return open(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from e


def _version(el: ET.Element | None) -> int | None:
    """The ``Version`` attribute of a PMID element: 1 when absent, None when it is not a positive number."""
    raw = (el.get("Version") if el is not None else None) or "1"
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else None


def _article(el: ET.Element, path: Path, tier: int | None, index: int) -> Item | None:
    pmid_el = el.find("./MedlineCitation/PMID")
    pmid = (pmid_el.text or "").strip() if pmid_el is not None else ""
    if not pmid:
        return Reject(str(path), "a PubmedArticle without a PMID", record=f"article {index}")
    if _version(pmid_el) is None:
        raw = pmid_el.get("Version") if pmid_el is not None else None
        return Reject(str(path), f"the PMID's Version attribute {raw!r} is not a positive number",
                      record=f"PMID {pmid}")
    art = el.find("./MedlineCitation/Article")
    title = _text(art.find("ArticleTitle")) if art is not None else ""
    parts = art.findall("./Abstract/AbstractText") if art is not None else []
    if not parts:
        return None
    text, sections = title, [Section("TITLE", 0, len(title))]
    for p in parts:
        body = _text(p)
        if not body:
            continue
        text += " "
        sections.append(Section(p.get("Label") or "ABSTRACT", len(text), len(text) + len(body)))
        text += body
    try:
        fields.check_length(text)
    except FieldError as e:
        return Reject(str(path), str(e), record=f"PMID {pmid}", cause=e)
    year = el.findtext("./MedlineCitation/Article/Journal/JournalIssue/PubDate/Year") or ""
    return Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract", title=title,
                    source=path.name, date=year, pmid=pmid, sections=tuple(sections))


def read_pubmed_xml(path: Path, tier: int | None = None) -> Iterator[Document]:
    """One document per ``PubmedArticle`` that has an abstract (a ``DeleteCitation`` list is left out; see
    :func:`pubmed_xml_items` for it)."""
    return strict(pubmed_xml_items(path, tier))


def pubmed_xml_items(path: Path, tier: int | None = None) -> Iterator[Item]:
    """The articles of a PubMed XML file and its deletions, in file order; a :class:`Reject` for an article
    without a PMID or a deleted PMID that is not a number, and one for the file where it stops being
    well-formed XML (the items before that point are kept)."""
    for item, _ in pubmed_xml_versions(path, tier):
        yield item


def pubmed_xml_versions(path: Path, tier: int | None = None) -> Iterator[tuple[Item, int]]:
    """:func:`pubmed_xml_items`, each with the ``Version`` of its PMID (1 for a reject)."""
    n = skipped = rejected = deleted = 0
    with _open(path) as f:
        try:
            _refuse_entities(f, path)
            for _, el in ET.iterparse(f, events=("end",)):
                if el.tag == "DeleteCitation":
                    for gone in _deletions(el, path):
                        deleted += isinstance(gone, Deletion)
                        rejected += isinstance(gone, Reject)
                        yield gone, gone.version if isinstance(gone, Deletion) else 1
                    el.clear()
                    continue
                if el.tag != "PubmedArticle":
                    continue
                item = _article(el, path, tier, n + skipped + rejected + 1)
                version = _version(el.find("./MedlineCitation/PMID")) or 1
                el.clear()
                if item is None:
                    skipped += 1
                    continue
                n += isinstance(item, Document)
                rejected += isinstance(item, Reject)
                yield item, version
        except ET.ParseError as e:
            line, column = e.position
            yield Reject(str(path), f"malformed XML ({str(e).split(': line ')[0]} at column {column}){_kept(n)}",
                         line=line, cause=e), 1
            return
        except (OSError, EOFError, zlib.error) as e:  # a truncated or damaged .gz
            raise InputError(f"{path}: cannot read ({e}){_kept(n)}") from e
    if skipped:
        log.info("%s: skipped %d articles without an abstract", path, skipped)
    if deleted:
        log.info("%s: %d deleted citations listed", path, deleted)
    if n == 0 and not rejected and not deleted:
        raise InputError(f"{path}: no PubmedArticle with an abstract; is this PubMed XML?")


def _kept(n: int) -> str:
    return f"; the {n} articles before it were read" if n else ""


def _deletions(el: ET.Element, path: Path) -> Iterator[Deletion | Reject]:
    """The PMIDs of a ``DeleteCitation`` element, as deletions; a reject for each one that is not a number."""
    for i, pmid_el in enumerate(el.iter("PMID"), start=1):
        pmid, version = (pmid_el.text or "").strip(), _version(pmid_el)
        if not (pmid.isascii() and pmid.isdigit()):
            yield Reject(str(path), f"DeleteCitation PMID {pmid!r} is not a number",
                         record=f"DeleteCitation PMID {i}")
        elif version is None:
            yield Reject(str(path), f"DeleteCitation PMID {pmid}: the Version attribute "
                         f"{pmid_el.get('Version')!r} is not a positive number", record=f"PMID {pmid}")
        else:
            yield Deletion(f"PMID:{pmid}", str(path), version)


def _refuse_entities(f: IO[bytes], path: Path) -> None:
    """Refuse a file whose DTD declares entities, then rewind it.

    PubMed XML never declares an entity; a declaration is how an entity-expansion bomb ("billion laughs") or
    an external entity (XXE: ``<!ENTITY x SYSTEM "file:///etc/passwd">``) is written. Expat would stop a bomb
    (after seconds) and never read an external entity, but refusing the declaration up front is both faster
    and clearer.
    """
    head = f.read(_PROLOG_BYTES)
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head[: root.start()] if root else head
    if b"<!ENTITY" in prolog:
        raise InputError(f"{path}: the XML declares entities (<!ENTITY ...>), which PubMed XML never does; "
                         "refused (an entity-expansion bomb or an external entity)")
    if root is None and len(head) == _PROLOG_BYTES and b"<!DOCTYPE" in prolog:
        raise InputError(f"{path}: the XML's DOCTYPE is over {_PROLOG_BYTES:,} bytes long; refused")
    f.seek(0)
