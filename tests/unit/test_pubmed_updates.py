"""PubMed update files: DeleteCitation read as deletions, versions compared, the build's choices made before it runs."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from medkg.errors import InputError
from medkg.kg.ledger import Ledger, LedgerRecord
from medkg.pipelines.reading import Deletion, pubmed_xml_items, read_documents, read_pubmed_xml
from medkg.pipelines.reading.pubmed_xml import pubmed_xml_versions
from medkg.pipelines.reading.rejects import Reject
from medkg.pipelines.updates import VERSIONS_KEY, PubmedUpdates, apply_pubmed_updates

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'


def _article(pmid: str, text: str, version: str = "1") -> str:
    return (f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="{version}">{pmid}</PMID>'
            f"<Article><ArticleTitle>Title {pmid}.</ArticleTitle><Abstract><AbstractText>{text}</AbstractText>"
            "</Abstract></Article></MedlineCitation></PubmedArticle>\n")


def _xml(path: Path, *parts: str) -> Path:
    path.write_text(HEAD + "".join(parts) + "</PubmedArticleSet>\n", encoding="utf-8")
    return path


def _gz(src: Path, dest: Path) -> Path:
    with open(src, "rb") as f, gzip.open(dest, "wb") as g:
        shutil.copyfileobj(f, g)
    return dest


@pytest.fixture
def update_gz(fixtures: Path, tmp_path: Path) -> Path:
    return _gz(fixtures / "pubmed_update_1.xml", tmp_path / "pubmed25n1300.xml.gz")


def test_deletions_come_in_file_order_after_the_articles(update_gz: Path) -> None:
    items = list(pubmed_xml_items(update_gz))
    assert [type(i).__name__ for i in items] == ["Document"] * 4 + ["Deletion"] * 2
    assert [i.id for i in items if not isinstance(i, Deletion)] == \
        ["PMID:90000001", "PMID:90000003", "PMID:90000005", "PMID:90000003"]
    assert items[4:] == [Deletion("PMID:90000002", str(update_gz)), Deletion("PMID:99999999", str(update_gz))]
    versions = [(getattr(i, "id", None), v) for i, v in pubmed_xml_versions(update_gz)][:4]
    assert versions == [("PMID:90000001", 1), ("PMID:90000003", 2), ("PMID:90000005", 1), ("PMID:90000003", 1)]


def test_read_documents_hands_deletions_to_a_sink_in_order(fixtures: Path, update_gz: Path) -> None:
    baseline = fixtures / "pubmed_baseline_3docs.xml"
    deletions: list[Deletion] = []
    seen: list[tuple[str, int]] = []  # (document, deletions listed before it was yielded)
    for doc in read_documents([baseline, update_gz], deletions=deletions):
        seen.append((doc.id, len(deletions)))
    assert [n for _, n in seen] == [0] * 7  # the DeleteCitation closes the update file
    assert [d.doc_id for d in deletions] == ["PMID:90000002", "PMID:99999999"]
    # without a sink, the documents alone (as every caller that reads documents expects)
    assert [d.id for d in read_documents([update_gz])] == [i for i, _ in seen[3:]]
    assert len(list(read_pubmed_xml(update_gz))) == 4


def test_a_file_of_deletions_only_is_not_taken_for_an_empty_file(tmp_path: Path) -> None:
    f = _xml(tmp_path / "u.xml", '<DeleteCitation><PMID Version="1">5</PMID><PMID Version="3">6</PMID>'
                                 "</DeleteCitation>\n")
    assert list(pubmed_xml_items(f)) == [Deletion("PMID:5", str(f)), Deletion("PMID:6", str(f), version=3)]
    assert list(read_documents([f])) == []
    with pytest.raises(InputError, match="no PubmedArticle with an abstract"):
        list(pubmed_xml_items(_xml(tmp_path / "empty.xml")))


def test_a_malformed_delete_citation_is_a_reject_naming_the_file(tmp_path: Path) -> None:
    f = _xml(tmp_path / "bad.xml", _article("7", "Anemia was treated."),
             '<DeleteCitation><PMID Version="1">12a</PMID><PMID Version="x">8</PMID><PMID>9</PMID>'
             "</DeleteCitation>\n")
    with pytest.raises(InputError, match=rf"{tmp_path / 'bad.xml'}: record DeleteCitation PMID 1: DeleteCitation "
                                         r"PMID '12a' is not a number"):
        list(read_documents([f], deletions=[]))
    rejects: list[Reject] = []
    deletions: list[Deletion] = []
    assert [d.id for d in read_documents([f], rejects=rejects, deletions=deletions)] == ["PMID:7"]
    assert [(r.file, r.record) for r in rejects] == [(str(f), "DeleteCitation PMID 1"), (str(f), "PMID 8")]
    assert "Version attribute 'x'" in rejects[1].reason
    assert deletions == [Deletion("PMID:9", str(f))]  # the good ones of the same list are kept


def test_an_article_with_a_bad_version_is_rejected(tmp_path: Path) -> None:
    f = _xml(tmp_path / "v.xml", _article("7", "Anemia.", version="two"), _article("8", "Pneumonia."))
    rejects: list[Reject] = []
    assert [d.id for d in read_documents([f], rejects=rejects)] == ["PMID:8"]
    assert rejects[0].record == "PMID 7" and "'two' is not a positive number" in rejects[0].reason


def _plan(paths: list[Path], known: set[str] = frozenset(), stored: dict[str, int] | None = None) -> PubmedUpdates:
    updates = PubmedUpdates()
    updates.read(paths, None)
    updates.decide(known, stored or {})
    return updates


def test_the_later_copy_and_the_higher_version_are_chosen(fixtures: Path, update_gz: Path) -> None:
    baseline = fixtures / "pubmed_baseline_3docs.xml"
    updates = _plan([baseline, update_gz])
    docs = list(read_documents([baseline, update_gz]))
    chosen = {d.id: d.text for d in updates.latest(docs)}
    assert sorted(chosen) == ["PMID:90000001", "PMID:90000003", "PMID:90000005"]  # 90000002 deleted in the run
    assert "two years" in chosen["PMID:90000001"]  # the update's revision, read later
    assert "second version" in chosen["PMID:90000003"]  # version 2, though a version 1 revision comes after it
    assert updates.superseded == 4 and updates.delete == set() and updates.not_in_graph == 2
    assert updates.versions({}) == {"PMID:90000003": 2}


def test_the_stored_document_counts_as_a_version_read_first(update_gz: Path, tmp_path: Path) -> None:
    known = {"PMID:90000002", "PMID:90000003", "PMID:90000001"}
    # the graph holds version 2 of 90000003: an input of version 1 does not replace it
    older = _xml(tmp_path / "old.xml", _article("90000003", "An older text.", version="1"))
    assert list(_plan([older], known, {"PMID:90000003": 2}).latest(read_documents([older]))) == []
    # a deletion of the version the graph holds removes it; one of another version does not
    gone = _xml(tmp_path / "d.xml", '<DeleteCitation><PMID Version="2">90000003</PMID>'
                                    '<PMID Version="1">90000001</PMID></DeleteCitation>\n')
    assert _plan([gone], known, {"PMID:90000003": 2}).delete == {"PMID:90000003", "PMID:90000001"}
    assert _plan([gone], known, {}).delete == {"PMID:90000001"}
    # a deletion followed by the article again: the citation stays, as that article
    back = _xml(tmp_path / "e.xml", _article("90000001", "Back again."))
    updates = _plan([gone, back], known)
    assert updates.delete == set() and [d.text for d in updates.latest(read_documents([back]))] == \
        ["Title 90000001. Back again."]
    assert _plan([update_gz], known).delete == {"PMID:90000002"}


def _ledger_with(tmp_path: Path, *ids: str) -> Ledger:
    from medkg.kg.records import Document

    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.put([LedgerRecord(Document(id=i, text=f"Text of {i}."), [], np.zeros((0, 4), np.float32)) for i in ids],
               "fp")
    return ledger


def test_deletions_are_applied_and_a_rerun_deletes_nothing(update_gz: Path, tmp_path: Path) -> None:
    with _ledger_with(tmp_path, "PMID:90000002", "PMID:1") as ledger:
        known, stats, seen = ledger.known(), {"added": 0}, set()
        apply_pubmed_updates([update_gz], None, ledger, known, stats, seen)
        assert stats["deleted"] == 1 and set(known) == set(ledger.known()) == {"PMID:1"}
        assert {"PMID:90000002", "PMID:99999999"} <= seen
        assert json.loads(ledger.get_meta(VERSIONS_KEY) or "{}") == {"PMID:90000003": 2}
        known, stats = ledger.known(), {}
        apply_pubmed_updates([update_gz], None, ledger, known, stats, set())
        assert stats["deleted"] == 0 and set(ledger.known()) == {"PMID:1"}


def test_deleting_every_document_is_refused_before_the_ledger_is_touched(tmp_path: Path) -> None:
    f = _xml(tmp_path / "u.xml", '<DeleteCitation><PMID Version="1">1</PMID><PMID Version="1">2</PMID>'
                                 "</DeleteCitation>\n")
    with _ledger_with(tmp_path, "PMID:1", "PMID:2") as ledger:
        with pytest.raises(InputError, match=r"u.xml: the deleted citations \(DeleteCitation\) are all 2 documents"):
            apply_pubmed_updates([f], None, ledger, ledger.known(), {}, set())
        assert set(ledger.known()) == {"PMID:1", "PMID:2"}
