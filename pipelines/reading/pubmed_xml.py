"""PubMed/MEDLINE XML (``PubmedArticleSet``, as E-utilities and the annual baseline ship it), streamed.

The baseline files hold 30,000 articles each (gzipped, ~20 MB); ``iterparse``
reads one ``PubmedArticle`` at a time and clears it, so memory stays flat.
The text is the title, a space, then the abstract parts joined by spaces,
the convention PubTator uses, so offsets agree with PubTator annotations of
the same article. Labelled parts of structured abstracts (BACKGROUND,
RESULTS, ...) become sections. Articles without an abstract are skipped
(a title alone says little and would crowd retrieval); the count is logged.
"""

from __future__ import annotations

import gzip
import logging
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from medkg.errors import InputError
from medkg.kg.records import TIER_LITERATURE, Document, Section

log = logging.getLogger(__name__)


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


def _article(el: ET.Element, path: Path, tier: int | None) -> Document | None:
    pmid = (el.findtext("./MedlineCitation/PMID") or "").strip()
    if not pmid:
        raise InputError(f"{path}: a PubmedArticle without a PMID")
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
    year = el.findtext("./MedlineCitation/Article/Journal/JournalIssue/PubDate/Year") or ""
    return Document(id=f"PMID:{pmid}", text=text, tier=tier or TIER_LITERATURE, kind="abstract", title=title,
                    source=path.name, date=year, pmid=pmid, sections=tuple(sections))


def read_pubmed_xml(path: Path, tier: int | None = None) -> Iterator[Document]:
    """One document per ``PubmedArticle`` that has an abstract."""
    n = skipped = 0
    with _open(path) as f:
        try:
            for _, el in ET.iterparse(f, events=("end",)):
                if el.tag != "PubmedArticle":
                    continue
                doc = _article(el, path, tier)
                el.clear()
                if doc is None:
                    skipped += 1
                    continue
                n += 1
                yield doc
        except ET.ParseError as e:
            raise InputError(f"{path}: malformed XML ({e})") from e
        except (OSError, EOFError, zlib.error) as e:  # a truncated or damaged .gz
            raise InputError(f"{path}: cannot read ({e})") from e
    if skipped:
        log.info("%s: skipped %d articles without an abstract", path, skipped)
    if n == 0:
        raise InputError(f"{path}: no PubmedArticle with an abstract; is this PubMed XML?")
