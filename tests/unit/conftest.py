"""Unit tests are fast and load no model: this guard makes any that tries fail with a clear message.

Loading the trained NER model, an embedder, an LLM or the bundled MeSH (30k descriptors and 270k
supplementary records) belongs in ``tests/integration``; unit tests use the tiny fixtures of
``tests/conftest.py`` (``tiny_vocabulary``, ``tiny_lexicon_path``) and the files under ``tests/fixtures``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def _refuse(what: str):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test loaded {what}; move the test to tests/integration")

    return refuse


@pytest.fixture(autouse=True, scope="session")
def _no_models() -> Iterator[None]:
    """Session-scoped, so that it is in place before any other fixture of the session is made."""
    from medkg.ontologies import mesh
    from medkg.pipelines.embedding import embedder
    from medkg.pipelines.ner import model
    from medkg.queries import llm

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "load_ner", _refuse("the trained NER model"))
        mp.setattr(mesh, "read_compact_mesh", _refuse("the bundled MeSH"))
        mp.setattr(embedder.Embedder, "__init__", _refuse("an embedder"))
        mp.setattr(llm.LocalLLM, "__init__", _refuse("an LLM"))
        yield
