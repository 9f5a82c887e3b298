from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TEST_MODEL = "smollm2-135m"  # the small model keeps the suite fast, whatever the default for users is

# subprocesses started by the CLI tests inherit this
os.environ.setdefault("MEDKG_LLM_MODEL", TEST_MODEL)


@pytest.fixture(scope="session")
def sample_graph(tmp_path_factory) -> Path:
    """The bundled sample corpus built once, with the real vocabulary and embedder (integration and reliability
    tests share it; a test that changes a graph works on a copy)."""
    from medkg.pipelines.build import build_graph, sample_paths

    path = tmp_path_factory.mktemp("sample") / "graph"
    build_graph(sample_paths(), path)
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_vocabulary():
    """A real Vocabulary of a few MeSH concepts, built from Concept records."""
    from medkg.ontologies.concept import Concept
    from medkg.ontologies.vocabulary import Vocabulary

    v = Vocabulary()
    v.add([
        Concept("MESH:D003920", "MESH", "Diabetes Mellitus", tree_numbers=("C18.452.394.750",),
                semantic_types=("DISO",), vocab_version="test"),
        Concept("MESH:D003924", "MESH", "Diabetes Mellitus, Type 2",
                synonyms=("Type 2 Diabetes", "NIDDM", "Diabetes Mellitus, Non-Insulin-Dependent"),
                tree_numbers=("C18.452.394.750.149",), semantic_types=("DISO",), parents=("MESH:D003920",),
                vocab_version="test"),
        Concept("MESH:D012878", "MESH", "Skin Neoplasms", synonyms=("Skin Neoplasm",),
                tree_numbers=("C04.588.805",), semantic_types=("DISO",), vocab_version="test"),
        Concept("MESH:D051176", "MESH", "beta Catenin", synonyms=("beta-Catenin",),
                tree_numbers=("D12.776.157",), semantic_types=("CHEM",), vocab_version="test"),
        Concept("MESH:D000740", "MESH", "Anemia", tree_numbers=("C15.378.071",), semantic_types=("DISO",),
                vocab_version="test"),
        Concept("MESH:D000163", "MESH", "Acquired Immunodeficiency Syndrome", synonyms=("AIDS",),
                tree_numbers=("C20.673.480",), semantic_types=("DISO",), vocab_version="test"),
        Concept("MESH:D010361", "MESH", "Patients", tree_numbers=("M01.643",), semantic_types=("LIVB",),
                vocab_version="test"),
        Concept("MESH:D002637", "MESH", "Chest Pain", tree_numbers=("C23.888.592.612.233",),
                semantic_types=("DISO",), vocab_version="test"),
        Concept("MESH:D011014", "MESH", "Pneumonia", tree_numbers=("C08.381.677",), semantic_types=("DISO",),
                vocab_version="test"),
    ])
    return v


@pytest.fixture(scope="session")
def tiny_lexicon_path(tiny_vocabulary, tmp_path_factory) -> Path:
    from medkg.pipelines.linking.lexicon import Lexicon

    path = tmp_path_factory.mktemp("lexicon") / "lexicon.pkl"
    Lexicon.from_vocabulary(tiny_vocabulary).save(path)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/integration carries the ``integration`` marker (``-m "not integration"``: unit only)."""
    integration = Path(__file__).parent / "integration"
    for item in items:
        if integration in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
