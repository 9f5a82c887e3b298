"""The RDF view on a real embedded store: SKOS concepts, PROV-O derivation, Web Annotation spans, SPARQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from medkg.errors import QueryError
from medkg.kg import rdf
from medkg.kg.batch import GraphBatch
from medkg.kg.records import Document
from medkg.kg.store import open_store
from medkg.pipelines.extractor import Extractor

TEXT = "Denies chest pain. Type 2 diabetes and pneumonia; his mother had anaemia."
MESH = "http://id.nlm.nih.gov/mesh/"


@pytest.fixture
def store(tmp_path: Path, tiny_lexicon_path: Path, tiny_vocabulary):
    doc = Document(id="report:r1", text=TEXT, tier=1, kind="report")
    batch = GraphBatch()
    batch.add_document(doc, Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"})).extract(doc))
    batch.add_concepts(tiny_vocabulary)
    with open_store("embedded", tmp_path / "s.lbug", read_only=False, create=True) as st:
        st.create_schema()
        st.bulk_load(batch)
        yield st


def test_turtle_and_ntriples_hold_the_same_view(store, tmp_path: Path) -> None:
    n = rdf.export(store, tmp_path / "g.ttl", "turtle")
    assert rdf.export(store, tmp_path / "g.nt", "nt") == n
    ttl, nt = Graph().parse(tmp_path / "g.ttl"), Graph().parse(tmp_path / "g.nt", format="nt")
    assert len(ttl) == len(nt) == n
    t2 = URIRef(MESH + "D003924")
    assert (t2, SKOS.prefLabel, Literal("Diabetes Mellitus, Type 2", lang="en")) in nt
    assert (t2, SKOS.broader, URIRef(MESH + "D003920")) in nt
    assert (t2, SKOS.altLabel, Literal("NIDDM", lang="en")) in nt


def test_web_annotation_selectors_point_at_the_quoted_text(store, tmp_path: Path) -> None:
    g = rdf.load_view(store, tmp_path / "cache.nt")
    cols, rows = rdf.sparql(g, """
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?start ?end ?exact WHERE {
          ?a a oa:Annotation ; oa:hasTarget ?t .
          ?t oa:hasSelector ?p , ?q .
          ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
          ?q a oa:TextQuoteSelector ; oa:exact ?exact .
        }""")
    assert cols == ["start", "end", "exact"] and len(rows) == 4
    assert all(TEXT[s:e] == exact for s, e, exact in rows)
    assert (tmp_path / "cache.nt").exists()


def test_sparql_follows_provenance_and_flags(store, tmp_path: Path) -> None:
    g = rdf.load_view(store, tmp_path / "cache.nt")
    _, rows = rdf.sparql(g, """
        PREFIX mkg: <https://w3id.org/medkg#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?label ?doc WHERE {
          ?e mkg:isA ?c ; mkg:negated true ; prov:wasDerivedFrom ?chunk .
          ?chunk prov:wasDerivedFrom ?doc .
          ?c skos:prefLabel ?label .
        }""")
    assert rows == [["Chest Pain", "https://w3id.org/medkg/id/document/report%3Ar1"]]
    assert rdf.sparql(g, "ASK { ?s <https://w3id.org/medkg#family> true }") == (["ask"], [[True]])


def test_updates_and_bad_queries_are_refused(store, tmp_path: Path) -> None:
    g = rdf.load_view(store, tmp_path / "cache.nt")
    size = len(g)
    with pytest.raises(QueryError, match="read-only"):
        rdf.sparql(g, "DELETE WHERE { ?s ?p ?o }")
    with pytest.raises(QueryError, match="SPARQL query failed"):
        rdf.sparql(g, "SELECT ?x WHERE { ?x")
    with pytest.raises(QueryError, match="empty"):
        rdf.sparql(g, "  ")
    assert len(g) == size


def test_ntriples_literals_stay_on_one_line() -> None:
    """A chunk of a report with line breaks ("PATIENT: [NAME]\\nMRN: [MRN]") must export as valid N-Triples."""
    from rdflib import Graph, Literal, URIRef

    from medkg.kg.rdf import _nt

    values = [Literal('PATIENT: [NAME]\nMRN: [MRN]\r\n"quoted" \\ end'), Literal("x", lang="en"), Literal(3)]
    lines = "".join(f"<http://a/s> <http://a/p{i}> {_nt(v)} .\n" for i, v in enumerate(values))
    assert lines.count("\n") == len(values)
    g = Graph()
    g.parse(data=lines, format="nt")
    assert {o for _, _, o in g} == set(values)
    assert _nt(URIRef("http://a/s")) == "<http://a/s>"
