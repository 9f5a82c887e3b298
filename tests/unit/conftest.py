"""Unit tests are fast and load no model: this guard makes any that tries fail with a clear message.

Loading the trained NER model, the bundled relation model, an embedder, an LLM or the bundled MeSH (30k
descriptors and 270k supplementary records) belongs in ``tests/integration``; unit tests use the tiny fixtures of
``tests/conftest.py`` (``tiny_vocabulary``, ``tiny_lexicon_path``) and the files under ``tests/fixtures``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def _refuse(what: str):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test loaded {what}; move the test to tests/integration")

    return refuse


@pytest.fixture(autouse=True, scope="module")
def _no_models() -> Iterator[None]:
    """Module-scoped: in place before any module- or function-scoped fixture of a unit test is made, and undone
    when the module's tests are over, so that the integration tests of the same ``pytest`` run (``make test``
    runs both) may load models. The session-scoped fixtures a unit test may use (``tests/conftest.py``) are tiny
    and load none."""
    from medkg.ontologies import mesh
    from medkg.pipelines import components
    from medkg.pipelines.embedding import embedder
    from medkg.pipelines.ner import model
    from medkg.queries import llm

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "load_ner", _refuse("the trained NER model"))
        mp.setattr(components, "relation_model", _refuse("the bundled relation model"))
        mp.setattr(mesh, "read_compact_mesh", _refuse("the bundled MeSH"))
        mp.setattr(embedder.Embedder, "__init__", _refuse("an embedder"))
        mp.setattr(llm.LocalLLM, "__init__", _refuse("an LLM"))
        yield
