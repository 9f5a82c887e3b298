"""Reader for NLM's MeSH XML as users download it: ``descYYYY.xml`` and ``suppYYYY.xml``.

Both files are read with ``iterparse``, one record at a time, each cleared
once read, so a 300 MB descriptor file costs a few MB of working memory.

Descriptors (``DescriptorRecord``):
    every non-permuted term of every concept becomes a synonym (permuted
    terms such as "A23187, Antibiotic" are inversions our term index already
    generates); the preferred concept's ``ScopeNote`` becomes the definition;
    tree numbers are kept, and a descriptor's parents are the owners of its
    trees' parent numbers (``C14.280.647`` -> whoever owns ``C14.280``). That
    needs the owners first, so descriptor files are read twice: a cheap pass
    that keeps only ``tree number -> UI``, then the real one.

Supplementary concept records (``SupplementalRecord``):
    ``HeadingMappedTo`` descriptors (``*D...`` or ``D...``) become parents,
    which is how NLM's own MeSH RDF relates them; the ``Note`` becomes the
    definition. A supplementary record has no tree numbers, so its semantic
    group comes from its descriptors when both files are loaded together
    (``Vocabulary.semantic_group``).

The MeSH version is the year in the file name (``desc2024.xml`` -> ``2024``).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept, mesh_semantic_group
from medkg.ontologies.mesh import _parent_tree

log = logging.getLogger(__name__)

YEAR_RE = re.compile(r"(19|20)\d\d")


def read_mesh_xml(path: Path) -> Iterator[Concept]:
    """Yield descriptors or supplementary records from one MeSH XML file, or both from a directory."""
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    desc = [f for f in files if _root_tag(f) == "DescriptorRecordSet"]
    supp = [f for f in files if _root_tag(f) == "SupplementalRecordSet"]
    if not desc and not supp:
        raise VocabularyError(f"{path}: no MeSH descriptor or supplementary XML (DescriptorRecordSet, "
                              "SupplementalRecordSet)")
    for f in desc:
        yield from _descriptors(f)
    for f in supp:
        yield from _supplementary(f)


def _root_tag(path: Path) -> str:
    try:
        for _, el in ET.iterparse(path, events=("start",)):
            return el.tag
    except ET.ParseError as e:
        raise VocabularyError(f"{path}: malformed XML ({e})") from e
    except OSError as e:
        raise VocabularyError(f"{path}: cannot read the MeSH file ({e.strerror})") from e
    return ""


def _version(path: Path) -> str:
    m = YEAR_RE.search(path.name)
    return m.group(0) if m else ""


def _records(path: Path, tag: str) -> Iterator[ET.Element]:
    try:
        for _, el in ET.iterparse(path, events=("end",)):
            if el.tag == tag:
                yield el
                el.clear()
    except ET.ParseError as e:
        raise VocabularyError(f"{path}: malformed MeSH XML ({e})") from e


def _terms(record: ET.Element, name: str) -> tuple[str, ...]:
    seen = {name.lower()}
    out = []
    for term in record.iterfind("ConceptList/Concept/TermList/Term"):
        if term.get("IsPermutedTermYN") == "Y":
            continue
        s = (term.findtext("String") or "").strip()
        if s and s.lower() not in seen:
            seen.add(s.lower())
            out.append(s)
    return tuple(out)


def _descriptors(path: Path) -> Iterator[Concept]:
    owner = {(tn.text or "").strip(): rec.findtext("DescriptorUI", "").strip()
             for rec in _records(path, "DescriptorRecord") for tn in rec.iterfind("TreeNumberList/TreeNumber")}
    version, n = _version(path), 0
    for rec in _records(path, "DescriptorRecord"):
        ui = rec.findtext("DescriptorUI", "").strip()
        name = rec.findtext("DescriptorName/String", "").strip()
        if not ui or not name:
            continue
        trees = tuple((t.text or "").strip() for t in rec.iterfind("TreeNumberList/TreeNumber"))
        parents = sorted({f"MESH:{owner[p]}" for p in (_parent_tree(t) for t in trees) if p in owner})
        note = rec.findtext("ConceptList/Concept[@PreferredConceptYN='Y']/ScopeNote") or ""
        n += 1
        yield Concept(id=f"MESH:{ui}", vocab="MESH", name=name, synonyms=_terms(rec, name),
                      semantic_types=(mesh_semantic_group(trees),), definition=" ".join(note.split()),
                      tree_numbers=trees, parents=tuple(parents), vocab_version=version)
    log.info("%s: %d descriptors", path.name, n)


def _supplementary(path: Path) -> Iterator[Concept]:
    version, n = _version(path), 0
    for rec in _records(path, "SupplementalRecord"):
        ui = rec.findtext("SupplementalRecordUI", "").strip()
        name = rec.findtext("SupplementalRecordName/String", "").strip()
        if not ui or not name:
            continue
        heads = [(d.text or "").strip().lstrip("*")
                 for d in rec.iterfind("HeadingMappedToList/HeadingMappedTo/DescriptorReferredTo/DescriptorUI")]
        note = rec.findtext("Note") or ""
        n += 1
        yield Concept(id=f"MESH:{ui}", vocab="MESH", name=name, synonyms=_terms(rec, name),
                      definition=" ".join(note.split()), parents=tuple(f"MESH:{h}" for h in heads if h),
                      vocab_version=version, extra={"record": "supplementary"})
    log.info("%s: %d supplementary records", path.name, n)
