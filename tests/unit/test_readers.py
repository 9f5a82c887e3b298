from __future__ import annotations

from pathlib import Path

import pytest

from medkg.errors import InputError
from medkg.pipelines.reading import read_documents, read_jsonl, read_pubtator, read_report


def test_jsonl_reads_documents_and_sections(fixtures: Path) -> None:
    docs = list(read_jsonl(fixtures / "docs.jsonl"))
    assert [d.id for d in docs] == ["T:1", "T:2"]
    s = docs[0].sections[1]
    assert s.label == "METHODS"
    assert docs[0].text[s.start : s.end] == "Patients with asthma were excluded."


def test_pubtator_offsets_match_gold_mentions(fixtures: Path) -> None:
    path = fixtures / "ncbi_disease_2docs.pubtator"
    docs = {d.id: d for d in read_pubtator(path)}
    assert len(docs) == 2
    checked = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 6:
            doc = docs[f"PMID:{parts[0]}"]
            assert doc.text[int(parts[1]) : int(parts[2])] == parts[3]
            checked += 1
    assert checked >= 8


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: malformed JSON"):
        list(read_jsonl(p))


def test_wrong_encoding_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "note.txt"
    p.write_bytes("Patient présente une pneumonie".encode("latin-1"))
    with pytest.raises(InputError, match=r"note.txt: not valid UTF-8"):
        list(read_report(p))


def test_empty_document_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "empty.txt"
    p.write_text("   \n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        list(read_report(p))


def test_missing_and_unsupported_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        list(read_documents([tmp_path / "nope.jsonl"]))
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="unsupported file type"):
        list(read_documents([tmp_path / "x.pdf"]))
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="no readable documents"):
        list(read_documents([tmp_path / "d"]))


def test_report_ids_are_stable_per_file(tmp_path: Path) -> None:
    p = tmp_path / "note-7.txt"
    p.write_text("Suspected pneumonia.", encoding="utf-8")
    first = next(read_report(p))
    p.write_text("Pneumonia was ruled out.", encoding="utf-8")
    second = next(read_report(p))
    assert first.id == second.id == "report:note-7"
    assert first.sha256 != second.sha256
    assert first.tier == 1


def test_pubmed_xml_text_agrees_with_pubtator_offsets(fixtures: Path) -> None:
    """The same two NCBI-disease abstracts as PubMed XML: gold PubTator spans index the XML text too."""
    xml = {d.id: d for d in read_documents([fixtures / "pubmed_2docs.xml"])}
    pubtator = {d.id: d for d in read_pubtator(fixtures / "ncbi_disease_2docs.pubtator")}
    assert xml.keys() == pubtator.keys()
    for doc_id, doc in xml.items():
        assert doc.text == pubtator[doc_id].text.rstrip() and doc.date == "1996"  # the file ends lines with a space
    labels = [s.label for s in xml["PMID:8808605"].sections]
    assert labels == ["TITLE", "BACKGROUND", "RESULTS"]
    s = xml["PMID:8808605"].sections[2]
    assert xml["PMID:8808605"].text[s.start : s.end].startswith("We found that")


def test_pubmed_xml_gzip_and_malformed(fixtures: Path, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "pubmed24n0001.xml.gz"
    gz.write_bytes(gzip.compress((fixtures / "pubmed_2docs.xml").read_bytes()))
    assert len(list(read_documents([gz]))) == 2
    bad = tmp_path / "cut.xml"
    bad.write_text((fixtures / "pubmed_2docs.xml").read_text(encoding="utf-8")[:900], encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.xml:11: malformed XML \(no element found at column 214\)"):
        list(read_documents([bad]))
    other = tmp_path / "other.xml"
    other.write_text("<html><body>hello</body></html>", encoding="utf-8")
    with pytest.raises(InputError, match="no PubmedArticle with an abstract"):
        list(read_documents([other]))


def test_csv_reports_pick_columns_and_skip_empty_rows(tmp_path: Path) -> None:
    p = tmp_path / "notes.csv"
    p.write_text('note_id,title,note_text\nn1,Visit,"Denies chest pain,\nno fever."\nn2,Empty,\n', encoding="utf-8")
    (doc,) = read_documents([p])
    assert doc.id == "report:notes:n1" and doc.tier == 1 and doc.title == "Visit"
    assert doc.text == "Denies chest pain,\nno fever."
    p.write_text("text\nPneumonia.\nAnaemia.\n", encoding="utf-8")
    ids = [d.id for d in read_documents([p])]
    p.write_text("text\nChest pain.\nPneumonia.\nAnaemia.\n", encoding="utf-8")  # a row inserted first
    assert [d.id for d in read_documents([p])][1:] == ids  # without an id column, ids come from the text
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="notes.csv: no text column; name one of text, transcription"):
        list(read_documents([p]))
