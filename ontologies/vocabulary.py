"""The in-memory vocabulary and the table of vocabulary readers.

``load_vocabulary(kind, path)`` picks a reader by name, the way the storage
backends are picked: the table below maps a kind to the module and function
that read it, imported only when used. Issue work on UMLS, OBO and ICD-10-CM
adds rows here; nothing else changes.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept

log = logging.getLogger(__name__)

# kind -> (module, function); the function takes a Path (or None for a bundled file).
READERS: dict[str, tuple[str, str]] = {
    "mesh-bundled": ("medkg.ontologies.mesh", "read_compact_mesh"),
    "mesh": ("medkg.ontologies.mesh_xml", "read_mesh_xml"),  # descYYYY.xml / suppYYYY.xml or their directory
    "umls": ("medkg.ontologies.umls", "read_umls"),  # a release's META directory
    "obo": ("medkg.ontologies.obo", "read_obo"),  # .obo, OBO Graphs JSON or a flat JSON term list
    "hpo": ("medkg.ontologies.obo", "read_obo"),
    "mondo": ("medkg.ontologies.obo", "read_obo"),
    "doid": ("medkg.ontologies.obo", "read_obo"),
    "icd10cm": ("medkg.ontologies.icd10cm", "read_icd10cm"),  # the tabular XML
    "pubtator": ("medkg.ontologies.annotated", "read_annotated_names"),  # names from a corpus's gold mentions
}
ANNOTATED = "ANNOTATED"


@dataclass
class Vocabulary:
    """Concepts by CURIE, with the versions of every source they came from."""

    concepts: dict[str, Concept] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # concept id -> names an annotated corpus gave it (``pubtator`` loads): added to the concept, not replacing it
    annotated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # concept id -> names another vocabulary gives it through a one-to-one cross-reference (the bundled DOID
    # names of MeSH descriptors, ``ontologies.crossref``): linked like synonyms, never shown as the concept's own
    crossref_names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, concepts: Iterable[Concept]) -> int:
        n = 0
        for c in concepts:
            if c.vocab.startswith(ANNOTATED):
                self.annotated[c.id] = self.annotated.get(c.id, ()) + c.terms
                if c.id in self.concepts:
                    n += 1
                    self.versions.setdefault(c.vocab, c.vocab_version)
                    continue
            self.concepts[c.id] = c
            if c.vocab_version:
                self.versions.setdefault(c.vocab, c.vocab_version)
            n += 1
        return n

    def get(self, concept_id: str) -> Concept | None:
        return self.concepts.get(concept_id)

    def __len__(self) -> int:
        return len(self.concepts)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts.values())

    def categories(self, concept_id: str) -> tuple[str, ...]:
        """MeSH top-level branches (``C04``) of a concept; supplementary records take their descriptors'."""
        c = self.concepts.get(concept_id)
        if c is None:
            return ()
        if c.tree_numbers:
            return c.categories
        return tuple(sorted({cat for p in c.parents if p in self.concepts for cat in self.concepts[p].categories}))

    def semantic_group(self, concept_id: str) -> str:
        """The concept's own group, or, when it has none (a supplementary record), its parents' commonest."""
        c = self.concepts.get(concept_id)
        if c is None:
            return "UNKN"
        own = c.semantic_group
        if own != "UNKN":
            return own
        found = [self.concepts[p].semantic_group for p in c.parents if p in self.concepts]
        found = [g for g in found if g != "UNKN"]
        return max(sorted(set(found)), key=found.count) if found else "UNKN"

    def ancestors(self, concept_id: str) -> set[str]:
        """Every concept above ``concept_id`` through ``parents`` (itself excluded)."""
        seen: set[str] = set()
        stack = list(self.concepts[concept_id].parents) if concept_id in self.concepts else []
        while stack:
            cid = stack.pop()
            if cid in seen:
                continue
            seen.add(cid)
            c = self.concepts.get(cid)
            if c is not None:
                stack.extend(c.parents)
        return seen


def read_concepts(kind: str, path: Path | None = None, **options: Any) -> Iterator[Concept]:
    """The reader of ``kind`` applied to ``path`` (omitted for bundled kinds), as a stream of concepts."""
    try:
        module_name, func_name = READERS[kind]
    except KeyError as e:
        raise VocabularyError(f"unknown vocabulary kind {kind!r}; known: {', '.join(sorted(READERS))}") from e
    if path is not None and not Path(path).exists():
        raise VocabularyError(f"{path}: no such file or directory (vocabulary kind {kind})")
    reader = getattr(importlib.import_module(module_name), func_name)
    return reader(Path(path), **options) if path is not None else reader(**options)


def load_vocabulary(kind: str = "mesh-bundled", path: Path | None = None) -> Vocabulary:
    """Read one vocabulary by kind; ``path`` may be omitted for bundled kinds.

    The bundled MeSH comes with the names DOID gives its descriptors (:mod:`medkg.ontologies.crossref`).
    """
    vocab = Vocabulary()
    n = vocab.add(read_concepts(kind, path))
    if n == 0:
        raise VocabularyError(f"{kind} vocabulary at {path or 'bundled file'} holds no concepts")
    if kind == "mesh-bundled":
        from medkg.ontologies.crossref import SOURCE, read_crossref_names

        names, version = read_crossref_names()
        vocab.crossref_names = {cid: terms for cid, terms in names.items() if cid in vocab.concepts}
        vocab.versions[f"{SOURCE} names"] = version
    log.info("loaded %d concepts (%s)", n, kind)
    return vocab
