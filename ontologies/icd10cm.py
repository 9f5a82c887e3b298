"""Reader for ICD-10-CM: the CDC/CMS tabular XML (``icd10cm-tabular-*.xml``).

The tabular list nests ``chapter > section > diag > diag ...``; every ``diag``
becomes a concept ``ICD10CM:<code>`` whose parent is the enclosing ``diag``, or
the section (``ICD10CM:A00-A09``) for three-character categories. Inclusion
terms ("Classical cholera" under A00.0) become synonyms: they are the phrases
clinicians write. The file is read with ``iterparse`` and each element is
cleared once read, so memory stays small.

The plain code list (``code-list-*.txt``, one code per line, no names) holds
nothing to link text against, so it is refused with a message that says so.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept

log = logging.getLogger(__name__)


def read_icd10cm(path: Path) -> Iterator[Concept]:
    """Yield sections and diagnosis codes of the tabular XML as ``Concept`` records."""
    if path.suffix.lower() != ".xml":
        raise VocabularyError(f"{path}: ICD-10-CM is read from the tabular XML (icd10cm-tabular-*.xml); "
                              "a code list has no names to link text against")
    version, n = "", 0
    stack: list[str] = []  # enclosing section/diag codes
    try:
        for event, el in ET.iterparse(path, events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == "section":
                    stack = [el.get("id", "")]
                elif tag == "diag":
                    stack.append("")  # the code is known at its <name>, filled in below
                continue
            if tag == "version" and not version:
                version = (el.text or "").strip()
            elif tag == "name" and stack and stack[-1] == "":
                stack[-1] = (el.text or "").strip()
            elif tag == "diag":
                code = stack.pop()
                concept = _diag(el, code, stack[-1] if stack else "", version)
                if concept:
                    n += 1
                    yield concept
                el.clear()
            elif tag == "section":
                sid, desc = el.get("id", ""), (el.findtext("desc") or "").strip()
                if sid and desc:
                    n += 1
                    yield Concept(id=f"ICD10CM:{sid}", vocab="ICD10CM", name=desc, semantic_types=("DISO",),
                                  vocab_version=version, extra={"level": "section"})
                el.clear()
                stack = []
    except ET.ParseError as e:
        raise VocabularyError(f"{path}: malformed ICD-10-CM XML ({e})") from e
    except OSError as e:
        raise VocabularyError(f"{path}: cannot read the ICD-10-CM file ({e.strerror})") from e
    if n == 0:
        raise VocabularyError(f"{path}: no <diag> entries; is this the ICD-10-CM tabular XML?")


def _diag(el: ET.Element, code: str, parent: str, version: str) -> Concept | None:
    desc = (el.findtext("desc") or "").strip()
    if not code or not desc:
        return None
    inclusion = [(n.text or "").strip() for n in el.findall("inclusionTerm/note")]
    synonyms = tuple(dict.fromkeys(s for s in inclusion if s and s.lower() != desc.lower()))
    return Concept(id=f"ICD10CM:{code}", vocab="ICD10CM", name=desc, synonyms=synonyms, semantic_types=("DISO",),
                   parents=(f"ICD10CM:{parent}",) if parent else (), vocab_version=version)
