"""``medkg serve`` on the bundled sample graph: the API's overhead over the library, load, and memory.

The real server is started as a child process (``python -m medkg serve --no-preload`` on a free loopback port)
and driven over HTTP with httpx; the library calls run in this process on the same graph. Three parts:

1. **Overhead over the library**, side by side in one loop (library call, then the same over HTTP; one client,
   keep-alive), p50 and p95:

   - *ask retrieval*: the API has no retrieval-only call (``/api/ask`` and ``/api/ask/stream`` load the LLM
     before retrieving, and answer after), so it is the time from ``POST /api/ask/stream`` to its
     ``retrieval`` event against ``KnowledgeGraph.retrieve`` with the same LLM loaded (its tokenizer packs the
     context, so both find the same passages; the table says in how many cases they did). Each stream is read
     to its ``answer`` before the next question, since the server's one LLM thread answers one question at a
     time; the LLM is ``--ask-model`` (SmolLM2-135M by default, options yes/no/maybe, no calibration) on
     ``--ask-threads`` threads (1: ``MEDKG_THREADS``) in a server of its own, so that each answer takes a second or
     so and leaves a core to the rest (llama.cpp on every core of a busy machine slows down many times);
   - *document reads*: ``GET /api/documents/{id}`` against ``KnowledgeGraph.document``, and against what the
     route does in-process besides: ``refresh()``, ``document()`` and ``json.dumps`` of the record.

2. **Load**: ``--clients`` (20) concurrent clients (asyncio, one ``httpx.AsyncClient``) for ``--duration``
   seconds, each request one of ``GET /api/concepts?q=`` (names and prefixes of the graph's most mentioned
   concepts), ``GET /api/documents?q=`` (words of the titles) and ``GET /api/documents/{id}`` at random:
   requests, errors (non-2xx or exceptions), throughput, p50/p95/p99 per endpoint and overall. The issue's
   target: no error and an overall p95 under 300 ms. The machine has 2 cores, shared by the server and this
   client: the report gives the CPU seconds each used and the lag of the client's event loop, so a client
   that was the bottleneck would show (a lag comparable to the latencies, or client CPU near a full core).

3. **Memory** of the server process (RSS, and its peak from ``VmHWM`` in ``/proc/PID/status``): idle after
   start with ``--no-preload`` (three open graphs, no model), after the load test, and after one real
   ``POST /api/ask`` has loaded ``--model`` (default: medkg's default LLM, Qwen2.5-Coder-1.5B; the step is
   skipped, saying so, when the model is not installed); and of part 1's server, idle and after its answers
   (the embedder, the question reader and the small LLM loaded). Without ``--no-preload``, ``medkg serve``
   loads the models at start-up, so its idle memory is about the row of the loaded model.

Prints markdown tables and writes ``bench/results/serve.json``. The sample graph is built into a temporary
directory first (about 40 s), unless ``--graph`` names a built one. A default run takes about 7 minutes on 2
otherwise idle cores, most of it the ~200 answers of SmolLM2 that pace part 1 (then the 60 s load, the build
and one answer of the default model), and several times that on a busy machine, where the answers slow down
most (``--ask-requests`` sets part 1's questions apart from ``--requests``).

    .venv/bin/python bench/serve.py [--graph DIR] [--requests 200] [--duration 60] [--clients 20]
                                    [--model NAME] [--ask-model NAME] [--ask-threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from e2e_sample import QUESTIONS, pct  # the same questions as the end-to-end benchmark

from medkg.errors import ModelError
from medkg.paths import default_models_dir
from medkg.pipelines.build import build_graph, sample_paths
from medkg.queries.api import KnowledgeGraph
from medkg.queries.llm import LLMSettings
from medkg.queries.models import DEFAULT_MODEL, resolve_model

OPTIONS = ["yes", "no", "maybe"]
ASK_BODY = {"options": OPTIONS, "answer": {"calibrate": False}}  # the cheapest answer: one prompt evaluation
TARGET_P95_MS = 300.0


# -- the server ---------------------------------------------------------------------------------------------------
class Server:
    """``medkg serve`` in a child process, on a free loopback port; its log goes to a file."""

    def __init__(self, graph: Path, model: str, log: Path, env: dict[str, str] | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "medkg", "serve", "--graph", str(graph), "--port", str(self.port),
               "--model", model, "--no-preload", "--log-level", "warning"]
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(env or {})})

    def wait_ready(self, timeout: float = 300.0) -> float:
        """Poll ``/api/health`` until it answers 200; returns the seconds from start."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"medkg serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=5).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"medkg serve did not answer /api/health within {timeout:.0f} s:\n{self.tail()}")

    def memory(self) -> dict[str, float]:
        """RSS and peak RSS (VmHWM) in MB."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = round(int(value.split()[0]) / 1024, 1)
        return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully (the app closes its graphs)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


@contextmanager
def serving(graph: Path, model: str, logs: Path, name: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    server = Server(graph, model, logs / f"{name}.log", env)
    try:
        yield server
    finally:
        server.stop()


def model_installed(model: str) -> str:
    """Why ``model`` cannot be loaded, or "" when its file is there."""
    try:
        path = resolve_model(model, default_models_dir(), DEFAULT_MODEL)
    except ModelError as e:
        return str(e)
    return "" if path.is_file() else f"{path}: no such file"


# -- 1. overhead over the library -----------------------------------------------------------------------------
def ms(xs: list[float]) -> dict[str, float]:
    return {"p50_ms": round(1000 * pct(xs, 0.5), 2), "p95_ms": round(1000 * pct(xs, 0.95), 2)}


def stream_ask(client: httpx.Client, question: str) -> tuple[float, float, list[str], str]:
    """(seconds to the ``retrieval`` event, seconds to the end, its passages' chunk ids, the final event)."""
    t0 = time.perf_counter()
    to_retrieval, chunks, event, final = 0.0, [], "", ""
    with client.stream("POST", "/api/ask/stream", json={"question": question, **ASK_BODY}, timeout=300) as r:
        if r.status_code != 200:
            raise SystemExit(f"POST /api/ask/stream: HTTP {r.status_code}: {r.read()[:500]!r}")
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "retrieval":
                to_retrieval = time.perf_counter() - t0
                chunks = [p["chunk_id"] for p in json.loads(line[6:])["passages"]]
            elif line.startswith("data: ") and event in ("answer", "error"):
                final = event if event == "answer" else f"error {line[6:200]}"
                break
    if not to_retrieval:
        raise SystemExit(f"the stream ended without a retrieval event ({final or 'no final event'})")
    return to_retrieval, time.perf_counter() - t0, chunks, final


def ask_overhead(graph: KnowledgeGraph, server: Server, n: int, warmup: int) -> dict[str, Any]:
    lib, api, total, same, finals = [], [], [], 0, Counter()
    with httpx.Client(base_url=server.base, timeout=300) as client:
        for i in range(warmup):
            graph.retrieve(QUESTIONS[i % len(QUESTIONS)])
            stream_ask(client, QUESTIONS[i % len(QUESTIONS)])
        for i in range(n):
            q = QUESTIONS[i % len(QUESTIONS)]
            t0 = time.perf_counter()
            retrieval = graph.retrieve(q)
            lib.append(time.perf_counter() - t0)
            to_retrieval, whole, chunks, final = stream_ask(client, q)
            api.append(to_retrieval)
            total.append(whole)
            same += chunks == [p.chunk_id for p in retrieval.passages]
            finals[final.split(" ")[0]] += 1
    return {"requests": n, "library": ms(lib), "api": ms(api), "stream_to_answer": ms(total),
            "same_passages": same, "final_events": dict(finals)}


def document_overhead(graph: KnowledgeGraph, server: Server, ids: list[str], n: int,
                      warmup: int) -> dict[str, Any]:
    lib, lib_json, api, sizes = [], [], [], []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for i in range(warmup):
            graph.document(ids[i % len(ids)])
            client.get(f"/api/documents/{quote(ids[i % len(ids)], safe=':')}").raise_for_status()
        for i in range(n):
            doc_id = ids[i % len(ids)]
            t0 = time.perf_counter()
            view = graph.document(doc_id)
            t1 = time.perf_counter()
            graph.refresh()  # what the server's handle does before each use
            json.dumps(dataclasses.asdict(view), ensure_ascii=False)
            t2 = time.perf_counter()
            r = client.get(f"/api/documents/{quote(doc_id, safe=':')}")
            t3 = time.perf_counter()
            r.raise_for_status()
            lib.append(t1 - t0)
            lib_json.append(t2 - t0)
            api.append(t3 - t2)
            sizes.append(len(r.content))
    return {"requests": n, "documents": len(ids), "library": ms(lib), "library_json": ms(lib_json), "api": ms(api),
            "mean_response_kb": round(sum(sizes) / len(sizes) / 1024, 1)}


# -- 2. load ------------------------------------------------------------------------------------------------------
def load_targets(graph: KnowledgeGraph, ids: list[str], titles: list[str]) -> dict[str, list[str]]:
    """URLs per endpoint, from the graph's own names: concepts by mentions, words of titles, document ids."""
    rows = graph.cypher("MATCH (c:Concept)<-[:IS_A]-(e:Entity) RETURN c.name AS name, count(e) AS n "
                        "ORDER BY n DESC LIMIT 40")
    names = [r["name"] for r in rows if r["name"]]
    concept_q = names + [n[:4].lower() for n in names]  # whole names, and what a user has typed so far
    words = sorted({w.strip(".,:;()?").lower() for t in titles for w in t.split() if len(w) >= 5})
    doc_q = [*words[:60], "note", "PMID:1"]
    return {"GET /api/concepts?q=": [f"/api/concepts?{urlencode({'q': q})}" for q in concept_q],
            "GET /api/documents?q=": [f"/api/documents?{urlencode({'q': q})}" for q in doc_q],
            "GET /api/documents/{id}": [f"/api/documents/{quote(i, safe=':')}" for i in ids]}


async def run_load(base: str, targets: dict[str, list[str]], clients: int, duration: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    errors: Counter[str] = Counter()
    examples: list[str] = []
    lag: list[float] = []
    names = list(targets)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for urls in targets.values():  # warm up: a few of each, one at a time
            for url in urls[:5]:
                (await client.get(url)).raise_for_status()
        t_start = time.perf_counter()
        stop = t_start + duration

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop:
                name = rng.choice(names)
                url = rng.choice(targets[name])
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                    failure = "" if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
                except (httpx.HTTPError, OSError) as e:
                    failure = f"{type(e).__name__}: {e}"
                latencies[name].append(time.perf_counter() - t0)
                if failure:
                    errors[name] += 1
                    if len(examples) < 5:
                        examples.append(f"{url}: {failure}")

        async def monitor() -> None:  # how late the client's event loop wakes up: a busy client would show here
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                lag.append(time.perf_counter() - t0 - 0.01)

        cpu0 = time.process_time()
        await asyncio.gather(monitor(), *(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - t_start
        client_cpu = time.process_time() - cpu0
    out: dict[str, Any] = {"clients": clients, "seconds": round(elapsed, 1), "client_cpu_s": round(client_cpu, 1),
                           "client_loop_lag_p95_ms": round(1000 * pct(lag, 0.95), 1) if lag else None,
                           "endpoints": {}, "error_examples": examples}
    every = [x for xs in latencies.values() for x in xs]
    for name, xs in [*latencies.items(), ("overall", every)]:
        n_err = errors[name] if name != "overall" else sum(errors.values())
        out["endpoints"][name] = {"requests": len(xs), "errors": n_err, "per_s": round(len(xs) / elapsed, 1),
                                  **{f"p{p}_ms": round(1000 * pct(xs, p / 100), 1) for p in (50, 95, 99)},
                                  "max_ms": round(1000 * max(xs), 1)} if xs else {"requests": 0, "errors": n_err}
    return out


# -- 3. memory ----------------------------------------------------------------------------------------------------
def ask_once(server: Server, question: str) -> dict[str, Any]:
    """One real question through ``POST /api/ask`` (default settings), so that the server loads its LLM."""
    t0 = time.perf_counter()
    r = httpx.post(f"{server.base}/api/ask", json={"question": question, "options": OPTIONS}, timeout=900)
    seconds = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"POST /api/ask: HTTP {r.status_code}: {r.text[:500]}\n{server.tail()}")
    answer = r.json()
    return {"seconds": round(seconds, 2), "answer": answer.get("answer"), "model": answer.get("model"),
            "timings": answer.get("timings")}


def log_problems(logs: Path) -> list[str]:
    """Lines of the servers' logs that look like trouble (they run at --log-level warning)."""
    found = []
    for log in sorted(logs.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if re.search(r"Traceback|ERROR|Exception|WARN|[Ww]arning", line):
                found.append(f"{log.stem}: {line.strip()[:300]}")
    return found[:20]


# -- the report ---------------------------------------------------------------------------------------------------
def print_report(result: dict[str, Any]) -> None:
    print("\n## API overhead over the library (one client, sequential, keep-alive)\n")
    print("| call | library p50 | library p95 | API p50 | API p95 | overhead p50 | API / library p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|")

    def row(name: str, lib: dict[str, float], api: dict[str, float]) -> None:
        ratio = api["p50_ms"] / lib["p50_ms"] if lib["p50_ms"] else float("nan")
        print(f"| {name} | {lib['p50_ms']:.1f} ms | {lib['p95_ms']:.1f} ms | {api['p50_ms']:.1f} ms | "
              f"{api['p95_ms']:.1f} ms | {api['p50_ms'] - lib['p50_ms']:+.1f} ms | x{ratio:.2f} |")

    a = result.get("ask_retrieval")
    if a:
        row("ask retrieval: `retrieve()` vs stream to `retrieval` event", a["library"], a["api"])
    d = result["document_read"]
    row("document read: `document()` vs `GET /api/documents/{id}`", d["library"], d["api"])
    row("document read: `refresh()` + `document()` + `json.dumps` vs the same GET", d["library_json"], d["api"])
    if a:
        threads = result["ask_threads"] or "all"
        print(f"\nask: {a['requests']} questions; the same passages on both sides in {a['same_passages']}; "
              f"whole stream (retrieval + {result['ask_model']} answer on {threads} threads) p50 "
              f"{a['stream_to_answer']['p50_ms']:.0f} ms; final events {a['final_events']}")
    else:
        print(f"\nask retrieval: skipped ({result['ask_skipped']})")
    print(f"documents: {d['requests']} reads over {d['documents']} documents, {d['mean_response_kb']} KiB per reply")

    ld = result["load"]
    print(f"\n## Load: {ld['clients']} concurrent clients for {ld['seconds']} s\n")
    print("| endpoint | requests | errors | req/s | p50 | p95 | p99 | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, e in ld["endpoints"].items():
        if not e["requests"]:
            print(f"| {name} | 0 | {e['errors']} | | | | | |")
            continue
        print(f"| {name} | {e['requests']} | {e['errors']} | {e['per_s']} | {e['p50_ms']} ms | {e['p95_ms']} ms | "
              f"{e['p99_ms']} ms | {e['max_ms']} ms |")
    print(f"\ntarget (no error, overall p95 < {TARGET_P95_MS:.0f} ms): {'met' if ld['target_met'] else 'NOT met'}; "
          f"CPU over the run: server {ld['server_cpu_s']} s, client {ld['client_cpu_s']} s "
          f"(of {2 * ld['seconds']:.0f} core-seconds on 2 cores); client event-loop lag p95 "
          f"{ld['client_loop_lag_p95_ms']} ms")
    for ex in ld["error_examples"]:
        print(f"  error: {ex}")

    print("\n## Memory of the server process\n")
    print("| state | RSS | peak (VmHWM) |")
    print("|---|---:|---:|")
    for name, m in result["memory"].items():
        print(f"| {name} | {m['rss_mb']:.0f} MB | {m['peak_mb']:.0f} MB |")
    if result.get("llm_skipped"):
        print(f"\nLLM memory: skipped ({result['llm_skipped']})")
    elif result.get("llm_ask"):
        q = result["llm_ask"]
        print(f"\nthe ask that loaded {q['model']}: {q['seconds']} s (load included; timings {q['timings']})")
    problems = result.get("server_log_problems") or []
    print(f"\nserver logs: {len(problems)} lines that look like trouble" + (":" if problems else ""))
    for line in problems:
        print(f"  {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", type=Path, help="a built graph (default: build the bundled sample into a temp dir)")
    ap.add_argument("--requests", type=int, default=200, help="requests per side in part 1 (default 200)")
    ap.add_argument("--ask-requests", type=int,
                    help="questions in part 1 (default: --requests; each waits for an answer of --ask-model)")
    ap.add_argument("--warmup", type=int, default=8, help="warm-up requests per side in part 1 (default 8)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load in part 2 (default 60)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients in part 2 (default 20)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help=f"the LLM of part 3 (default {DEFAULT_MODEL})")
    ap.add_argument("--ask-model", default="smollm2-135m",
                    help="the LLM that answers after each retrieval of part 1 (default smollm2-135m)")
    ap.add_argument("--ask-threads", type=int, default=1,
                    help="MEDKG_THREADS of part 1's server (default 1; 0: the server's default, every core)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "serve.json")
    a = ap.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="medkg-bench-serve-") as tmp:
        graph_dir = a.graph
        if graph_dir is None:
            graph_dir = Path(tmp) / "graph"
            print("building the sample graph ...", file=sys.stderr)
            build_graph(sample_paths(), graph_dir)
        result: dict[str, Any] = {"graph": str(graph_dir) if a.graph else "the bundled sample (built here)",
                                  "model": a.model, "ask_model": a.ask_model, "ask_threads": a.ask_threads or None,
                                  "cores": os.cpu_count()}
        ask_missing, llm_missing = model_installed(a.ask_model), model_installed(a.model)
        logs = Path(tmp)
        ask_memory: dict[str, dict[str, float]] = {}
        with KnowledgeGraph.open(graph_dir, llm=LLMSettings(model=a.ask_model)) as graph:
            docs = graph.documents(limit=500).documents
            ids, titles = [d.id for d in docs], [d.title for d in docs]
            result["documents"] = len(ids)

            # 1a. ask retrieval, on a server whose LLM is the small one
            if ask_missing:
                result["ask_skipped"] = ask_missing
                print(f"ask retrieval skipped: {ask_missing}", file=sys.stderr)
            else:
                graph.llm  # noqa: B018  (its tokenizer packs the context, as the server's does)
                env = {"MEDKG_THREADS": str(a.ask_threads)} if a.ask_threads > 0 else {}
                with serving(graph_dir, a.ask_model, logs, "ask", env) as server:
                    server.wait_ready()
                    ask_memory = {"part 1 server: idle after start (--no-preload)": server.memory()}
                    n_ask = a.requests if a.ask_requests is None else a.ask_requests
                    print(f"part 1: ask retrieval x {n_ask} ...", file=sys.stderr)
                    result["ask_retrieval"] = ask_overhead(graph, server, n_ask, a.warmup)
                    ask_memory[f"part 1 server: after its answers ({a.ask_model} loaded)"] = server.memory()

            # 1b, 2 and 3 on a server with the default model, not loaded until the last step
            with serving(graph_dir, a.model, logs, "main") as server:
                result["startup_s"] = round(server.wait_ready(), 1)
                memory = {"idle after start (--no-preload)": server.memory()}
                print(f"part 1: document reads x {a.requests} ...", file=sys.stderr)
                result["document_read"] = document_overhead(graph, server, ids, a.requests, a.warmup)
                targets = load_targets(graph, ids, titles)
                print(f"part 2: {a.clients} clients for {a.duration:g} s ...", file=sys.stderr)
                cpu0 = server.cpu_seconds()
                load = asyncio.run(run_load(server.base, targets, a.clients, a.duration))
                load["server_cpu_s"] = round(server.cpu_seconds() - cpu0, 1)
                overall = load["endpoints"]["overall"]
                load["target_met"] = bool(overall["requests"] and overall["errors"] == 0
                                          and overall["p95_ms"] < TARGET_P95_MS)
                result["load"] = load
                memory["after the load test"] = server.memory()
                if llm_missing:
                    result["llm_skipped"] = llm_missing
                    print(f"LLM memory skipped: {llm_missing}", file=sys.stderr)
                else:
                    print(f"part 3: one ask with {a.model} ...", file=sys.stderr)
                    result["llm_ask"] = ask_once(server, QUESTIONS[0])
                    memory[f"after one ask ({a.model} loaded)"] = server.memory()
                result["memory"] = {**memory, **ask_memory}
        result["server_log_problems"] = log_problems(logs)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    print_report(result)
    print(f"\nwhole run: {result['bench_seconds']} s")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
