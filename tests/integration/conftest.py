from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bolt_server import ArcadeDB, neo4j_options_from_env


@pytest.fixture(scope="session")
def graph(sample_graph: Path):
    from medkg.queries.api import KnowledgeGraph
    from medkg.queries.llm import LLMSettings

    with KnowledgeGraph.open(sample_graph, llm=LLMSettings(model="smollm2-135m")) as g:
        yield g


@pytest.fixture(scope="session")
def bolt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArcadeDB | None]:
    """A real Bolt server for the Neo4j backend: ArcadeDB started here, or None when NEO4J_URI names one."""
    if neo4j_options_from_env():
        yield None
        return
    server = ArcadeDB(tmp_path_factory.mktemp("arcadedb")).start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "neo4j"])
def backend(request: pytest.FixtureRequest, bolt_server: ArcadeDB | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each store backend in turn: its name and options; a fresh database of the Bolt server for each test."""
    from medkg.kg.store import open_store

    if request.param == "embedded":
        yield "embedded", {}
        return
    if bolt_server is None:
        opts = neo4j_options_from_env() or {}
        with open_store("neo4j", None, read_only=True, **opts) as st:
            if any(st.counts().values()):
                pytest.skip("the Neo4j database of NEO4J_URI is not empty; the tests need an empty one")
        yield "neo4j", opts
        with open_store("neo4j", None, read_only=False, **opts) as st:
            st.query("MATCH (n) DETACH DELETE n")
        return
    name = f"kg{secrets.token_hex(4)}"
    bolt_server.create_database(name)
    yield "neo4j", bolt_server.options(name)


@pytest.fixture(scope="session")
def embedder():
    from medkg.pipelines.embedding.embedder import Embedder

    return Embedder()
