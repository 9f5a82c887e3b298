"""The ``medkg`` command as a user runs it: real subprocesses, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def medkg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the small model of the tests (SmolLM2), whatever the default model is."""
    return subprocess.run([sys.executable, "-m", "medkg", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MEDKG_LLM_MODEL": "smollm2-135m", **(env or {})})


def test_ask_json_and_plain(sample_graph: Path) -> None:
    q = "Do statins before coronary artery bypass grafting reduce postoperative atrial fibrillation?"
    res = medkg("ask", q, "--json", "--graph", str(sample_graph))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) >= {"answer", "citations", "confidence", "concepts", "retrieval_path", "timings"}
    assert data["citations"] and all({"doc_id", "pmid", "start", "end", "quote", "tier"} <= set(c)
                                     for c in data["citations"])
    plain = medkg("ask", q, "--graph", str(sample_graph))
    assert plain.returncode == 0 and "Citations:" in plain.stdout and "characters" in plain.stdout


def test_graph_from_environment_and_cypher_read_only(sample_graph: Path) -> None:
    env = {"MEDKG_GRAPH": str(sample_graph)}
    res = medkg("cypher", "MATCH (d:Document) WHERE d.tier = $t RETURN count(d) AS n", "--param", "t=1",
                "--json", env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [{"n": 6}]
    res = medkg("cypher", "MATCH (c:Concept) DETACH DELETE c", env=env)
    assert res.returncode == 1 and "read-only" in res.stderr and "Traceback" not in res.stderr
    stats = medkg("stats", "--json", env=env)
    assert json.loads(stats.stdout)["counts"]["Concept"] > 300  # nothing was deleted


def test_stats_export_rdf_and_sparql(sample_graph: Path, tmp_path: Path) -> None:
    env = {"MEDKG_GRAPH": str(sample_graph)}
    stats = json.loads(medkg("stats", "--json", env=env).stdout)
    assert stats["by_tier"]["Document"] == {"1": 6, "2": 32} and stats["bytes"]["store"] > 0
    levels = stats["summaries_by_level"]  # chunks, then fewer topics, then fewer themes
    assert set(levels) == {"0", "1", "2"} and levels["0"] == stats["counts"]["Chunk"] > levels["1"] > levels["2"] > 0
    res = medkg("export", "rdf", "--out", str(tmp_path / "g.nt"), env=env)
    assert res.returncode == 0 and "triples" in res.stdout
    lines = (tmp_path / "g.nt").read_text(encoding="utf-8").splitlines()
    assert any("<http://id.nlm.nih.gov/mesh/D001064>" in ln and "prefLabel" in ln for ln in lines)
    q = ("PREFIX mkg: <https://w3id.org/medkg#> SELECT ?tier (COUNT(?d) AS ?n) "
         "WHERE { ?d a mkg:Document ; mkg:tier ?tier } GROUP BY ?tier ORDER BY ?tier")
    res = medkg("sparql", q, "--json", env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [{"tier": 1, "n": 6}, {"tier": 2, "n": 32}]


@pytest.mark.parametrize("args, env, message", [
    (["ask", ""], {}, "the question is empty"),
    (["ask", "asthma?", "--evidence-weight", "-1"], {}, "argument --evidence-weight: must be at least 0"),
    (["ask", "asthma?", "--graph", "/nonexistent/graph"], {}, "/nonexistent/graph: no graph here"),
    (["ask", "asthma?"], {"MEDKG_LLM_MODEL": "/nonexistent/model.gguf"}, "/nonexistent/model.gguf: LLM model file"),
    (["build", "/nonexistent/input.jsonl", "--graph", "{graph}-new"], {}, "input.jsonl: file not found"),
    (["sparql", "DROP ALL"], {}, "only SELECT and ASK are answered"),
    (["delete", "PMID:404"], {}, "not in the graph"),
    (["summaries", "rewrite", "--graph", "/nonexistent/graph"], {}, "/nonexistent/graph: no graph here"),
    (["summaries", "rewrite", "--levels", "0,3"], {}, "--levels takes 1 and/or 2"),
    (["cypher", "MATCH (n) RETURN count(n)", "--write", "--graph", "/nonexistent/graph"], {}, "no graph here"),
])
def test_errors_are_one_clear_line(sample_graph: Path, args: list[str], env: dict, message: str) -> None:
    args = [a.replace("{graph}", str(sample_graph)) for a in args]
    res = medkg(*args, env={"MEDKG_GRAPH": str(sample_graph), **env})
    assert res.returncode == (2 if message.startswith("argument") else 1)  # 2: refused by the option parser
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_corrupt_graph_is_reported(tmp_path: Path) -> None:
    g = tmp_path / "g"
    g.mkdir()
    (g / "manifest.json").write_text("{", encoding="utf-8")
    res = medkg("stats", "--graph", str(g))
    assert res.returncode == 1 and "damaged manifest" in res.stderr


def test_eval_linking_reports_gold_ids_outside_the_vocabulary(tmp_path: Path) -> None:
    # written for the test in BC5CDR's format; C071741 is remifentanil's id in MeSH 2015, which MeSH 2024 (the
    # bundled vocabulary) has replaced by the descriptor D000077208
    text = "Remifentanil infusion caused muscle rigidity."
    dataset = tmp_path / "gold.pubtator"
    dataset.write_text(f"1|t|{text}\n1|a|Two patients.\n1\t0\t12\tRemifentanil\tChemical\tC071741\n"
                       f"1\t29\t44\tmuscle rigidity\tDisease\tD009127\n\n", encoding="utf-8")
    args = ["eval", "linking", "--dataset", str(dataset), "--vocab-dir", str(tmp_path / "vocab")]
    out = json.loads(medkg(*args, "--json").stdout)
    assert out["outside_vocabulary"] == {"gold_mentions": 1, "span_found": 1}
    assert out["levels"]["mention"]["Chemical"]["tp"] == 1 and out["levels"]["concept"]["Chemical"]["tp"] == 0
