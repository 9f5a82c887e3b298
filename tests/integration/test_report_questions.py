"""Questions about one report (``ask(..., document=ID)``, ``medkg ask --document``) on the real sample graph.

The scope is checked against the graph itself: the passages must be the report's own chunks and literature
chunks that the report's entities REFERENCE, the findings line must carry the flags the graph stores, and
the answers of the real small model (SmolLM2) must cite spans of the passages it was shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from medkg.errors import NotFoundError, QueryError
from medkg.queries.answer import render_prompt
from medkg.queries.records import Answer
from medkg.queries.retrieval import Retrieval, approx_tokens
from medkg.queries.scoped import status_of
from medkg.queries.settings import RetrievalSettings

pytestmark = pytest.mark.integration

NOTE_01 = "report:note-01-abdominal-pain"  # denies diarrhea; suspected acute appendicitis
NOTE_04 = "report:note-04-atrial-fibrillation"  # atrial fibrillation after CABG; was not on a statin
NOTE_05 = "report:note-05-stroke"  # intracranial hemorrhage ruled out

REPORT_CHUNKS = "MATCH (c:Chunk) WHERE c.doc_id = $id RETURN c.id AS id, c.text AS text"
REFERENCED = """
MATCH (c:Chunk)-[:MENTIONS]->(e:Entity)-[:REFERENCES]->(t:Entity)
WHERE c.doc_id = $id
RETURN DISTINCT t.chunk_id AS id
"""


def referenced_chunks(graph, doc_id: str) -> set[str]:
    return {r["id"] for r in graph.cypher(REFERENCED, {"id": doc_id})}


def report_chunks(graph, doc_id: str) -> dict[str, str]:
    return {r["id"]: r["text"] for r in graph.cypher(REPORT_CHUNKS, {"id": doc_id})}


def test_scoped_retrieval_is_the_report_then_the_literature_it_references(graph) -> None:
    r = graph.retrieve("What do the findings of this report suggest?", document=NOTE_01)
    own = report_chunks(graph, NOTE_01)
    referenced = referenced_chunks(graph, NOTE_01)
    assert r.scope == NOTE_01 and r.scope_tier == 1 and r.mode == "uretrieve"
    report = [p for p in r.passages if p.doc_id == NOTE_01]
    literature = [p for p in r.passages if p.doc_id != NOTE_01]
    # the whole (short) report fits the default budget, and some literature beside it
    assert {p.chunk_id for p in report} == set(own) and all(p.tier == 1 for p in report)
    assert literature and all(p.tier == 2 and p.chunk_id in referenced for p in literature)
    assert len(literature) <= RetrievalSettings().max_references
    # the report comes first, numbered from 1
    assert [p.cid for p in r.passages] == list(range(1, len(r.passages) + 1))
    assert max(p.cid for p in report) < min(p.cid for p in literature)
    assert r.path["scope"] == {"document": NOTE_01, "tier": 1, "kind": "report", "chunks": len(own),
                               "chunks_in_context": len(own), "references": len(literature),
                               "budget_tokens": RetrievalSettings().document_budget_tokens}
    assert r.ranking[0] == NOTE_01 and set(r.ranking[1:]) == {p.doc_id for p in literature}
    # the scope does not leak into the next question
    everywhere = graph.retrieve("What do the findings of this report suggest?")
    assert not everywhere.scope and not everywhere.findings


def test_the_best_matching_passage_leads_and_the_budget_holds(graph) -> None:
    r = graph.retrieve("Does the patient have diarrhea?", document=NOTE_01)
    assert "denies diarrhea" in r.passages[0].text and r.passages[0].reason == "matches the question"
    small = graph.retrieve("Does the patient have diarrhea?", RetrievalSettings(document_budget_tokens=70),
                           document=NOTE_01)
    assert small.passages[0].chunk_id == r.passages[0].chunk_id
    assert len(small.passages) < len(r.passages)
    count = graph._llm.count_tokens if graph._llm is not None else approx_tokens  # what retrieve() counts with
    assert sum(count(p.text) for p in small.passages) <= 70 or len(small.passages) == 1
    # no hops: the report alone
    alone = graph.retrieve("Does the patient have diarrhea?", RetrievalSettings(hops=0), document=NOTE_01)
    assert alone.passages and {p.doc_id for p in alone.passages} == {NOTE_01}


def test_the_findings_line_carries_negation_uncertainty_and_what_is_not_there(graph) -> None:
    r = graph.retrieve("Does this patient's report mention cardiomegaly?", document=NOTE_01)
    by_name = {f.name: f for f in r.findings}
    assert by_name["Cardiomegaly"].status == "not mentioned" and by_name["Cardiomegaly"].asked
    assert by_name["Cardiomegaly"].passages == ()
    assert by_name["Diarrhea"].status == "absent" and by_name["Appendicitis"].status == "possible"
    # every status is the one the graph stores for a mention of that concept in that passage
    cited = {p.cid: p for p in r.passages}
    stored = {(e.concept_id, e.chunk_id, status_of({"negated": e.negated, "uncertain": e.uncertain,
                                                    "historical": e.historical, "family": e.family}))
              for e in graph.document(NOTE_01).entities}
    listed = [f for f in r.findings if f.passages]
    assert len(listed) >= 4
    assert all((f.concept_id, cited[n].chunk_id, f.status) in stored for f in listed for n in f.passages)
    diarrhea = by_name["Diarrhea"]
    assert "denies diarrhea" in cited[diarrhea.passages[0]].text
    doc_text = graph.document(NOTE_01).text
    assert doc_text[diarrhea.start:diarrhea.end].lower() == "diarrhea"
    system, user = render_prompt("Does this patient's report mention cardiomegaly?", r)
    assert "This report does not mention Cardiomegaly." in user
    assert f"Diarrhea: mentioned as absent [{diarrhea.passages[0]}]" in user
    assert "(this report, HISTORY OF PRESENT ILLNESS)" in user and "is mentioned by the report, as absent" in system

    hemorrhage = graph.retrieve("Does this patient's report mention intracranial hemorrhage?", document=NOTE_05)
    asked = [f for f in hemorrhage.findings if f.asked]
    assert [(f.name, f.status) for f in asked] == [("Intracranial Hemorrhages", "absent")]
    assert hemorrhage.findings[0] == asked[0]  # what the question asks about leads the line

    # a broader concept is answered by a narrower one the report mentions: no false "not mentioned"
    heart = graph.retrieve("Does this patient's report mention heart disease?", document=NOTE_04)
    assert not [f for f in heart.findings if f.status == "not mentioned"]
    assert [f.name for f in heart.findings if f.asked] == ["Atrial Fibrillation"]


def test_literature_is_reached_from_present_findings_before_negated_ones(graph) -> None:
    r = graph.retrieve("What does the literature say about this patient's condition?", document=NOTE_04)
    literature = [p for p in r.passages if p.tier == 2]
    assert literature and all(p.chunk_id in referenced_chunks(graph, NOTE_04) for p in literature)
    followed = r.path["references"]
    # the report names atrial fibrillation (present) and a statin (negated) in one passage, so both entities
    # REFERENCE the same literature passages with the same score: the present finding's edge must rank higher
    pairs = [(a, b) for a in followed for b in followed
             if a["chunk"] == b["chunk"] and a["references_score"] == b["references_score"]
             and a["status"] == "present" and b["status"] == "absent"]
    assert pairs and all(a["score"] > b["score"] for a, b in pairs)


def test_answers_cite_the_passages_of_both_tiers(graph) -> None:
    # note-04's literature (statins and atrial fibrillation) bears on its findings. On note-01 the 135M model's
    # literature sentence shares no word with the passages it cites and is rightly dropped (join_literature)
    seen: list[Retrieval] = []
    answer = graph.ask("What do the findings of this report suggest?", document=NOTE_04, on_retrieval=seen.append)
    assert isinstance(answer, Answer) and not answer.abstained
    shown = {(p.chunk_id, p.start, p.end, p.text, p.tier) for p in seen[0].passages}
    assert answer.citations
    assert all((c.chunk_id, c.start, c.end, c.quote, c.tier) in shown for c in answer.citations)
    assert {c.tier for c in answer.citations} == {1, 2}
    assert {c.doc_id for c in answer.citations if c.tier == 1} == {NOTE_04}
    assert {c.chunk_id for c in answer.citations if c.tier == 2} <= referenced_chunks(graph, NOTE_04)
    assert answer.retrieval_path["scope"]["document"] == NOTE_04
    assert answer.prompt_version.endswith("+document-v1")
    # the quotes are the report's own text at the cited offsets
    text = graph.document(NOTE_04).text
    assert all(text[c.start:c.end] == c.quote for c in answer.citations if c.tier == 1)

    yes_no = graph.ask("Does this patient's report mention intracranial hemorrhage?", document=NOTE_05,
                       options=["yes", "no"])
    assert yes_no.answer in {"yes", "no"} and set(yes_no.probabilities) == {"yes", "no"}
    assert yes_no.citations and all(c.doc_id == NOTE_05 or c.tier == 2 for c in yes_no.citations)


def test_an_unknown_document_is_a_clear_error_before_any_model_loads(sample_graph: Path) -> None:
    from medkg.queries.api import KnowledgeGraph
    from medkg.queries.llm import LLMSettings

    with KnowledgeGraph.open(sample_graph, llm=LLMSettings(model=str(sample_graph / "no-such-model.gguf"))) as g:
        with pytest.raises(NotFoundError, match=r"no document 'report:note-99'"):
            g.ask("Does the patient have diarrhea?", document="report:note-99")
        with pytest.raises(NotFoundError, match=r"did you mean report:note-01-abdominal-pain\?"):
            g.ask("Does the patient have diarrhea?", document="note-01-abdominal-pain")
        with pytest.raises(QueryError, match="document id is empty"):
            g.ask("Does the patient have diarrhea?", document=" ")
        with pytest.raises(QueryError, match="mode 'bm25' cannot be combined"):
            g.ask("Does the patient have diarrhea?", document=NOTE_01, mode="bm25")
        assert g._llm is None  # nothing above loaded the model


def test_a_literature_document_is_answered_from_its_own_passages(graph) -> None:
    r = graph.retrieve("What did this study find about leukocyte count and CRP?", document="PMID:10340286")
    assert r.scope_tier == 2 and r.passages and not r.findings
    assert {p.doc_id for p in r.passages} == {"PMID:10340286"} and {p.tier for p in r.passages} == {2}
    assert {p.chunk_id for p in r.passages} == set(report_chunks(graph, "PMID:10340286"))
    _, user = render_prompt("What did this study find?", r)
    assert "(this paper, " in user and "Findings read" not in user


# -- the command line and the web app ------------------------------------------------------------------------

def medkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medkg", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MEDKG_LLM_MODEL": "smollm2-135m"})


def test_cli_ask_document_end_to_end(sample_graph: Path) -> None:
    q = "Does this patient's report mention intracranial hemorrhage?"
    res = medkg("ask", q, "--document", NOTE_05, "--json", "--graph", str(sample_graph))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    path = data["retrieval_path"]
    assert path["scope"]["document"] == NOTE_05
    shown = {c["id"] for c in path["chunks"]}
    assert data["citations"] and all(c["chunk_id"] in shown for c in data["citations"])
    assert all(c["doc_id"] == NOTE_05 or c["tier"] == 2 for c in data["citations"])
    assert {(f["name"], f["status"]) for f in path["findings"]} >= {("Intracranial Hemorrhages", "absent"),
                                                                    ("Ischemic Stroke", "present")}

    plain = medkg("ask", q, "--document", NOTE_05, "--budget", "60", "--hops", "0", "--graph", str(sample_graph))
    assert plain.returncode == 0, plain.stderr
    assert f"[1] {NOTE_05}, characters" in plain.stdout and "tier 2" not in plain.stdout
    assert f"scoped to {NOTE_05}: 1 of its 2 passages and 0 literature passages" in plain.stderr

    missing = medkg("ask", q, "--document", "report:nope", "--graph", str(sample_graph))
    assert missing.returncode == 1 and missing.stdout == ""
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medkg: error: no document 'report:nope' in the graph")


def test_the_web_api_takes_a_document(sample_graph: Path) -> None:
    from medkg.app import ServeConfig, create_app
    from medkg.queries.llm import LLMSettings

    app = create_app(ServeConfig(graph=sample_graph, llm=LLMSettings(model="smollm2-135m")))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        r = client.post("/api/ask", json={"question": "Does the patient have diarrhea?", "document": "report:nope"})
        assert r.status_code == 404 and "report:nope" in r.json()["error"]
        r = client.post("/api/ask", json={"question": "Does the patient have diarrhea?", "document": ""})
        assert r.status_code == 400
        r = client.post("/api/ask", json={"question": "Does the patient have diarrhea?", "document": NOTE_01,
                                          "options": ["yes", "no"], "retrieval": {"document_budget_tokens": 80,
                                                                                  "hops": 0}})
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["retrieval_path"]["scope"]["document"] == NOTE_01 and data["answer"] in {"yes", "no"}
        assert {c["doc_id"] for c in data["citations"]} == {NOTE_01}
