"""What users' Cypher and SPARQL may do (medkg.kg.guard, medkg.kg.sparql): checked on tokens, not on text."""

from __future__ import annotations

import pytest

from medkg.errors import QueryError
from medkg.kg import cypher
from medkg.kg.guard import check_cypher, tokens
from medkg.kg.sparql import check_sparql

READS = [
    "MATCH (d:Document) RETURN count(d) AS n",
    "MATCH (d:Document) WHERE d.title CONTAINS 'CREATE a node; DELETE it' RETURN d.id",  # words in a string
    "MATCH (d:Document) RETURN d.id AS set, d.tier AS delete",  # aliases
    "MATCH (n) WHERE n.set = 1 RETURN {create: n.id}",  # a property and a map key
    "MATCH (set:Document) RETURN set.id",  # a variable with a label
    "OPTIONAL MATCH (c:Concept) RETURN c LIMIT 1",
    "UNWIND [1, 2] AS x RETURN x",
    "CALL show_tables() RETURN *",
    "CALL db.labels()",
    "MATCH (d:Document) CALL { WITH d MATCH (d)-[:HAS_CHUNK]->(c) RETURN count(c) AS k } RETURN d.id, k",
    "// a comment with CREATE in it\nMATCH (n) RETURN n /* and DELETE here */ LIMIT 1",
    "MATCH (d:Document) RETURN d.id;",  # one statement with its semicolon
]

REFUSED_READ_ONLY = [
    ("CHECKPOINT", "CHECKPOINT"),
    ("MATCH (c:Concept) DETACH DELETE c", "DELETE"),
    ("MATCH (n) SET n.x = 1", "SET"),
    ("MATCH (n) // '\nCREATE (:Concept {id: 'x'})", "CREATE"),  # a quote inside a comment hid this once
    ("MATCH (n) /* ' */ MERGE (:Concept {id: 'x'})", "MERGE"),
    ("CALL db.createLabel('X')", "db.createLabel"),
    ("CALL apoc.load.json('http://example.org')", "apoc.load.json"),
    ("BEGIN TRANSACTION", "BEGIN"),
    ("MATCH (n) FOREACH (x IN [1] | CREATE (:A))", "CREATE"),
]

REFUSED_ALWAYS = [
    ("COPY (MATCH (d:Document) RETURN d.id) TO '/tmp/x.csv'", "COPY"),
    ("COPY Document FROM '/tmp/x.csv'", "COPY"),
    ("EXPORT DATABASE '/tmp/out'", "EXPORT"),
    ("IMPORT DATABASE '/tmp/out'", "IMPORT"),
    ("LOAD EXTENSION '/tmp/evil.so'", "LOAD"),
    ("INSTALL json", "INSTALL"),
    ("LOAD FROM '/etc/passwd' RETURN *", "LOAD"),
    ("LOAD CSV FROM 'http://example.org/x.csv' AS row RETURN row", "LOAD"),
    ("ATTACH '/tmp/other.lbug' AS o (dbtype lbug)", "ATTACH"),
    ("USE other MATCH (n) RETURN n", "USE"),
    ("CALL timeout = 0", "setting"),
    ("MATCH (n) RETURN n; MATCH (m) RETURN m", "one Cypher statement"),
]


@pytest.mark.parametrize("query", READS)
def test_read_queries_pass(query: str) -> None:
    check_cypher(query)


@pytest.mark.parametrize(("query", "named"), REFUSED_READ_ONLY)
def test_changes_are_refused_on_a_read_only_graph_and_allowed_with_write(query: str, named: str) -> None:
    with pytest.raises(QueryError, match="read-only") as e:
        check_cypher(query)
    assert named in str(e.value)
    check_cypher(query, write=True)


@pytest.mark.parametrize(("query", "named"), REFUSED_ALWAYS)
def test_files_extensions_settings_are_refused_even_with_write(query: str, named: str) -> None:
    for write in (False, True):
        with pytest.raises(QueryError) as e:
            check_cypher(query, write=write)
        assert named in str(e.value)


@pytest.mark.parametrize("query", ["MATCH (n) WHERE n.id = 'open RETURN n", "MATCH (n) /* RETURN n"])
def test_unterminated_strings_and_comments_are_refused(query: str) -> None:
    with pytest.raises(QueryError, match="unterminated"):
        check_cypher(query)


def test_tokens_skip_comments_and_keep_strings_whole() -> None:
    kinds = [(t.kind, t.text) for t in tokens("MATCH (n) // x\nRETURN 'a // b'")]
    assert ("string", "'a // b'") in kinds and ("word", "x") not in kinds


def test_medkg_own_read_statements_pass_and_its_writes_do_not() -> None:
    """The guard sits in front of every read on a read-only store, medkg's own statements included."""
    statements = {k: v for k, v in vars(cypher).items() if isinstance(v, str) and k.isupper()
                  and any(w in v.upper() for w in ("MATCH", "RETURN"))}
    refused = set()
    for name, stmt in statements.items():
        try:
            check_cypher(stmt.replace("{table}", "X").replace("{label}", "X"))
        except QueryError:
            refused.add(name)
    assert refused and all(n.startswith(("SET_", "DELETE_")) for n in refused), sorted(refused)


@pytest.mark.parametrize(("query", "named"), [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("select * where { service silent <http://example.org/> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "INSERT"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("DROP ALL", "DROP"),
    ("", "empty"),
])
def test_sparql_refuses_remote_endpoints_datasets_and_updates(query: str, named: str) -> None:
    with pytest.raises(QueryError) as e:
        check_sparql(query)
    assert named in str(e.value)


@pytest.mark.parametrize("query", [
    "PREFIX from: <urn:x#> SELECT ?service WHERE { ?service from:service 'SERVICE FROM' } # SERVICE\n",
    "SELECT ?s WHERE { ?s <http://example.org/service/from> ?o }",
    "ASK { }",
])
def test_sparql_words_in_names_strings_iris_and_comments_pass(query: str) -> None:
    check_sparql(query)
