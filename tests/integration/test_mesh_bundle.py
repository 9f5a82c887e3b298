from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from medkg.errors import VocabularyError
from medkg.ontologies.mesh import read_compact_mesh
from medkg.ontologies.vocabulary import load_vocabulary


@pytest.fixture(scope="module")
def mesh():
    return load_vocabulary("mesh-bundled")


def test_bundled_mesh_has_descriptors_supplementary_records_and_version(mesh) -> None:
    assert len(mesh) > 250_000
    t2d = mesh.get("MESH:D003924")
    assert t2d.name == "Diabetes Mellitus, Type 2"
    assert "Type 2 Diabetes" in t2d.synonyms
    assert t2d.semantic_group == "DISO"
    assert "MESH:D003920" in t2d.parents  # C18.452.394.750.149 -> C18.452.394.750
    assert "2024" in mesh.versions["MESH"]


def test_supplementary_records_inherit_group_from_their_descriptor(mesh) -> None:
    scr = mesh.get("MESH:C000002")  # bevonium, mapped to a chemical descriptor
    assert scr.parents == ("MESH:D001561",)
    assert scr.semantic_group == "CHEM"
    assert mesh.categories("MESH:C000002")  # branches come from the mapped descriptor


def test_ancestors_walk_the_hierarchy(mesh) -> None:
    up = mesh.ancestors("MESH:D003924")
    assert {"MESH:D003920", "MESH:D004700"} <= up  # diabetes mellitus, endocrine system diseases


def test_bad_vocabulary_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="not found"):
        list(read_compact_mesh(tmp_path / "missing.tsv.gz"))
    bad = tmp_path / "bad.tsv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(VocabularyError, match="bad.tsv.gz: cannot read"):
        list(read_compact_mesh(bad))
    short = tmp_path / "short.tsv.gz"
    with gzip.open(short, "wt", encoding="utf-8") as f:
        f.write("#medkg-mesh-compact\t1\nD1\tName\n")
    with pytest.raises(VocabularyError, match=r"short.tsv.gz:2: expected 5"):
        list(read_compact_mesh(short))
    with pytest.raises(VocabularyError, match="unknown vocabulary kind"):
        load_vocabulary("snomed-magic")
