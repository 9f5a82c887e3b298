"""Retrieval modes, constrained options, refinement, ``medkg eval qa`` and ``medkg models`` on real models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medkg.queries.settings import AnswerSettings, RetrievalSettings

pytestmark = pytest.mark.integration

Q = "Do statins before coronary artery bypass grafting reduce postoperative atrial fibrillation?"


@pytest.mark.parametrize("mode", ["uretrieve", "vector", "bm25", "hybrid"])
def test_every_retrieval_mode_finds_the_statin_paper(graph, mode: str) -> None:
    r = graph.retrieve(Q, mode=mode)
    assert r.mode == mode
    assert "PMID:21881325" in r.ranking[:2]  # the paper, or the note about the same patient first
    assert 1 <= len(r.passages) <= 6
    assert sum(len(p.text) for p in r.passages[1:]) // 4 <= RetrievalSettings().budget_tokens


def test_uretrieve_puts_the_findings_of_the_best_document_first(graph) -> None:
    # typed relations off: a relation between two of the question's concepts would put its evidence first
    # (tests/integration/test_relation_extraction.py)
    r = graph.retrieve(Q, RetrievalSettings(relations=0))
    first = r.passages[0]
    assert first.doc_id == r.ranking[0] and "RESULT" in first.section.upper()
    assert first.reason.startswith("findings of")
    # without findings first the best-scored chunk leads instead
    plain = graph.retrieve(Q, RetrievalSettings(findings_first=False, relations=0))
    assert plain.passages[0].chunk_id == plain.path["chunks"][0]["id"]
    assert plain.ranking == r.ranking  # the document ranking (recall) does not change


def test_llm_only_answers_without_context_or_citations(graph) -> None:
    a = graph.ask(Q, mode="llm-only", options=["yes", "no", "maybe"])
    assert a.mode == "llm-only" and not a.abstained
    assert a.answer in {"yes", "no", "maybe"} and a.citations == []


def test_options_constrain_the_answer_and_citations_stay_valid(graph) -> None:
    a = graph.ask(Q, options=["yes", "no", "maybe"])
    assert a.answer in {"yes", "no", "maybe"}
    assert a.citations and a.prompt_version


def test_options_are_scored_with_calibrated_probabilities(graph) -> None:
    a = graph.ask(Q, options=["yes", "no", "maybe"])
    p = a.probabilities
    assert set(p) == {"yes", "no", "maybe"} and abs(sum(p.values()) - 1.0) < 1e-3
    assert a.answer == max(p, key=p.get) and a.confidence == p[a.answer]
    assert a.tokens["completion"] >= 4  # three options scored, then at least one citation token
    raw = graph.ask(Q, options=["yes", "no", "maybe"], answer_settings=AnswerSettings(calibrate=False))
    assert raw.probabilities != p  # the prior (the answer without evidence) was divided out
    content_free = graph.ask(Q, options=["yes", "no", "maybe"], answer_settings=AnswerSettings(evidence_weight=0.0))
    assert content_free.probabilities not in (p, raw.probabilities)
    assert a.tokens["prompt"] == raw.tokens["prompt"]  # the evidence-free prompt is not the answer's prompt


def test_option_scores_are_the_models_likelihoods(graph) -> None:
    """The chooser's raw score of an option is what the model itself gives that continuation."""
    llm = graph.llm
    prompt = llm.chat_tokens("You answer yes or no.", "Is the sky blue? Reply in JSON.", '{"answer": "')
    yes, no = llm.option_logprobs(prompt, ["yes", "no"])
    assert yes < 0 and no < 0 and yes != no
    # each option is one token of this model, so greedy decoding restricted to the two picks the likelier one
    assert all(len(llm.llm.tokenize(o.encode(), add_bos=False, special=False)) == 1 for o in ("yes", "no"))
    picked = llm.continue_with_grammar(prompt, 'root ::= "yes" | "no"', max_tokens=2).data["text"]
    assert picked == ("yes" if yes > no else "no")
    # scoring twice, or after another prompt, gives the same numbers: the KV cache is reused correctly
    other = llm.chat_tokens("You answer yes or no.", "Is fire cold? Reply in JSON.", '{"answer": "')
    llm.option_logprobs(other, ["yes", "no"])
    again = llm.option_logprobs(prompt, ["yes", "no"])
    assert again == pytest.approx([yes, no], abs=1e-3)


def test_refinement_is_bounded(graph) -> None:
    a = graph.ask(Q, options=["yes", "no", "maybe"], answer_settings=AnswerSettings(refine=True, max_refine_calls=1))
    assert a.tokens["calls"] == 2
    assert a.answer in {"yes", "no", "maybe"}


def test_unknown_mode_is_refused(graph) -> None:
    from medkg.errors import QueryError

    with pytest.raises(QueryError, match="unknown mode"):
        graph.ask(Q, mode="magic")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medkg", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MEDKG_LLM_MODEL": "smollm2-135m"})


def test_eval_qa_reports_every_mode(fixtures: Path, tmp_path: Path) -> None:
    res = run("eval", "qa", "--dataset", str(fixtures / "pubmedqa_3.json"), "--mode", "uretrieve,llm-only",
              "--mode", "bm25", "--cache", str(tmp_path), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["questions"] == 3 and set(report["modes"]) == {"uretrieve", "llm-only", "bm25"}
    u = report["modes"]["uretrieve"]
    assert u["recall@5"] == 1.0 and u["citation_validity"] == 1.0
    assert u["latency_p50_s"] > 0
    assert report["modes"]["llm-only"]["recall@5"] is None
    # the corpus graph is cached by content: a second run reuses it
    assert len(list(tmp_path.iterdir())) == 1
    again = run("eval", "qa", "--dataset", str(fixtures / "pubmedqa_3.json"), "--mode", "vector", "--no-llm",
                "--cache", str(tmp_path))
    assert again.returncode == 0 and "vector" in again.stdout and len(list(tmp_path.iterdir())) == 1
    # the reported accuracy is what the same questions get through the Python API on the same graph
    from medkg import KnowledgeGraph
    from medkg.evaluation.qa import LABELS, read_items
    from medkg.queries.llm import LLMSettings

    items = read_items(fixtures / "pubmedqa_3.json")
    with KnowledgeGraph.open(next(tmp_path.iterdir()), llm=LLMSettings(model="smollm2-135m")) as graph:
        right = sum(graph.ask(it.question, options=LABELS).answer == it.label for it in items)
    assert u["accuracy"] == round(right / len(items), 4)


def test_models_list_and_verify() -> None:
    listing = run("models", "list")
    assert listing.returncode == 0
    assert "smollm2-135m" in listing.stdout and "qwen2.5-coder-1.5b" in listing.stdout
    assert "all-MiniLM-L6-v2" in listing.stdout and "static-MiniLM-L6-v2" in listing.stdout
    verify = run("models", "verify", "smollm2-135m")
    assert verify.returncode == 0 and "smollm2-135m: ok" in verify.stdout
