"""Streaming view assembly (kg/view/assemble.py, staging.py, bm25.py) against what it replaced.

The rows staged in CSV files and COPY'd into a real embedded store must be the rows a server store gets in
memory, table by table; the two-pass BM25 index must be the index bm25s builds from the same texts.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.kg.records import Document
from medkg.kg.schema import NODE_TABLES, REL_TABLES
from medkg.kg.store import open_store
from medkg.kg.view import bm25, staging
from medkg.kg.view.assemble import assemble
from medkg.kg.view.files import CHUNK_IDS, IndexFiles
from medkg.pipelines.extractor import Extractor

DOCS = [
    Document(id="report:a", text="Pneumonia with anaemia. No fever. The patient has type 2 diabetes.", tier=1,
             kind="report"),
    Document(id="PMID:1", text="Anaemia is frequent in AIDS. Pneumonia, anaemia and diabetes were studied.",
             pmid="1"),
    Document(id="PMID:2", text="Type 2 diabetes and pneumonia in older adults: a cohort of 300.", pmid="2"),
    Document(id="PMID:3", text="", pmid="3"),  # no chunk: a document row and nothing else
]


@pytest.fixture
def ledger(tmp_path: Path, tiny_lexicon_path: Path) -> Ledger:
    extractor = Extractor(tiny_lexicon_path, without=frozenset({"ner", "relations"}))
    rng = np.random.default_rng(7)
    recs = []
    for doc in DOCS:
        graphs = extractor.extract(doc) if doc.text else []
        vectors = rng.normal(size=(len(graphs), 8)).astype(np.float32)
        recs.append(LedgerRecord(doc, graphs, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)))
    led = Ledger(tmp_path / "ledger.sqlite")
    led.put(recs, "fp")
    yield led
    led.close()


def _store_rows(store) -> dict[str, list[str]]:
    out = {}
    for t in NODE_TABLES:
        cols = ", ".join(f"n.`{c}` AS `{c}`" for c, _ in t.columns)
        out[t.name] = sorted(repr(_normal(list(r.values()))) for r in store.query(f"MATCH (n:{t.name}) RETURN {cols}"))
    for r in REL_TABLES:
        cols = "".join(f", e.`{c}` AS `{c}`" for c, _ in r.columns)
        out[r.name] = sorted(repr(_normal(list(x.values())))
                             for x in store.query(f"MATCH (a)-[e:{r.name}]->(b) RETURN a.id AS s, b.id AS d{cols}"))
    return out


def _batch_rows(batch) -> dict[str, list[str]]:
    return {t: sorted(repr(_normal(list(row))) for row in rows) for t, rows in (*batch.nodes.items(),
                                                                                *batch.rels.items())}


def _normal(values: list) -> list:
    """COPY loads an empty string as null; lists compare as lists."""
    return [None if v == "" else list(v) if isinstance(v, tuple) else v for v in values]


def test_staged_rows_loaded_by_copy_equal_the_rows_in_memory(ledger: Ledger, tiny_vocabulary, tmp_path: Path,
                                                             monkeypatch) -> None:
    monkeypatch.setattr(staging, "ROWS_PER_FILE", 3)  # several COPY statements into each non-empty table
    memory = staging.MemoryRows()
    built_m = assemble(ledger, tiny_vocabulary, tmp_path / "m", memory)
    with staging.StagedRows(tmp_path) as staged:
        built_s = assemble(ledger, tiny_vocabulary, tmp_path / "s", staged)
        assert max(len(files) for files in staged.files.values()) > 1
        with open_store("embedded", tmp_path / "store.lbug", read_only=False, create=True) as st:
            staged.load_into(st)
            got = _store_rows(st)
            assert st.counts() == memory.counts() == staged.counts()
    assert got == _batch_rows(memory.batch)
    counts = memory.counts()
    assert counts["Document"] == 4
    assert built_m.chunk_ids == built_s.chunk_ids and len(built_m.chunk_ids) == counts["Chunk"] > 0
    assert counts["REFERENCES"] > 0 and counts["SUMMARIZES"] == counts["Chunk"] and counts["Concept"] > 0
    for name in ("chunk_vectors.npy", "summary_vectors.npy", CHUNK_IDS):
        assert (tmp_path / "m" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
    vectors = np.load(built_s.vectors)
    assert vectors.shape == (counts["Chunk"], 8)
    assert np.array_equal(vectors, np.concatenate([r.vectors for r in ledger.records()]))
    assert IndexFiles(tmp_path / "s").missing() == []
    assert not list((tmp_path / "s").glob("medkg-assemble-*"))  # the spill files are gone


def test_vectors_of_the_wrong_width_are_refused(ledger: Ledger, tiny_vocabulary, tmp_path: Path) -> None:
    from medkg.errors import GraphCorruptError

    with pytest.raises(GraphCorruptError, match="vectors of shape"):
        assemble(ledger, tiny_vocabulary, tmp_path / "m", staging.MemoryRows(), dim=16)


def test_the_two_pass_bm25_index_is_the_one_bm25s_builds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(bm25, "SLICE", 7)  # many slices, each with its own token ids
    rng = np.random.default_rng(3)
    words = ["heart", "failure", "aspirin", "the", "of", "renal", "kidney", "tumour", "cells", "mice", "induced",
             "hepatitis", "dose", "patients"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(0, 25)))) for _ in range(300)] + ["the of", ""]
    builder = bm25.BM25Builder(tmp_path)
    for t in texts:
        builder.add(t)
    builder.save(tmp_path / "mine")
    reference = bm25s.BM25()
    reference.index(bm25.tokenize(texts), show_progress=False)
    mine = bm25s.BM25.load(str(tmp_path / "mine"))
    assert set(mine.vocab_dict) == set(reference.vocab_dict)
    for term in sorted(set(words) - {"the", "of"}):  # every term's column, bit for bit
        assert np.array_equal(mine.get_scores([term]), reference.get_scores([term])), term
    assert np.array_equal(mine.get_scores(["renal", "dose", "mice"]), reference.get_scores(["renal", "dose", "mice"]))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("medkg-bm25-")]  # spill removed


def test_louvain_in_arrays_gives_networkx_partitions() -> None:
    """Random weighted graphs with repeated pairs, isolated nodes and several levels: the same communities as
    networkx's louvain_communities with the same seed."""
    import random

    import networkx as nx

    from medkg.kg.view import louvain

    rnd = random.Random(0)
    for _ in range(25):
        n = rnd.randint(1, 250)
        pairs = [(rnd.randrange(n), rnd.randrange(n), rnd.choice([1.0, 2.0, 0.5, 3.7]))
                 for _ in range(rnd.randint(0, 3 * n))]
        pairs = [p for p in pairs if p[0] != p[1]]
        seed = rnd.randint(0, 100)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        for a, b, w in pairs:
            g.add_edge(a, b, weight=g.get_edge_data(a, b, {"weight": 0.0})["weight"] + w)
        want = sorted(sorted(c) for c in nx.community.louvain_communities(g, weight="weight", seed=seed))
        graph = louvain.Graph.from_pairs(n, np.array([p[0] for p in pairs], dtype=np.int64),
                                         np.array([p[1] for p in pairs], dtype=np.int64),
                                         np.array([p[2] for p in pairs], dtype=np.float64))
        assert sorted(sorted(c) for c in louvain.communities(graph, seed=seed)) == want
