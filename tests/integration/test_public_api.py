"""The documented Python API, imported as the README shows it: ``from medkg import KnowledgeGraph, build_graph``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import medkg
from medkg import Answer, Citation, KnowledgeGraph, MedKGError, build_graph
from medkg.queries.llm import LLMSettings


def test_every_public_name_is_importable() -> None:
    for name in medkg.__all__:
        assert getattr(medkg, name) is not None, name
    with pytest.raises(AttributeError):
        medkg.NoSuchThing  # noqa: B018
    assert medkg.__version__


def test_build_ask_and_explore_through_the_public_api(fixtures: Path, tmp_path: Path) -> None:
    report = build_graph([fixtures / "docs.jsonl"], tmp_path / "g")
    assert (report.added, report.documents) == (2, 2)
    with KnowledgeGraph.open(tmp_path / "g", llm=LLMSettings(model="smollm2-135m")) as graph:
        answer = graph.ask("Do statins reduce atrial fibrillation after bypass surgery?", options=["yes", "no"])
        assert isinstance(answer, Answer) and answer.answer in {"yes", "no"}
        assert answer.citations and all(isinstance(c, Citation) for c in answer.citations)
        texts = {d["id"]: d["text"] for d in map(json.loads, (fixtures / "docs.jsonl").read_text().splitlines())}
        for c in answer.citations:  # each quote is the document's own text at the cited span
            assert texts[c.doc_id][c.start : c.end] == c.quote
        rows = graph.cypher("MATCH (d:Document) RETURN d.id AS id ORDER BY id")
        assert [r["id"] for r in rows] == ["T:1", "T:2"]
    with pytest.raises(MedKGError, match="no graph here"):
        KnowledgeGraph.open(tmp_path / "missing")
