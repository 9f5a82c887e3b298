"""Retrieval modes, constrained options, refinement, ``medkg eval qa`` and ``medkg models`` on real models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medkg.queries.context import RetrievalSettings

pytestmark = pytest.mark.integration

Q = "Do statins before coronary artery bypass grafting reduce postoperative atrial fibrillation?"


@pytest.mark.parametrize("mode", ["uretrieve", "vector", "bm25", "hybrid"])
def test_every_retrieval_mode_finds_the_statin_paper(graph, mode: str) -> None:
    r = graph.retrieve(Q, mode=mode)
    assert r.mode == mode
    assert "PMID:21881325" in r.ranking[:2]  # the paper, or the note about the same patient first
    assert 1 <= len(r.passages) <= 6
    assert sum(len(p.text) for p in r.passages[1:]) // 4 <= RetrievalSettings().budget_tokens


def test_llm_only_answers_without_context_or_citations(graph) -> None:
    a = graph.ask(Q, mode="llm-only", options=["yes", "no", "maybe"])
    assert a.mode == "llm-only" and not a.abstained
    assert a.answer in {"yes", "no", "maybe"} and a.citations == []


def test_options_constrain_the_answer_and_citations_stay_valid(graph) -> None:
    a = graph.ask(Q, options=["yes", "no", "maybe"])
    assert a.answer in {"yes", "no", "maybe"}
    assert a.citations and a.prompt_version


def test_refinement_is_bounded(graph) -> None:
    a = graph.ask(Q, RetrievalSettings(refine=True, max_refine_calls=1), options=["yes", "no", "maybe"])
    assert a.tokens["calls"] == 2
    assert a.answer in {"yes", "no", "maybe"}


def test_unknown_mode_is_refused(graph) -> None:
    from medkg.errors import QueryError

    with pytest.raises(QueryError, match="unknown mode"):
        graph.ask(Q, mode="magic")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medkg", *args], capture_output=True, text=True, timeout=600,
                          env=os.environ.copy())


def test_eval_qa_reports_every_mode(fixtures: Path, tmp_path: Path) -> None:
    res = run("eval", "qa", "--dataset", str(fixtures / "pubmedqa_3.json"), "--mode", "uretrieve,llm-only",
              "--mode", "bm25", "--cache", str(tmp_path), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["questions"] == 3 and set(report["modes"]) == {"uretrieve", "llm-only", "bm25"}
    u = report["modes"]["uretrieve"]
    assert u["recall@5"] == 1.0 and u["citation_validity"] == 1.0
    assert 0.0 <= u["accuracy"] <= 1.0 and u["latency_p50_s"] > 0
    assert report["modes"]["llm-only"]["recall@5"] is None
    # the corpus graph is cached by content: a second run reuses it
    assert len(list(tmp_path.iterdir())) == 1
    again = run("eval", "qa", "--dataset", str(fixtures / "pubmedqa_3.json"), "--mode", "vector", "--no-llm",
                "--cache", str(tmp_path))
    assert again.returncode == 0 and "vector" in again.stdout and len(list(tmp_path.iterdir())) == 1


def test_models_list_and_verify() -> None:
    listing = run("models", "list")
    assert listing.returncode == 0
    assert "smollm2-135m" in listing.stdout and "qwen2.5-coder-1.5b" in listing.stdout
    verify = run("models", "verify", "smollm2-135m")
    assert verify.returncode == 0 and "smollm2-135m: ok" in verify.stdout
