"""The HTTP API of ``medkg serve`` through FastAPI's test client, over the real sample graph and SmolLM2.

Read-only tests share one app over the session's sample graph; the upload and delete test works on a copy.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from medkg.app import ServeConfig, create_app
from medkg.app.asking import Question
from medkg.queries.llm import LLMSettings
from medkg.queries.settings import AnswerSettings, RetrievalSettings

BASE = "http://127.0.0.1:8000"
QUESTION = "Are leukocyte count and CRP useful to diagnose acute appendicitis?"
TOKEN = "a-test-token-that-is-long-enough"


def config(graph: Path, **kw: Any) -> ServeConfig:
    return ServeConfig(graph=graph, llm=LLMSettings(model="smollm2-135m"), **kw)


@pytest.fixture(scope="module")
def client(sample_graph: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config(sample_graph, query_timeout_s=2.0)), base_url=BASE) as c:
        yield c


def events(text: str) -> list[tuple[str, Any]]:
    """The server-sent events of a finished stream: (event, parsed data); comment lines skipped."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


# -- reads ----------------------------------------------------------------------------------------------------

def test_health_and_stats_describe_the_graph(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["documents"] == 38 and health["write"] is False
    assert health["llm"]["size"] == 4
    stats = client.get("/api/stats").json()
    assert stats["counts"]["Document"] == 38 and stats["by_tier"]["Document"] == {"1": 6, "2": 32}


def test_documents_are_listed_and_read_with_spans_flags_and_relations(client: TestClient) -> None:
    page = client.get("/api/documents", params={"tier": 1}).json()
    assert page["total"] == 6 and all(d["tier"] == 1 and d["chunks"] > 0 for d in page["documents"])
    assert client.get("/api/documents", params={"q": "appendicitis", "limit": 2}).json()["total"] >= 3
    doc = client.get("/api/documents/report:note-01-abdominal-pain").json()
    assert doc["text_source"] == "ledger" and doc["tier"] == 1
    for e in doc["entities"]:  # every span indexes the text, as citations do
        assert doc["text"][e["start"] : e["end"]] == e["text"]
    negated = [e for e in doc["entities"] if e["negated"]]
    assert [e["concept_name"] for e in negated] == ["Diarrhea"]
    for c in doc["chunks"]:
        assert 0 <= c["start"] < c["end"] <= len(doc["text"])
    assert doc["relations"] and {r["type"] for r in doc["relations"]} >= {"co_occurs"}
    assert all({"negated", "speculative", "source_concept", "target_concept"} <= set(r) for r in doc["relations"])


def test_concepts_are_found_by_name_or_id_and_shown_with_their_neighbourhood(client: TestClient) -> None:
    hits = client.get("/api/concepts", params={"q": "appendicitis"}).json()
    assert hits[0]["id"] == "MESH:D001064" and hits[0]["mentions"] >= 10
    assert client.get("/api/concepts", params={"q": "MESH:D001064"}).json()[0]["name"] == "Appendicitis"
    assert client.get("/api/concepts", params={"q": "breathlessness"}).json()[0]["name"] == "Dyspnea"  # a synonym
    c = client.get("/api/concepts/MESH:D001064").json()
    assert c["name"] == "Appendicitis" and c["semantic_group"] == "DISO"
    assert c["broader"] and all(b["id"].startswith("MESH:") for b in c["broader"])
    assert "PMID:10340286" in {d["doc_id"] for d in c["documents_by_tier"]["2"]}
    assert sum(c["mentions_by_tier"].values()) >= 10
    assert "report:note-01-abdominal-pain" in {d["doc_id"] for d in c["documents_by_tier"]["1"]}
    nodes = {n["id"] for n in c["graph"]["nodes"]}
    assert "MESH:D001064" in nodes and len(nodes) > 3
    assert all(e["source"] in nodes and e["target"] in nodes for e in c["graph"]["edges"])


def test_unknown_ids_are_404_and_bad_requests_400_without_tracebacks(client: TestClient) -> None:
    for path in ("/api/documents/PMID:0", "/api/concepts/MESH:NOPE", "/api/jobs/job-999"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["status"] == 404 and "Traceback" not in r.text
    r = client.post("/api/ask", json={"question": "  "})
    assert r.status_code == 400 and r.json()["error"] == "question: Value error, the question is empty"
    r = client.post("/api/ask", json={"question": "x", "retrieval": {"beam": 0}})
    assert r.status_code == 400 and "beam" in r.json()["error"]
    assert client.post("/api/ask", json={"question": "x", "mode": "magic"}).status_code == 400
    assert client.post("/api/ask", json={"question": "x", "options": ["yes", " "]}).status_code == 400
    assert client.post("/api/ask", json={"question": "x", "temperature": 2}).status_code == 400


def test_an_internal_error_is_a_plain_500(sample_graph: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(config(sample_graph))
    state = app.state.medkg
    try:
        monkeypatch.setattr(state.reader.graph, "stats", lambda: 1 / 0)
        r = TestClient(app, base_url=BASE, raise_server_exceptions=False).get("/api/stats")
        assert r.status_code == 500 and r.json() == {"error": "internal error; the server log has the details",
                                                     "status": 500}
    finally:
        state.close()


# -- asking ---------------------------------------------------------------------------------------------------

def test_ask_answers_with_citations_that_quote_the_documents(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": QUESTION, "options": ["yes", "no", "maybe"]})
    assert r.status_code == 200
    answer = r.json()
    assert answer["answer"] in {"yes", "no", "maybe"} and answer["citations"] and not answer["abstained"]
    assert set(answer["probabilities"]) == {"yes", "no", "maybe"}
    for c in answer["citations"]:
        doc = client.get(f"/api/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["quote"]


def test_the_stream_sends_the_evidence_before_the_answer(client: TestClient) -> None:
    r = client.post("/api/ask/stream", json={"question": QUESTION, "retrieval": {"top_chunks": 3}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    evs = events(r.text)
    assert [e for e, _ in evs] == ["queued", "retrieval", "answer"]
    passages = evs[1][1]["passages"]
    assert passages and [p["cid"] for p in passages] == list(range(1, len(passages) + 1))
    answer = evs[2][1]
    assert answer["question"] == QUESTION and answer["model"].startswith("SmolLM2")
    assert {c["id"] for c in answer["citations"]} <= {p["cid"] for p in passages}


def test_a_full_llm_queue_answers_503_with_retry_after(sample_graph: Path) -> None:
    app = create_app(config(sample_graph, queue_size=1))
    state = app.state.medkg
    quick = Question("x", RetrievalSettings(), AnswerSettings(), options=[])  # fails at once once it runs
    try:
        with state.asker.lock:  # the LLM thread takes the first question and waits for the graph
            first = state.asks.submit(quick)
            deadline = time.monotonic() + 10
            while not state.asks.status()["running"] and time.monotonic() < deadline:
                time.sleep(0.02)
            state.asks.submit(quick)  # the one place in the queue
            c = TestClient(app, base_url=BASE)
            for path in ("/api/ask", "/api/ask/stream"):
                r = c.post(path, json={"question": QUESTION})
                assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1, path
                assert "busy" in r.json()["error"]
        assert "options" in str(first.future.exception(timeout=30))
    finally:
        state.close()


# -- Cypher and SPARQL ----------------------------------------------------------------------------------------

def test_cypher_is_read_only_with_a_row_limit_and_a_time_limit(client: TestClient) -> None:
    r = client.post("/api/cypher", json={"query": "MATCH (d:Document) WHERE d.tier = $t RETURN d.id AS id",
                                         "params": {"t": 1}, "limit": 4}).json()
    assert r["columns"] == ["id"] and len(r["rows"]) == 4 and r["truncated"] is True
    r = client.post("/api/cypher", json={"query": "MATCH (d:Document {id: 'x'}) SET d.title = 'changed'"})
    assert r.status_code == 400 and "read-only" in r.json()["error"]
    assert client.post("/api/cypher", json={"query": "MATCH (d:Nope RETURN d"}).status_code == 400
    t0 = time.perf_counter()
    slow = ("MATCH (a:Entity), (b:Entity), (c:Entity), (d:Entity) WHERE a.name < b.name AND b.name < c.name "
            "AND c.name < d.name RETURN count(*) AS n")  # 479^4 combinations: minutes without the limit
    r = client.post("/api/cypher", json={"query": slow})
    assert r.status_code == 400 and "time limit of 2 s" in r.json()["error"]
    assert time.perf_counter() - t0 < 10
    count = client.post("/api/cypher", json={"query": "MATCH (d:Document) RETURN count(d) AS n"}).json()
    assert count["rows"] == [[38]]  # the explorer is free again


def test_sparql_selects_over_the_rdf_view(client: TestClient) -> None:
    q = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
         "SELECT ?label WHERE { ?c skos:prefLabel ?label } ORDER BY ?label LIMIT 5")
    r = client.post("/api/sparql", json={"query": q, "limit": 3}).json()
    assert r["columns"] == ["label"] and len(r["rows"]) == 3 and r["truncated"] is True
    r = client.post("/api/sparql", json={"query": "SELECT WHERE {"})
    assert r.status_code == 400 and "SPARQL" in r.json()["error"]


# -- safety -----------------------------------------------------------------------------------------------------

def test_binding_beyond_the_loopback_needs_a_token(tmp_path: Path) -> None:
    from medkg.errors import MedKGError

    with pytest.raises(MedKGError, match="MEDKG_API_TOKEN"):
        ServeConfig(graph=tmp_path, host="0.0.0.0").check()
    with pytest.raises(MedKGError, match="too short"):
        ServeConfig(graph=tmp_path, host="0.0.0.0", token="short").check()
    assert ServeConfig(graph=tmp_path, host="0.0.0.0", token=TOKEN).check().loopback is False
    assert ServeConfig(graph=tmp_path, host="::1").check().loopback is True


def test_the_token_is_checked_on_every_request(sample_graph: Path) -> None:
    app = create_app(config(sample_graph, host="0.0.0.0", token=TOKEN))
    try:
        c = TestClient(app, base_url="http://medkg.example:8000")
        for path in ("/", "/api/health", "/static/app.js", "/openapi.json"):
            r = c.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
        assert c.get("/api/health", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
        assert c.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        r = c.get(f"/?token={TOKEN}", follow_redirects=False)  # the link the server prints: a cookie, then the page
        assert r.status_code == 303 and r.headers["location"] == "/" and "HttpOnly" in r.headers["set-cookie"]
        assert c.get("/api/health").status_code == 200  # the client now sends the cookie
    finally:
        app.state.medkg.close()


def test_host_origin_and_size_are_checked(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/api/health", headers={"Host": "attacker.example"}).status_code == 400
    r = client.post("/api/cypher", json={"query": "MATCH (n) RETURN count(n)"},
                    headers={"Origin": "http://attacker.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["error"]
    assert client.post("/api/cypher", json={"query": "MATCH (n) RETURN count(n) AS n"},
                       headers={"Origin": BASE}).status_code == 200
    assert "access-control-allow-origin" not in client.get("/api/health", headers={"Origin": BASE}).headers
    big = b"x" * (2 * 1024 * 1024)
    r = client.post("/api/cypher", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_uploads_are_limited_and_read_by_the_same_readers(sample_graph: Path) -> None:
    app = create_app(config(sample_graph, max_upload_bytes=4096))
    try:
        c = TestClient(app, base_url=BASE)
        r = c.post("/api/documents", files={"file": ("big.txt", b"word " * 2000, "text/plain")})
        assert r.status_code == 413 and "limit of 0.00390625 MiB" in r.json()["error"]
        r = c.post("/api/documents", files={"file": ("papers.jsonl", b'{"id": "PMID:1", "text": "ok"}\n{oops\n')})
        assert r.status_code == 400 and r.json()["error"].startswith("papers.jsonl:2: malformed JSON")
        r = c.post("/api/documents", files={"file": ("tool.exe", b"MZ")})
        assert r.status_code == 400 and "unsupported file type '.exe'" in r.json()["error"]
        r = c.post("/api/documents", files={"file": ("../../etc/empty.txt", b"   ")})
        assert r.status_code == 400 and r.json()["error"] == "empty.txt: the document is empty"
        assert c.get("/api/jobs").json() == []  # nothing was queued
    finally:
        app.state.medkg.close()


def test_the_page_and_the_api_docs_load_only_from_the_server(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    docs = client.get("/docs").text
    for html in (page.text, docs):
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"(?:url|Url): '([^']+)'", html)
        assert urls and all(u.startswith(("/", "#")) for u in urls), urls
    for asset in ("/static/app.js", "/static/manage.js", "/static/vendor/cytoscape/cytoscape.min.js",
                  "/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/cytoscape/LICENSE"):
        assert client.get(asset).status_code == 200, asset
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/ask/stream", "/api/documents", "/api/documents/{doc_id}", "/api/concepts",
            "/api/concepts/{concept_id}", "/api/cypher", "/api/sparql", "/api/stats", "/api/health",
            "/api/jobs/{job_id}", "/api/jobs/{job_id}/events"} <= set(paths)


# -- changing the graph -----------------------------------------------------------------------------------------

NOTE = ("CHIEF COMPLAINT: Cough.\n\nHISTORY OF PRESENT ILLNESS: 61-year-old woman with asthma and a cough for "
        "two weeks. Denies shortness of breath.\n\nASSESSMENT: Possible pneumonia.\n")


def wait_for(c: TestClient, job: dict[str, Any], seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while job["finished"] is None and time.monotonic() < deadline:
        time.sleep(0.3)
        job = c.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def test_upload_then_delete_a_report(sample_graph: Path, tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    shutil.copytree(sample_graph, graph)
    with TestClient(create_app(config(graph)), base_url=BASE) as c:
        view = c.get("/api/health").json()["view"]
        r = c.post("/api/documents", files={"file": ("note-77-cough.txt", NOTE.encode())})
        assert r.status_code == 202 and r.json()["ids"] == ["report:note-77-cough"] and r.json()["total"] == 1
        stream = c.get(f"/api/jobs/{r.json()['id']}/events")  # follows the job to its end
        states = [d["state"] for _, d in events(stream.text)]
        assert states[-1] == "done" and "running" in states
        job = wait_for(c, r.json())
        assert job["result"]["added"] == 1 and job["result"]["documents"] == 39
        assert c.get("/api/health").json()["view"] != view  # the open graphs moved to the new view
        doc = c.get("/api/documents/report:note-77-cough").json()
        assert doc["text"] == NOTE and doc["tier"] == 1
        flags = {e["concept_name"]: (e["negated"], e["uncertain"]) for e in doc["entities"]}
        assert flags["Dyspnea"] == (True, False) and flags["Pneumonia"] == (False, True), flags
        asthma = c.get("/api/concepts/MESH:D001249").json()
        assert "report:note-77-cough" in {d["doc_id"] for d in asthma["documents_by_tier"]["1"]}
        r = c.delete("/api/documents/report:note-77-cough")
        assert r.status_code == 202 and r.json()["kind"] == "delete"
        result = wait_for(c, r.json())["result"]
        assert (result["removed"], result["documents"]) == (1, 38)
        assert c.get("/api/documents/report:note-77-cough").status_code == 404
        assert c.get("/api/documents").json()["total"] == 38
        assert c.delete("/api/documents/report:note-77-cough").status_code == 404


def test_a_write_server_changes_the_graph_and_every_view_sees_it(sample_graph: Path, tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    shutil.copytree(sample_graph, graph)
    with TestClient(create_app(config(graph, write=True)), base_url=BASE) as c:
        assert c.get("/api/health").json()["write"] is True
        r = c.post("/api/cypher", json={"query": "MATCH (c:Concept {id: $id}) SET c.definition = $d",
                                        "params": {"id": "MESH:D001064", "d": "Inflammation of the appendix."}})
        assert r.status_code == 200
        assert c.get("/api/concepts/MESH:D001064").json()["definition"] == "Inflammation of the appendix."
