"""Vocabulary readers (MeSH XML, OBO, OBO Graphs JSON, ICD-10-CM, UMLS RRF) and the vocabulary library."""

from __future__ import annotations

import shutil

import pytest

from medkg.errors import VocabularyError
from medkg.ontologies.library import VocabularyLibrary
from medkg.ontologies.umls import UMLSFilter
from medkg.ontologies.vocabulary import Vocabulary, read_concepts


def by_id(concepts):
    return {c.id: c for c in concepts}


def test_mesh_xml_descriptors_and_supplementary_records(fixtures):
    vocab = Vocabulary()
    vocab.add(read_concepts("mesh", fixtures / "mesh_xml"))
    calcimycin = vocab.get("MESH:D000001")
    assert calcimycin.name == "Calcimycin"
    assert {"A-23187", "A23187", "Antibiotic A23187"} <= set(calcimycin.synonyms)
    assert "A23187, Antibiotic" not in calcimycin.synonyms  # permuted terms are left to the term index
    assert calcimycin.definition.startswith("An ionophorous, polyether antibiotic")
    assert calcimycin.tree_numbers == ("D03.438.221.173",) and calcimycin.vocab_version == "2015"
    ester = vocab.get("MESH:C900001")
    assert ester.parents == ("MESH:D000001",) and ester.synonyms == ("A23187 methyl ester",)
    assert ester.semantic_group == "UNKN" and vocab.semantic_group("MESH:C900001") == "CHEM"  # from its heading


def test_truncated_mesh_xml_is_named(tmp_path, fixtures):
    bad = tmp_path / "desc2015.xml"
    bad.write_text((fixtures / "mesh_xml" / "desc2015.xml").read_text()[:5000])
    with pytest.raises(VocabularyError, match="desc2015.xml: malformed"):
        list(read_concepts("mesh", bad))


def test_obo_text_format(fixtures):
    c = by_id(read_concepts("obo", fixtures / "doid_4terms.obo"))
    assert set(c) == {"DOID:4", "DOID:9351", "DOID:9352"}  # the obsolete term is skipped
    t2 = c["DOID:9352"]
    assert t2.synonyms == ("NIDDM", "type 2 diabetes")  # RELATED synonyms name other things too often
    assert t2.parents == ("DOID:9351",) and t2.vocab == "DOID" and t2.vocab_version == "2024-01-31"
    assert {"MESH:D003924", "OMIM:125853", "ICD10CM:E11", "SNOMEDCT:44054006"} <= set(t2.mappings)
    assert t2.definition.startswith("A diabetes mellitus that is characterized")
    assert "UMLS:C0011849" in c["DOID:9351"].mappings


def test_obo_graphs_json(fixtures):
    c = by_id(read_concepts("doid", fixtures / "doid_2terms.obographs.json"))
    assert set(c) == {"DOID:9351", "DOID:9352"}
    assert c["DOID:9352"].parents == ("DOID:9351",) and c["DOID:9352"].synonyms == ("NIDDM",)
    assert c["DOID:9351"].mappings == ("MESH:D003920", "UMLS:C0011849")


def test_icd10cm_tabular(fixtures):
    c = by_id(read_concepts("icd10cm", fixtures / "icd10cm_tabular_A00-A01.xml"))
    assert c["ICD10CM:A00-A09"].name == "Intestinal infectious diseases (A00-A09)"
    assert c["ICD10CM:A00"].parents == ("ICD10CM:A00-A09",)
    assert c["ICD10CM:A01.01"].name == "Typhoid meningitis" and c["ICD10CM:A01.01"].parents == ("ICD10CM:A01.0",)
    assert c["ICD10CM:A00.0"].synonyms == ("Classical cholera",) and c["ICD10CM:A00.0"].vocab_version == "2026"


def test_icd10cm_code_list_is_refused(tmp_path):
    codes = tmp_path / "code-list-April-2026.txt"
    codes.write_text("A00\nA000\n")
    with pytest.raises(VocabularyError, match="no names to link text against"):
        list(read_concepts("icd10cm", codes))


def test_umls_rrf_filters_and_relations(fixtures):
    c = by_id(read_concepts("umls", fixtures / "umls_meta"))
    assert "UMLS:C9000003" not in c  # only a French name
    dm = c["UMLS:C9000001"]
    assert dm.name == "Diabetes Mellitus" and dm.synonyms == ("diabetes",)  # obsolete (SUPPRESS=O) row dropped
    t2 = c["UMLS:C9000002"]
    assert t2.parents == ("UMLS:C9000001",)  # C2|PAR|C1: C1 is the parent
    assert t2.semantic_types == ("DISO", "T047") and t2.definition.startswith("A subclass of diabetes")
    assert set(t2.mappings) == {"MESH:D003924", "SNOMEDCT:44054006", "NCIT:C26747"}
    assert c["UMLS:C9000004"].semantic_group == "CHEM" and "RXNORM:6809" in c["UMLS:C9000004"].mappings

    only_mesh = by_id(read_concepts("umls", fixtures / "umls_meta", keep=UMLSFilter(sources=frozenset({"MSH"}))))
    assert only_mesh["UMLS:C9000002"].synonyms == () and set(only_mesh) == {"UMLS:C9000001", "UMLS:C9000002",
                                                                            "UMLS:C9000004"}
    french = by_id(read_concepts("umls", fixtures / "umls_meta", keep=UMLSFilter(languages=frozenset({"FRE"}))))
    assert french["UMLS:C9000003"].name == "Asthme"


def test_umls_out_of_order_rows_are_refused(tmp_path, fixtures):
    shutil.copytree(fixtures / "umls_meta", tmp_path / "META")
    conso = tmp_path / "META" / "MRCONSO.RRF"
    lines = conso.read_text().splitlines(keepends=True)
    conso.write_text("".join(lines[4:] + lines[:4]))
    with pytest.raises(VocabularyError, match="not sorted by CUI"):
        list(read_concepts("umls", tmp_path / "META"))


def test_library_load_is_idempotent_and_failed_loads_keep_what_was_there(tmp_path, fixtures):
    lib = VocabularyLibrary(tmp_path / "vocab")
    (entry,) = lib.load("obo", fixtures / "doid_4terms.obo")
    assert (entry.name, entry.concepts, entry.version) == ("DOID", 3, "2024-01-31")
    lib.load("obo", fixtures / "doid_4terms.obo")
    assert [e.name for e in lib.entries()] == ["DOID"]
    assert len(list(lib.concepts(lib.entries()[0]))) == 3

    broken = tmp_path / "broken.obo"
    broken.write_bytes(b"[Term]\nid: DOID:1\nname: caf\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(VocabularyError, match="broken.obo: not UTF-8"):
        lib.load("obo", broken)
    assert [e.concepts for e in lib.entries()] == [3]
    assert not [p for p in (tmp_path / "vocab").iterdir() if p.name.startswith(".")]  # no temporary files left
