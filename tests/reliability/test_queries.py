"""Hostile Cypher, SPARQL, questions and options against a copy of the sample graph.

Read-only stays read-only (the store and the files around it unchanged, and still readable after), nothing is
sent off the machine, and every query runs under a time limit, a row limit and a memory bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from harness import assert_refused, medkg, snapshot

# statement, a word the message must name; each once stopped the store or wrote outside it
HOSTILE_CYPHER = [
    ("CHECKPOINT", "CHECKPOINT"),  # left the store in pending checkpoint recovery: every later command failed
    ("LOAD EXTENSION '{tmp}/evil.so'", "LOAD"),
    ("INSTALL json", "INSTALL"),  # tried to download
    ("COPY (MATCH (d:Document) RETURN d.id, d.text) TO '{tmp}/leak.csv'", "COPY"),
    ("EXPORT DATABASE '{tmp}/leak'", "EXPORT"),
    ("IMPORT DATABASE '{tmp}/leak'", "IMPORT"),
    ("ATTACH '{tmp}/other.lbug' AS other (dbtype lbug)", "ATTACH"),
    ("LOAD FROM '/etc/passwd' (header=false) RETURN *", "LOAD"),
    ("CALL timeout = 0", "setting"),
    ("MATCH (n) // '\nCREATE (:Concept {{id: 'x'}})", "CREATE"),  # the comment bypass found on Neo4j
    ("MATCH (c:Concept) DETACH DELETE c", "DELETE"),
    ("MATCH (d:Document) RETURN d.id; MATCH (c:Concept) DETACH DELETE c", "one Cypher statement"),
]


@pytest.mark.parametrize(("statement", "named"), HOSTILE_CYPHER)
def test_read_only_cypher_cannot_change_the_store_or_touch_files(graph_copy: Path, sample_snapshot, tmp_path: Path,
                                                                  statement: str, named: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    proc = medkg("cypher", statement.format(tmp=outside), "--graph", graph_copy)
    assert_refused(proc, named)
    assert list(outside.iterdir()) == []  # nothing written, exported or downloaded
    assert snapshot(graph_copy) == sample_snapshot  # and the store still opens and reads (no pending recovery)


@pytest.mark.parametrize("statement", ["CHECKPOINT", "COPY (MATCH (d:Document) RETURN d.id) TO '{tmp}/leak.csv'"])
def test_with_write_files_stay_out_of_reach_and_checkpoint_is_harmless(graph_copy: Path, sample_snapshot,
                                                                       tmp_path: Path, statement: str) -> None:
    proc = medkg("cypher", statement.format(tmp=tmp_path), "--write", "--graph", graph_copy)
    if statement == "CHECKPOINT":
        assert proc.returncode == 0, proc.stderr
    else:
        assert_refused(proc, "COPY")
    assert not (tmp_path / "leak.csv").exists()
    assert snapshot(graph_copy).counts == sample_snapshot.counts


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP endpoint on 127.0.0.1 that records every request it gets."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


@pytest.mark.parametrize(("template", "named"), [
    ("SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", "SERVICE"),
    ("SELECT * FROM <{url}/data.ttl> WHERE {{ ?s ?p ?o }}", "FROM"),
    ("LOAD <{url}/data.ttl>", "LOAD"),
])
def test_sparql_sends_nothing_off_the_machine(graph_copy: Path, listener: tuple[str, list[str]], template: str,
                                              named: str) -> None:
    url, seen = listener
    proc = medkg("sparql", template.format(url=url), "--graph", graph_copy)
    assert_refused(proc, named)
    assert seen == []


def test_a_sparql_cartesian_product_stops_at_the_memory_bound(graph_copy: Path) -> None:
    """This query reached 20 GB in two minutes before; now its process is capped at 2 GB and the CLI says so."""
    proc = medkg("sparql", "SELECT * WHERE {?a ?b ?c . ?d ?e ?f} ORDER BY ?c ?f LIMIT 5", "--timeout", "120",
                 "--graph", graph_copy)
    assert_refused(proc, "memory", "2,048 MB")


def test_a_slow_sparql_query_stops_at_the_time_limit(graph_copy: Path) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE {?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) = STR(?f))}"
    proc = medkg("sparql", q, "--timeout", "2", "--graph", graph_copy)
    assert_refused(proc, "time limit of 2 s")


def test_a_cypher_cartesian_product_stops_at_the_memory_bound(graph_copy: Path) -> None:
    proc = medkg("cypher", "MATCH (a:Entity), (b:Entity), (d:Chunk) RETURN a.id, b.id, d.text ORDER BY d.text, a.id",
                 "--timeout", "120", "--graph", graph_copy)
    assert_refused(proc, "more memory than the store may use")


def test_a_slow_cypher_query_stops_at_the_time_limit(graph_copy: Path) -> None:
    # four-way: the sample's ~500 entities make 6e10 rows, hours of work (a three-way product once finished in 1.9 s)
    proc = medkg("cypher", "MATCH (a:Entity), (b:Entity), (c:Entity), (d:Entity) "
                 "WHERE a.id + b.id + c.id + d.id = 'x' RETURN count(*)", "--timeout", "2", "--graph", graph_copy)
    assert_refused(proc, "time limit of 2 s")


@pytest.mark.parametrize("command", [
    ("cypher", "MATCH (d:Document) RETURN d.id ORDER BY d.id"),
    ("sparql", "PREFIX mkg: <https://w3id.org/medkg#> SELECT ?d WHERE { ?d a mkg:Document } ORDER BY ?d"),
])
def test_the_row_limit_cuts_and_says_so(graph_copy: Path, command: tuple[str, str]) -> None:
    proc = medkg(*command, "--max-rows", "3", "--json", "--graph", graph_copy)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('"d') == 3 and "first 3 rows" in proc.stderr


@pytest.mark.parametrize(("args", "named"), [
    (("ask", "q?", "--budget", "0"), "--budget"),  # silently became 160 before
    (("ask", "q?", "--beam", "-1"), "--beam"),
    (("ask", "q?", "--top-chunks", "-5"), "--top-chunks"),
    (("ask", "q?", "--hops", "-1"), "--hops"),
    (("ask", "q?", "--top-chunks", "1000000000"), "--top-chunks"),
    (("ask", "q?", "--budget", "1e9"), "--budget"),
    (("ask", "q?", "--evidence-weight", "nan"), "--evidence-weight"),
    (("ask", "q?", "--relations", "-3"), "--relations"),
    (("build", "--workers", "-1"), "--workers"),
    (("build", "--workers", "100000"), "--workers"),
    (("build", "--batch-docs", "0"), "--batch-docs"),
    (("cypher", "MATCH (n) RETURN n", "--timeout", "0"), "--timeout"),
    (("cypher", "MATCH (n) RETURN n", "--max-rows", "-1"), "--max-rows"),
    (("sparql", "ASK {}", "--timeout", "-5"), "--timeout"),
    (("serve", "--port", "70000"), "--port"),
    (("serve", "--query-timeout", "inf"), "--query-timeout"),
    (("eval", "qa", "--dataset", "x.json", "--limit", "-2"), "--limit"),
])
def test_absurd_numeric_options_are_refused_before_anything_runs(graph_copy: Path, sample_snapshot,
                                                                 args: tuple[str, ...], named: str) -> None:
    graph = () if args[0] in ("eval",) else ("--graph", str(graph_copy))
    proc = medkg(*args, *graph, timeout=60)
    assert proc.returncode == 2
    assert_refused(proc, named)
    assert snapshot(graph_copy) == sample_snapshot


def test_a_huge_question_is_refused_with_its_length(graph_copy: Path) -> None:
    # 95,000 characters: one command-line argument may not pass 128 KiB
    proc = medkg("ask", "Is aspirin useful? " * 5_000, "--graph", graph_copy)
    assert_refused(proc, "question is 95000 characters long")


def test_an_empty_query_is_refused(graph_copy: Path) -> None:
    assert_refused(medkg("cypher", "  ", "--graph", graph_copy), "empty")
    assert_refused(medkg("sparql", "", "--graph", graph_copy), "empty")
