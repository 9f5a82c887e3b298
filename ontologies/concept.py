"""The ``Concept`` record shared by every vocabulary reader.

A concept is keyed by a CURIE (``MESH:D003924``, ``UMLS:C0011860``,
``HP:0001627``). Readers for MeSH, UMLS, OBO and ICD-10-CM all produce this one
record so that the linker, the graph and the RDF view never care where a
concept came from.

MeSH has no semantic types of its own, so :func:`mesh_semantic_group` derives a
coarse group from the top of the tree numbers (``C`` diseases, ``D`` chemicals
and drugs, ...). The names follow the UMLS semantic-group abbreviations
(DISO, CHEM, ANAT, ...) so that UMLS-linked concepts, added later, fall in the
same groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# MeSH tree category letter -> UMLS-style semantic group.
MESH_CATEGORY_GROUPS: dict[str, str] = {
    "A": "ANAT",  # Anatomy
    "B": "LIVB",  # Organisms
    "C": "DISO",  # Diseases
    "D": "CHEM",  # Chemicals and Drugs
    "E": "PROC",  # Analytical, Diagnostic and Therapeutic Techniques
    "F": "DISO",  # Psychiatry and Psychology (F03 mental disorders; F01-F02 behaviour)
    "G": "PHYS",  # Phenomena and Processes
    "H": "CONC",  # Disciplines and Occupations
    "I": "CONC",  # Anthropology, Education, Sociology
    "J": "OBJC",  # Technology, Industry, Agriculture
    "K": "CONC",  # Humanities
    "L": "CONC",  # Information Science
    "M": "LIVB",  # Named Groups (persons)
    "N": "ORGA",  # Health Care
    "V": "CONC",  # Publication Characteristics
    "Z": "GEOG",  # Geographicals
}


@dataclass(frozen=True, slots=True)
class Concept:
    """One concept of a controlled vocabulary.

    ``parents`` holds CURIEs of broader concepts of the same vocabulary (the
    BROADER edges); ``mappings`` holds CURIEs in other vocabularies (MAPS_TO).
    """

    id: str
    vocab: str
    name: str
    synonyms: tuple[str, ...] = ()
    semantic_types: tuple[str, ...] = ()
    definition: str = ""
    tree_numbers: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    mappings: tuple[str, ...] = ()
    vocab_version: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def terms(self) -> tuple[str, ...]:
        """The preferred name followed by every synonym."""
        return (self.name, *self.synonyms)

    @property
    def semantic_group(self) -> str:
        """A coarse group (DISO, CHEM, ...) used for tags and disambiguation."""
        if self.semantic_types:
            return self.semantic_types[0]
        return mesh_semantic_group(self.tree_numbers)

    @property
    def categories(self) -> tuple[str, ...]:
        """MeSH top-level tree branches (``C04``, ``D27``) this concept sits under."""
        return tuple(sorted({t[:3] for t in self.tree_numbers}))


def mesh_semantic_group(tree_numbers: tuple[str, ...] | list[str]) -> str:
    """Map MeSH tree numbers to one semantic group, diseases and chemicals first."""
    letters = {t[0] for t in tree_numbers if t}
    for letter in ("C", "F", "D", "A", "B", "G", "E", "N", "J", "M", "Z", "H", "I", "K", "L", "V"):
        if letter in letters:
            if letter == "F" and not any(t.startswith("F03") for t in tree_numbers):
                return "PHYS"  # behaviour and psychological phenomena, not disorders
            return MESH_CATEGORY_GROUPS[letter]
    return "UNKN"
