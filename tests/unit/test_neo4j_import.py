"""The neo4j-admin import files (kg/neo4j_import.py), written from a real embedded store and read back.

The reader (tests/neo4j_import_files.py) follows the importer's documented rules; every row of every table
must come back with the values, types and nulls the store holds, through quotes, commas, semicolons and line
breaks in texts and list items.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from neo4j_import_files import id_spaces, parse_header, raw_rows, records

from medkg.errors import InputError
from medkg.kg import cypher
from medkg.kg.batch import GraphBatch
from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.neo4j_import import ARRAY_DELIMITER, ImportFiles, cell, header, schema_statements, write_import_files
from medkg.kg.neo4j_store import _split_by_document, document_digest
from medkg.kg.records import Document
from medkg.kg.schema import NODE_TABLES, NODES, REL_TABLES, RELS
from medkg.kg.store import GraphStore, open_store
from medkg.ontologies.concept import Concept
from medkg.pipelines.extractor import Extractor

TEXT = 'He said "no chest pain",\r\nthen: pneumonia; type 2 diabetes.\nHis mother had anaemia.'
TRICKY = Concept("MESH:T1", "MESH", 'Odd "name", with; separators',
                 synonyms=("a,b", "c;d", 'q"uote', "[x]", "line\nbreak"), semantic_types=(),
                 definition="two\nlines, \"quoted\"", tree_numbers=("C01.002",), vocab_version="t")


class Made(NamedTuple):
    store: GraphStore
    batch: GraphBatch  # every row in the store
    extracted: GraphBatch  # the rows the ledger's documents give (the hand-made edges left out)
    ledger: Path


@pytest.fixture
def graph(tmp_path: Path, tiny_lexicon_path: Path, tiny_vocabulary) -> Iterator[Made]:
    """A real embedded store holding two documents, the tiny vocabulary and hand-made awkward values, and the
    ledger those documents came from."""
    extractor = Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"}))
    batch, extracted, recs = GraphBatch(), GraphBatch(), []  # extracted: the documents' rows alone, as a build has them
    docs = [Document(id="report:q", text=TEXT, tier=1, kind="report", title='A "quoted", title\nin two lines'),
            Document(id="PMID:7", text="Pneumonia and anaemia in AIDS. Anaemia was frequent.", pmid="7")]
    for doc in docs:
        graphs = extractor.extract(doc)
        batch.add_document(doc, graphs)
        extracted.add_document(doc, graphs)
        recs.append(LedgerRecord(doc, graphs, np.zeros((len(graphs), 4), dtype=np.float32)))
    batch.add_concepts([*tiny_vocabulary.concepts.values(), TRICKY])
    ents = [row[0] for row in batch.nodes["Entity"]]
    batch.rels["RELATED"].append((ents[0], ents[1], "INDUCES", "report:q#c0", 0, 10, 0.1 + 0.2, "model", False, True))
    batch.rels["REFERENCES"].append((ents[0], ents[-1], 1 / 3))
    batch.nodes["Summary"].append(("S:1", 1, [], "a topic,\n\"quoted\"", 2))
    batch.nodes["Summary"].append(("S:0", 0, ["tree:C08", "group:DISO"], "", 1))
    batch.rels["CHILD_OF"].append(("S:0", "S:1"))
    st = open_store("embedded", tmp_path / "store.lbug", read_only=False, create=True)
    st.create_schema()
    st.bulk_load(batch)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.put(recs, "fp")
    yield Made(st, batch, extracted, tmp_path / "ledger.sqlite")
    st.close()


def _normal(value: object) -> object:
    """What a server holds for a value medkg writes: empty strings and empty lists are unset."""
    if value == "" or value == []:
        return None
    return list(value) if isinstance(value, tuple) else value


def test_headers_name_id_spaces_types_label_and_type() -> None:
    assert header("Document") == ["id:ID(Document)", "tier:long", "kind:string", "title:string", "source:string",
                                  "date:string", "sha256:string", "pmid:string", "medkg_digest:string", ":LABEL"]
    assert header("Concept")[3:5] == ["synonyms:string[]", "semantic_types:string[]"]
    assert header("Entity")[6:10] == ["negated:boolean", "uncertain:boolean", "historical:boolean", "family:boolean"]
    assert header("RELATED") == [":START_ID(Entity)", ":END_ID(Entity)", "type:string", "chunk_id:string",
                                 "start:long", "end:long", "score:double", "method:string", "negated:boolean",
                                 "speculative:boolean", ":TYPE"]
    assert header("HAS_CHUNK") == [":START_ID(Document)", ":END_ID(Chunk)", ":TYPE"]
    for r in REL_TABLES:  # every edge's ID spaces are its endpoint labels, whose files declare them
        assert header(r.name)[:2] == [f":START_ID({r.source})", f":END_ID({r.target})"]
    for t in NODE_TABLES:
        assert header(t.name)[0] == f"id:ID({t.name})" and header(t.name)[-1] == ":LABEL"


def test_cells_carry_types_nulls_and_refuse_the_array_delimiter() -> None:
    assert cell(None, "STRING") is None and cell("", "STRING") is None and cell([], "STRING[]") is None
    assert cell(True, "BOOLEAN") == "true" and cell(False, "BOOLEAN") == "false"
    assert cell(0.1 + 0.2, "DOUBLE") == "0.30000000000000004" and float(cell(1 / 3, "DOUBLE")) == 1 / 3
    assert cell(float("nan"), "DOUBLE") == "NaN" and cell(float("-inf"), "DOUBLE") == "-Infinity"
    assert cell(["a;b", "c,d"], "STRING[]") == f"a;b{ARRAY_DELIMITER}c,d"
    with pytest.raises(InputError, match="U\\+001F"):
        cell(["ok", f"bad{ARRAY_DELIMITER}value"], "STRING[]")


def test_every_row_round_trips_through_the_files(graph, tmp_path: Path) -> None:
    store, batch, _, ledger = graph
    files = write_import_files(store, tmp_path / "out", ledger_path=ledger, page=3)  # many pages per table
    assert files.counts() == store.counts()
    got = {fs.table: list(records(fs)) for fs in files.file_sets}
    for t in NODE_TABLES:
        names = [n for n, _ in t.columns]
        want = {row[0]: {n: _normal(v) for n, v in zip(names, row) if _normal(v) is not None}
                for row in batch.nodes[t.name]}
        rows = {r["id"]: r for r in got[t.name]}
        assert {r["label"] for r in rows.values()} <= {t.name}
        for key, props in want.items():
            props_back = dict(rows[key]["props"])
            props_back.pop("medkg_digest", None)
            assert props_back == props, t.name
    for r in REL_TABLES:
        names = [n for n, _ in r.columns]
        want_rels = sorted(repr((row[0], row[1], {n: _normal(v) for n, v in zip(names, row[2:])
                                                  if _normal(v) is not None})) for row in batch.rels[r.name])
        back = sorted(repr((x["src"], x["dst"], x["props"])) for x in got[r.name])
        assert back == want_rels, r.name
        assert {x["type"] for x in got[r.name]} <= {r.name}
    concept = next(x for x in got["Concept"] if x["id"] == "MESH:T1")["props"]
    assert concept["synonyms"] == list(TRICKY.synonyms) and "semantic_types" not in concept
    chunk = next(x for x in got["Chunk"] if x["id"] == "report:q#c0")["props"]
    assert "\r\n" in chunk["text"] and '"no chest pain"' in chunk["text"]


def test_documents_carry_the_sync_hash_the_neo4j_backend_computes(graph, tmp_path: Path) -> None:
    store, batch, extracted, ledger = graph
    files = write_import_files(store, tmp_path / "out", ledger_path=ledger)
    docs = {x["id"]: x["props"]["medkg_digest"] for x in records(files.file_sets[0])}
    # the hand-made RELATED edge is in the store but not in the ledger: the hash covers what extraction made
    parts = _split_by_document(extracted, {row[0] for row in batch.nodes["Document"]})
    assert docs == {d: document_digest(p) for d, p in parts.items()} and files.digests == 2
    without = write_import_files(store, tmp_path / "bare")  # no ledger: no hash, the first sync rewrites them
    assert all("medkg_digest" not in x["props"] for x in records(without.file_sets[0]))


def test_split_files_gzip_and_command(graph, tmp_path: Path) -> None:
    store = graph.store
    files = write_import_files(store, tmp_path / "out", compress=True, rows_per_file=4, page=5)
    entity = next(s for s in files.file_sets if s.table == "Entity")
    assert len(entity.data) == -(-entity.rows // 4) and all(p.name.endswith(".csv.gz") for p in entity.data)
    with gzip.open(entity.data[0], "rt", encoding="utf-8") as f:
        assert len(list(f)) == 4  # no header in data files: it is in its own file
    assert sum(1 for _ in raw_rows(entity)) == entity.rows == store.counts()["Entity"]
    maps_to = next(s for s in files.file_sets if s.table == "MAPS_TO")
    assert maps_to.rows == 0 and maps_to.data == () and maps_to.header.exists()
    cmd = files.command("kg")
    assert cmd.startswith("neo4j-admin database import full") and cmd.rstrip().endswith("kg")
    assert "--array-delimiter=U+001F" in cmd and "--multiline-fields=true" in cmd and "MAPS_TO" not in cmd
    for s in files.file_sets:
        if s.rows:
            flag = "--nodes=" if s.kind == "nodes" else "--relationships="
            assert f"{flag}{s.header},{','.join(map(str, s.data))}" in cmd
    assert files.command_file.read_text(encoding="utf-8").strip() == files.command().strip()


def test_schema_file_and_id_spaces(graph, tmp_path: Path) -> None:
    store = graph.store
    files: ImportFiles = write_import_files(store, tmp_path / "out")
    text = files.schema_file.read_text(encoding="utf-8")
    assert text.splitlines() == [s + ";" for s in schema_statements()]
    for t in NODES:
        assert cypher.NEO4J_UNIQUE_ID.format(label=t) in text
    spaces = {s.table: id_spaces(s) for s in files.file_sets}
    assert spaces["MENTIONS"] == {"START_ID": "Chunk", "END_ID": "Entity"}
    assert all(spaces[r] == {"START_ID": RELS[r].source, "END_ID": RELS[r].target} for r in RELS)
    assert [f.kind for f in parse_header(files.file_sets[0].header)][-2:] == ["string", "LABEL"]


def test_a_non_empty_directory_is_refused(graph, tmp_path: Path) -> None:
    store = graph.store
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="busy: not empty"):
        write_import_files(store, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        write_import_files(store, tmp_path / "file")


def test_a_value_the_format_cannot_carry_fails_and_leaves_the_directory_empty(tmp_path: Path) -> None:
    batch = GraphBatch()
    batch.add_concepts([Concept("MESH:X", "MESH", "X", synonyms=(f"a{ARRAY_DELIMITER}b",), vocab_version="t")])
    with open_store("embedded", tmp_path / "s.lbug", read_only=False, create=True) as st:
        st.create_schema()
        st.bulk_load(batch)
        with pytest.raises(InputError, match=re.escape("'a\\x1fb' holds U+001F")):
            write_import_files(st, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # no half-written files: a second try may use it
