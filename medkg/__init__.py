"""medkg: medical knowledge graphs with cited answers from a local LLM.

The public Python API reads like the CLI::

    from medkg import KnowledgeGraph, build_graph
    build_graph(["abstracts.jsonl"], "my-graph")
    graph = KnowledgeGraph.open("my-graph")
    answer = graph.ask("Is CRP useful to diagnose appendicitis?")
    for c in answer.citations:
        print(c.doc_id, c.start, c.end, c.quote)
"""

from __future__ import annotations

import os as _os

from medkg.errors import (
    GraphCorruptError,
    GraphNotFoundError,
    InputError,
    MedKGError,
    ModelError,
    ModelNotFoundError,
    NotFoundError,
    QueryError,
    StoreError,
    VocabularyError,
)
from medkg.version import __version__ as __version__

# nothing medkg runs may reach the network (model hubs, their telemetry), from the CLI or the library alike
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    _os.environ.setdefault(_name, "1")

__all__ = [
    "KnowledgeGraph",
    "build_graph",
    "Answer",
    "Citation",
    "MedKGError",
    "InputError",
    "VocabularyError",
    "GraphNotFoundError",
    "GraphCorruptError",
    "StoreError",
    "ModelNotFoundError",
    "ModelError",
    "QueryError",
    "NotFoundError",
]


def __getattr__(name: str):  # lazy: importing medkg must stay cheap for the CLI
    if name == "KnowledgeGraph":
        from medkg.queries.api import KnowledgeGraph

        return KnowledgeGraph
    if name == "build_graph":
        from medkg.pipelines.build import build_graph

        return build_graph
    if name in ("Answer", "Citation"):
        from medkg.queries import records

        return getattr(records, name)
    raise AttributeError(name)
