"""Typed relations end to end: the bundled model, training and evaluation commands, the graph, RDF, U-Retrieve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medkg.kg.records import Document, Section
from medkg.pipelines.build import build_graph
from medkg.pipelines.relations.model import RELATION_MODEL_DIR, RelationModel
from medkg.pipelines.relations.training import annotated_texts
from medkg.queries.api import KnowledgeGraph
from medkg.queries.llm import LLMSettings
from medkg.queries.settings import RetrievalSettings

FIXTURE = "relations_synthetic.pubtator"
INDUCED = ("Carbamazepine-induced hepatitis in patients treated for epilepsy. We describe 3 patients with epilepsy "
           "who were treated with carbamazepine. Severe hepatitis developed after carbamazepine was started and "
           "resolved when it was stopped.")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medkg", *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "MEDKG_VOCAB": "/nonexistent-medkg-vocab"})


@pytest.fixture(scope="module")
def relation_graph(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("relations") / "graph"
    build_graph([fixtures / FIXTURE], path)
    return path


def test_the_bundled_model_reads_an_inducing_statement_with_its_evidence(fixtures: Path) -> None:
    model = RelationModel.load(RELATION_MODEL_DIR)
    assert set(model.types) == {"INDUCES", "TREATS"}
    text = annotated_texts(fixtures / FIXTURE)[0]
    found = {(r.type, r.chemical_id, r.disease_id): r for r in model.extract([text])[0]}
    r = found[("INDUCES", "D002220", "D006505")]  # carbamazepine induces hepatitis
    evidence = text.text[r.start : r.end]
    assert "arbamazepine" in evidence and "hepatitis" in evidence and r.method == "relation-model-v1"
    assert ("INDUCES", "D002220", "D004827") not in found  # nor does it induce the epilepsy it treats


def test_a_graph_holds_typed_edges_that_concept_queries_find(relation_graph: Path) -> None:
    with KnowledgeGraph.open(relation_graph) as graph:
        # the concept-level query of docs/graph-schema.md, in its two-step form, finds every typed edge
        rows = graph.cypher("MATCH (a:Entity)-[r:RELATED {type: 'INDUCES'}]->(b:Entity) "
                            "WITH a, b, r MATCH (c:Concept)<-[:IS_A]-(a), (b)-[:IS_A]->(d:Concept) "
                            "RETURN c.name AS drug, d.name AS disease, r.method AS m")
        edges = graph.cypher("MATCH (a:Entity)-[r:RELATED]->(b:Entity) WHERE r.type = 'INDUCES' "
                             "RETURN a.name AS drug, b.name AS disease")
        pairs = {(r["drug"], r["disease"]) for r in rows}
        assert len(rows) == len(edges) and pairs == {(r["drug"], r["disease"]) for r in edges}
        assert ("Carbamazepine", "Hepatitis") in pairs and ("Haloperidol", "Tremor") in pairs
        assert {r["m"] for r in rows} == {"relation-model-v1"}
        spans = graph.cypher("MATCH (a:Entity)-[r:RELATED {type: 'INDUCES'}]->(b:Entity) "
                             "RETURN r.chunk_id AS chunk, r.start AS s, r.`end` AS e, r.negated AS neg")
        assert spans and not any(r["neg"] for r in spans)
        co = graph.cypher("MATCH ()-[r:RELATED {type: 'co_occurs'}]->() RETURN count(r) AS n")
        assert co[0]["n"] > 0  # co-occurrence stays, as its own weaker type


def test_sparql_states_typed_relations_between_concepts_with_evidence(fixtures: Path, relation_graph: Path) -> None:
    docs = (fixtures / FIXTURE).read_text().split("\n\n")
    text = {}
    for block in docs:
        lines = block.splitlines()
        pmid, title = lines[0].split("|t|")
        text[f"PMID:{pmid}"] = title + " " + lines[1].split("|a|")[1]
    query = """
    PREFIX mkg: <https://w3id.org/medkg#>
    PREFIX oa: <http://www.w3.org/ns/oa#>
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    PREFIX dct: <http://purl.org/dc/terms/>
    SELECT ?drug ?disease ?docid ?start ?end WHERE {
      ?drug mkg:induces ?disease .
      ?rel rdf:subject ?drug ; rdf:predicate mkg:induces ; rdf:object ?disease .
      ?ann oa:hasBody ?rel ; oa:hasTarget ?t .
      ?t oa:hasSource ?doc ; oa:hasSelector ?sel .
      ?sel a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
      ?doc dct:identifier ?docid .
    }"""
    with KnowledgeGraph.open(relation_graph) as graph:
        cols, rows = graph.sparql(query)
    assert cols == ["drug", "disease", "docid", "start", "end"] and rows
    assert any(str(r[0]).endswith("/D002220") and str(r[1]).endswith("/D006505") for r in rows)
    for _, _, docid, start, end in rows:  # the evidence is a span of the document that names both
        assert 0 <= int(start) < int(end) <= len(text[str(docid)])


def test_uretrieve_follows_a_typed_relation_to_the_passage_that_states_it(relation_graph: Path) -> None:
    with KnowledgeGraph.open(relation_graph, llm=LLMSettings(model="smollm2-135m")) as graph:
        r = graph.retrieve("Does haloperidol induce tremor?", RetrievalSettings(relations=2))
        followed = r.path["relations"]
        assert followed and followed[0]["type"] == "INDUCES"
        assert followed[0]["source"] == "MESH:D006220" and followed[0]["target"] == "MESH:D014202"
        assert r.passages[0].chunk_id == followed[0]["chunk"] and r.passages[0].reason.startswith("relation")
        plain = graph.retrieve("Does haloperidol induce tremor?", RetrievalSettings(relations=0))
        assert "relations" not in plain.path


def test_train_and_eval_relations_commands(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    res = run("train", "relations", str(fixtures / FIXTURE), "--out", str(out), "--heldout", "0",
              "--labels", f"TREATS={fixtures / 'treats_labels_synthetic.tsv'}:train")
    assert res.returncode == 0, res.stderr
    assert "INDUCES (14 documents, 14 positive pairs), TREATS (10 documents, 10 positive pairs)" in res.stdout
    assert set(RelationModel.load(out).types) == {"INDUCES", "TREATS"}
    ev = run("eval", "relations", "--dataset", str(fixtures / FIXTURE), "--gold-entities", "--model", str(out),
             "--json")
    assert ev.returncode == 0, ev.stderr
    report = json.loads(ev.stdout)
    assert {"precision", "recall", "f1", "types"} <= set(report) and report["entities"] == "gold"
    assert report["types"]["INDUCES"]["recall"] >= 0.9  # the training documents themselves
    e2e = run("eval", "relations", "--dataset", str(fixtures / FIXTURE), "--limit", "3", "--json")
    assert e2e.returncode == 0, e2e.stderr
    assert json.loads(e2e.stdout)["entities"] == "medkg" and json.loads(e2e.stdout)["documents"] == 3
    bad = run("train", "relations", str(fixtures / FIXTURE), "--out", str(tmp_path / "m2"), "--labels", "TREATS")
    assert bad.returncode == 1 and "--labels takes TYPE=VALUE" in bad.stderr


def test_the_extractor_relates_a_document_and_knows_its_title(relation_graph: Path) -> None:
    """The extractor tells the relation stage where a document's title ends (its first sentence)."""
    from medkg.kg.graphdir import GraphDir
    from medkg.pipelines.extractor import Extractor

    ex = Extractor(GraphDir(relation_graph).lexicon_path)
    title_end = INDUCED.index(".") + 1
    doc = Document(id="T", text=INDUCED, sections=(Section("TITLE", 0, title_end),))
    assert ex._make_doc(doc)._.title_end == title_end
    assert ex._make_doc(Document(id="U", text=INDUCED))._.title_end == 0
    graphs = ex.extract(doc)
    names = {e.id: e.name for g in graphs for e in g.entities}
    typed = {(names[r.source], r.type, names[r.target]) for g in graphs for r in g.relations if r.type != "co_occurs"}
    assert ("Carbamazepine", "INDUCES", "Hepatitis") in typed
    assert all(r.start < r.end <= len(INDUCED) for g in graphs for r in g.relations)
