from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample_graph(tmp_path_factory) -> Path:
    """The bundled sample corpus built once, with the real vocabulary and embedder."""
    from medkg.pipelines.build import build_graph, sample_paths

    path = tmp_path_factory.mktemp("sample") / "graph"
    build_graph(sample_paths(), path)
    return path


@pytest.fixture(scope="session")
def graph(sample_graph: Path):
    from medkg.queries.api import KnowledgeGraph
    from medkg.queries.llm import LLMSettings

    with KnowledgeGraph.open(sample_graph, llm=LLMSettings(model="smollm2-135m")) as g:
        yield g
