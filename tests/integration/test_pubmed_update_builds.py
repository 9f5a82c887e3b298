"""A PubMed baseline built, then an update file applied: revised, new and deleted citations in ledger and store.

Built with the static embedder (distilled once into a temporary models directory, as in
``test_static_embedder.py``) and the tiny vocabulary, so that the builds take seconds.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path

import pytest

from medkg.errors import InputError
from medkg.pipelines.build import build_graph
from medkg.pipelines.embedding.embedder import STATIC_EMBEDDER, Embedder
from medkg.queries.api import KnowledgeGraph

pytestmark = pytest.mark.integration


class _Killed(Exception):
    """Stands for a build killed after its first committed batch."""


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models")
    Embedder.named(STATIC_EMBEDDER, path)  # distilled here, once
    return path


@pytest.fixture
def files(fixtures: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The baseline and the update file, gzipped and named as NLM names them."""
    out, folder = [], tmp_path / "pubmed"
    folder.mkdir()
    for src, name in (("pubmed_baseline_3docs.xml", "pubmed25n0001.xml.gz"),
                      ("pubmed_update_1.xml", "pubmed25n1275.xml.gz")):
        with open(fixtures / src, "rb") as f, gzip.open(folder / name, "wb") as g:
            shutil.copyfileobj(f, g)
        out.append(folder / name)
    return out[0], out[1]


def _build(paths: list[Path], graph: Path, models_dir: Path, vocabulary, **kw):
    return build_graph(paths, graph, vocabulary=vocabulary, embedder=STATIC_EMBEDDER, models_dir=models_dir,
                       workers=0, **kw)


def _ledger(graph: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{graph / 'ledger.sqlite'}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT id, content_key FROM documents"))


def _store(graph: Path, models_dir: Path) -> dict[str, list[dict]]:
    with KnowledgeGraph.open(graph, models_dir=models_dir) as g:
        return {
            "documents": g.cypher("MATCH (d:Document) RETURN d.id AS id, d.title AS title ORDER BY id"),
            "chunks": g.cypher("MATCH (d:Document)-[:HAS_CHUNK]->(c:Chunk) RETURN d.id AS doc, c.id AS id, "
                               "c.text AS text ORDER BY id"),
            "entities": g.cypher("MATCH (c:Chunk)-[:MENTIONS]->(e:Entity) RETURN DISTINCT c.doc_id AS doc, "
                                 "e.id AS id, e.concept_id AS concept ORDER BY id"),
        }


def test_update_file_revises_adds_and_deletes(files: tuple[Path, Path], tmp_path: Path, models_dir: Path,
                                              tiny_vocabulary) -> None:
    baseline, update = files
    graph = tmp_path / "g"
    first = _build([baseline], graph, models_dir, tiny_vocabulary)
    assert (first.added, first.deleted, first.documents) == (3, 0, 3)
    before = _store(graph, models_dir)
    assert any(e["doc"] == "PMID:90000002" for e in before["entities"])  # anemia: the deleted one has entities

    report = _build([update], graph, models_dir, tiny_vocabulary)
    assert (report.added, report.replaced, report.unchanged, report.deleted) == (1, 2, 0, 1)
    assert report.documents == 3 and report.view_rebuilt
    assert sorted(_ledger(graph)) == ["PMID:90000001", "PMID:90000003", "PMID:90000005"]
    after = _store(graph, models_dir)
    assert [d["id"] for d in after["documents"]] == ["PMID:90000001", "PMID:90000003", "PMID:90000005"]
    assert {c["doc"] for c in after["chunks"]} == {"PMID:90000001", "PMID:90000003", "PMID:90000005"}
    assert not any(e["doc"] == "PMID:90000002" or e["id"].startswith("PMID:90000002") for e in after["entities"])
    text = {d: " ".join(c["text"] for c in after["chunks"] if c["doc"] == d) for d in ("PMID:90000001",
                                                                                     "PMID:90000003")}
    assert "two years" in text["PMID:90000001"] and "one year" not in text["PMID:90000001"]
    assert "second version" in text["PMID:90000003"]  # version 2, though a version 1 revision follows it
    assert "MESH:D012878" in {e["concept"] for e in after["entities"] if e["doc"] == "PMID:90000005"}

    # rerun: the update alone, then baseline and update together: nothing changes
    for paths in ([update], [baseline, update], [baseline.parent]):  # a directory: its files sorted
        again = _build(paths, graph, models_dir, tiny_vocabulary)
        assert (again.added, again.replaced, again.deleted) == (0, 0, 0), paths
        assert not again.view_rebuilt and again.unchanged == 3
    assert _store(graph, models_dir) == after

    # an update that deletes every document: refused in one message, the graph as it was
    wipe = tmp_path / "pubmed25n1276.xml"
    wipe.write_text('<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation>' + "".join(
        f'<PMID Version="{v}">{n}</PMID>' for n, v in ((90000001, 1), (90000003, 2), (90000005, 1), (90000002, 1)))
        + "</DeleteCitation></PubmedArticleSet>\n", encoding="utf-8")  # 90000003: the graph holds version 2
    ledger = _ledger(graph)
    with pytest.raises(InputError, match=r"pubmed25n1276.xml: the deleted citations \(DeleteCitation\) are all 3 "
                                         "documents of the graph"):
        _build([wipe], graph, models_dir, tiny_vocabulary)
    assert _ledger(graph) == ledger and _store(graph, models_dir) == after


def test_a_killed_update_run_again_ends_with_the_same_graph(files: tuple[Path, Path], tmp_path: Path,
                                                            models_dir: Path, tiny_vocabulary) -> None:
    baseline, update = files
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for graph in (clean, killed):
        _build([baseline], graph, models_dir, tiny_vocabulary)
    _build([update], clean, models_dir, tiny_vocabulary)

    def die(stage: str, done: int, total: int) -> None:
        raise _Killed(f"killed after {done} documents")

    with pytest.raises(_Killed):
        _build([update], killed, models_dir, tiny_vocabulary, batch_docs=1, progress=die)
    assert "PMID:90000002" not in _ledger(killed)  # the deletion was applied before anything was extracted
    resumed = _build([update], killed, models_dir, tiny_vocabulary)
    assert resumed.deleted == 0 and resumed.added + resumed.replaced == 2  # the batch committed is not redone
    assert _ledger(killed) == _ledger(clean)
    assert _store(killed, models_dir) == _store(clean, models_dir)
