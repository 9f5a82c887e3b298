"""The RDF view of a graph, and SPARQL over it.

Standard vocabularies where one fits, so the export opens in any RDF tool:

- concepts are SKOS (``skos:prefLabel``, ``altLabel``, ``definition``,
  ``notation``, ``broader``; MAPS_TO is ``skos:exactMatch``) with their
  authorities' IRIs (``http://id.nlm.nih.gov/mesh/D003924``,
  ``http://purl.obolibrary.org/obo/HP_0001627``);
- derivation is PROV-O: a chunk ``prov:wasDerivedFrom`` its document, an
  entity its chunk, a relation its chunk;
- where an entity was read is a W3C Web Annotation: an ``oa:Annotation`` whose
  body is the entity and whose target is the document with an
  ``oa:TextPositionSelector`` (start, end: character offsets, end exclusive)
  and an ``oa:TextQuoteSelector`` (the exact text);
- the rest (tiers, flags, link scores, summaries) is in medkg's namespace
  ``https://w3id.org/medkg#``; documents, chunks, entities and summaries are
  ``https://w3id.org/medkg/id/<kind>/<url-quoted id>``.

Triples are produced page by page from the store, so export streams; the
N-Triples written for a view are cached in the view (views never change) and
loaded into Oxigraph (``oxrdflib``) for SPARQL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from medkg.errors import InputError, QueryError
from medkg.kg import cypher
from medkg.kg.records import chunk_position
from medkg.kg.store import GraphStore

log = logging.getLogger(__name__)

MKG = Namespace("https://w3id.org/medkg#")
ID = "https://w3id.org/medkg/id/"
OA = Namespace("http://www.w3.org/ns/oa#")
PAGE = 5000
# typed relations stated between concepts (co-occurrence stays on the relation nodes: it states nothing)
CONCEPT_PREDICATES = {"INDUCES": MKG.induces, "TREATS": MKG.treats}
FORMATS = {"turtle": "turtle", "ttl": "turtle", "nt": "nt", "ntriples": "nt", "n-triples": "nt"}

_OBO = ("HP", "MONDO", "DOID", "GO", "CHEBI", "UBERON", "NCIT", "ORPHA")
_AUTHORITY = {"MESH": "http://id.nlm.nih.gov/mesh/", "UMLS": "https://uts.nlm.nih.gov/uts/umls/concept/",
              "ICD10CM": "http://purl.bioontology.org/ontology/ICD10CM/", "OMIM": "https://omim.org/entry/",
              "SNOMEDCT": "http://snomed.info/id/", "RXNORM": "http://purl.bioontology.org/ontology/RXNORM/"}

Triple = tuple[URIRef | BNode, URIRef, URIRef | BNode | Literal]


def concept_iri(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    if prefix in _AUTHORITY:
        return URIRef(_AUTHORITY[prefix] + quote(local, safe=""))
    if prefix in _OBO:
        return URIRef(f"http://purl.obolibrary.org/obo/{prefix}_{quote(local, safe='')}")
    return URIRef(f"{ID}concept/{quote(curie, safe='')}")


def node_iri(kind: str, key: str) -> URIRef:
    return URIRef(f"{ID}{kind}/{quote(key, safe='')}")


def _pages(store: GraphStore, stmt: str) -> Iterator[dict]:
    skip = 0
    while True:
        rows = store.query(stmt, {"skip": skip, "limit": PAGE})
        yield from rows
        if len(rows) < PAGE:
            return
        skip += PAGE


def triples(store: GraphStore) -> Iterator[Triple]:
    """Every triple of the RDF view, streamed from the store."""
    for r in _pages(store, cypher.RDF_CONCEPTS):
        c = concept_iri(r["id"])
        yield c, RDF.type, SKOS.Concept
        yield c, SKOS.notation, Literal(r["id"])
        yield c, SKOS.prefLabel, Literal(r["name"], lang="en")
        yield c, SKOS.inScheme, node_iri("scheme", r["vocab"] or "")
        for s in r["synonyms"] or []:
            yield c, SKOS.altLabel, Literal(s, lang="en")
        if r["definition"]:
            yield c, SKOS.definition, Literal(r["definition"], lang="en")
    for stmt, pred in ((cypher.RDF_BROADER, SKOS.broader), (cypher.RDF_MAPS_TO, SKOS.exactMatch)):
        for r in _pages(store, stmt):
            yield concept_iri(r["a"]), pred, concept_iri(r["b"])
    yield from _document_triples(store)
    yield from _entity_triples(store)
    yield from _summary_triples(store)


def _document_triples(store: GraphStore) -> Iterator[Triple]:
    for r in _pages(store, cypher.RDF_DOCUMENTS):
        d = node_iri("document", r["id"])
        yield d, RDF.type, MKG.Document
        yield d, RDF.type, PROV.Entity
        yield d, DCTERMS.identifier, Literal(r["id"])
        yield d, MKG.tier, Literal(r["tier"])
        yield d, MKG.kind, Literal(r["kind"])
        if r["title"]:
            yield d, DCTERMS.title, Literal(r["title"])
        if r["pmid"]:
            yield d, MKG.pmid, Literal(r["pmid"])
    for r in _pages(store, cypher.RDF_CHUNKS):
        c = node_iri("chunk", r["id"])
        yield c, RDF.type, MKG.Chunk
        yield c, PROV.wasDerivedFrom, node_iri("document", r["doc_id"])
        yield c, MKG.start, Literal(r["start"], datatype=XSD.integer)
        yield c, MKG.end, Literal(r["end_"], datatype=XSD.integer)
        yield c, MKG.section, Literal(r["section"] or "")
        yield c, MKG.text, Literal(r["text"])
    for r in _pages(store, cypher.RDF_NEXT):
        yield node_iri("chunk", r["a"]), MKG.next, node_iri("chunk", r["b"])


def _entity_triples(store: GraphStore) -> Iterator[Triple]:
    for r in _pages(store, cypher.RDF_ENTITIES):
        e = node_iri("entity", r["id"])
        yield e, RDF.type, MKG.Entity
        yield e, RDFS.label, Literal(r["name"])
        yield e, MKG.tier, Literal(r["tier"])
        yield e, MKG.semanticGroup, Literal(r["semantic_group"])
        yield e, PROV.wasDerivedFrom, node_iri("chunk", r["chunk_id"])
        yield e, MKG.isA, concept_iri(r["concept_id"])
        yield e, MKG.linkScore, Literal(float(r["score"]))
        yield e, MKG.linkMethod, Literal(r["method"])
        for flag in ("negated", "uncertain", "historical", "family"):
            yield e, MKG[flag], Literal(bool(r[flag]))
    for r in _pages(store, cypher.RDF_MENTIONS):
        ann, target, pos, quote_sel = BNode(), BNode(), BNode(), BNode()
        yield ann, RDF.type, OA.Annotation
        yield ann, OA.hasBody, node_iri("entity", r["entity"])
        yield ann, OA.hasTarget, target
        yield target, OA.hasSource, node_iri("document", r["doc_id"])
        yield target, OA.hasSelector, pos
        yield pos, RDF.type, OA.TextPositionSelector
        yield pos, OA.start, Literal(r["start"], datatype=XSD.nonNegativeInteger)
        yield pos, OA.end, Literal(r["end_"], datatype=XSD.nonNegativeInteger)
        yield target, OA.hasSelector, quote_sel
        yield quote_sel, RDF.type, OA.TextQuoteSelector
        yield quote_sel, OA.exact, Literal(r["text"])
    for r in _pages(store, cypher.RDF_RELATED):
        yield from _relation_triples(r)
    for r in _pages(store, cypher.RDF_REFERENCES):
        yield node_iri("entity", r["a"]), MKG.references, node_iri("entity", r["b"])


def _relation_triples(r: dict) -> Iterator[Triple]:
    """An edge between two entities, and for a typed one the statement between their concepts.

    Every edge is a ``mkg:Relation`` node (source and target entities, type, score, method, flags) derived
    from its chunk (PROV-O), with a Web Annotation whose ``oa:TextPositionSelector`` points at the evidence
    sentence(s) in the document. A typed relation (``INDUCES``, ``TREATS``) the text asserts, neither
    negated nor speculative, is also stated directly between the two concepts (``mkg:induces``,
    ``mkg:treats``); the relation node reifies that triple (``rdf:subject``, ``rdf:predicate``,
    ``rdf:object``), so ``?drug mkg:induces ?disease`` finds the statement and its evidence is one hop away.
    """
    rel = node_iri("relation", f"{r['a']}|{r['type']}|{r['b']}")
    yield rel, RDF.type, MKG.Relation
    yield rel, MKG.source, node_iri("entity", r["a"])
    yield rel, MKG.target, node_iri("entity", r["b"])
    yield rel, MKG.relationType, Literal(r["type"])
    yield rel, MKG.score, Literal(float(r["score"]))
    yield rel, MKG.method, Literal(r["method"])
    yield rel, MKG.negated, Literal(bool(r["negated"]))
    yield rel, MKG.speculative, Literal(bool(r["speculative"]))
    yield rel, PROV.wasDerivedFrom, node_iri("chunk", r["chunk_id"])
    ann, target, pos = BNode(), BNode(), BNode()
    yield ann, RDF.type, OA.Annotation
    yield ann, OA.motivatedBy, OA.describing
    yield ann, OA.hasBody, rel
    yield ann, OA.hasTarget, target
    yield target, OA.hasSource, node_iri("document", chunk_position(r["chunk_id"])[0])
    yield target, OA.hasSelector, pos
    yield pos, RDF.type, OA.TextPositionSelector
    yield pos, OA.start, Literal(r["start"], datatype=XSD.nonNegativeInteger)
    yield pos, OA.end, Literal(r["end_"], datatype=XSD.nonNegativeInteger)
    predicate = CONCEPT_PREDICATES.get(r["type"])
    if predicate is not None and not r["negated"] and not r["speculative"]:
        a, b = concept_iri(r["concept_a"]), concept_iri(r["concept_b"])
        yield a, predicate, b
        # the relation node is the statement's reification: rdf:subject/predicate/object name the triple
        yield rel, RDF.type, RDF.Statement
        yield rel, RDF.subject, a
        yield rel, RDF.predicate, predicate
        yield rel, RDF.object, b


def _summary_triples(store: GraphStore) -> Iterator[Triple]:
    for r in _pages(store, cypher.RDF_SUMMARIES):
        s = node_iri("summary", r["id"])
        yield s, RDF.type, MKG.Summary
        yield s, MKG.level, Literal(r["level"])
        yield s, MKG.text, Literal(r["text"])
        for t in r["tags"] or []:
            yield s, MKG.tag, Literal(t)
    for r in _pages(store, cypher.RDF_SUMMARIZES):
        yield node_iri("summary", r["a"]), MKG.summarizes, node_iri("chunk", r["b"])
    for r in _pages(store, cypher.RDF_CHILD_OF):
        yield node_iri("summary", r["a"]), MKG.childOf, node_iri("summary", r["b"])


def bind_prefixes(g: Graph) -> None:
    for prefix, ns in (("mkg", MKG), ("oa", OA), ("skos", SKOS), ("prov", PROV), ("dcterms", DCTERMS),
                       ("mesh", "http://id.nlm.nih.gov/mesh/"), ("obo", "http://purl.obolibrary.org/obo/"),
                       ("kgid", ID)):
        g.bind(prefix, ns)


def export(store: GraphStore, out: Path, fmt: str = "turtle") -> int:
    """Write the RDF view to ``out``; returns the number of triples."""
    kind = FORMATS.get(fmt.lower())
    if kind is None:
        raise InputError(f"unknown RDF format {fmt!r}; use turtle or nt")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # unique: two exports never share a file
    try:
        n = _write(store, tmp, kind)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{out}: cannot write the RDF export ({e.strerror or e})") from e
    os.replace(tmp, out)
    log.info("wrote %d triples to %s", n, out)
    return n


def _write(store: GraphStore, tmp: Path, kind: str) -> int:
    n = 0
    if kind == "nt":  # streamed: a line per triple, no graph in memory
        with open(tmp, "w", encoding="utf-8") as f:
            for s, p, o in triples(store):
                f.write(f"{s.n3()} {p.n3()} {_nt(o)} .\n")
                n += 1
    else:  # N-Triples first (streamed), then Oxigraph parses and writes them as Turtle
        n = _write(store, tmp, "nt")
        g = Graph(store="Oxigraph")
        g.parse(str(tmp), format="nt")
        bind_prefixes(g)
        g.serialize(destination=str(tmp), format="turtle")
    return n


_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _nt(term: Any) -> str:
    """A term as N-Triples writes it: a literal on one line (``Literal.n3`` writes a text with a line break
    as a Turtle long string, which N-Triples parsers reject)."""
    if not isinstance(term, Literal):
        return str(term.n3())
    suffix = f"@{term.language}" if term.language else f"^^<{term.datatype}>" if term.datatype else ""
    return f'"{str(term).translate(_NT_ESCAPES)}"{suffix}'


def load_view(store: GraphStore, cache: Path) -> Graph:
    """The RDF view as an Oxigraph-backed rdflib graph, from ``cache`` (N-Triples), written first if missing."""
    if not cache.exists():
        export(store, cache, "nt")
    g = Graph(store="Oxigraph")
    g.parse(str(cache), format="nt")
    bind_prefixes(g)
    return g


def sparql(g: Graph, query: str, *, max_rows: int | None = None) -> tuple[list[str], list[list[object]]]:
    """Run a SELECT or ASK query; returns (column names, rows of plain Python values), at most ``max_rows + 1``
    rows when ``max_rows`` is given. Users' queries go through :func:`medkg.kg.sparql.run_bounded`."""
    if not query.strip():
        raise QueryError("the SPARQL query is empty")
    try:
        result = g.query(query)
    except Exception as e:
        raise QueryError(f"SPARQL query failed ({e}); only SELECT and ASK are answered: the view is read-only"
                         ) from e
    if result.type == "ASK":
        return ["ask"], [[bool(result.askAnswer)]]
    if result.type != "SELECT":
        raise QueryError(f"only SELECT and ASK queries are answered here (got {result.type})")
    cols = [str(v) for v in result.vars or []]
    rows: Any = result  # a SELECT result iterates over rows of rdflib terms
    rows = rows if max_rows is None else islice(rows, max_rows + 1)
    return cols, [[None if v is None else v.toPython() for v in row] for row in rows]
