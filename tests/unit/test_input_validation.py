"""Every field of an input record is checked: a bad value is rejected with a message naming it, never stored."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from medkg.errors import InputError
from medkg.pipelines.reading import read_documents, read_jsonl, read_pubmedqa
from medkg.pipelines.reading.fields import MAX_DOCUMENT_CHARS
from medkg.pipelines.reading.rejects import Reject

GOOD = {"id": "ok1", "text": "Aspirin induced asthma."}


def _jsonl(tmp_path: Path, *records: object) -> Path:
    p = tmp_path / "docs.jsonl"
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return p


@pytest.mark.parametrize(("record", "message"), [
    ({"id": "a", "text": "x", "sections": "RESULTS"}, "'sections' must be a list of {label, start, end} objects"),
    ({"id": "a", "text": "x", "sections": [{"label": "A", "start": "0", "end": 1}]}, "'sections[0].start' must be"),
    ({"id": "a", "text": "xyz", "sections": [{"label": "A", "start": 0, "end": 9}]}, "'sections[0]' spans 0-9"),
    ({"id": "a", "text": "x", "tier": "high"}, "'tier' must be 1 (reports) or 2 (literature), not a string"),
    ({"id": "a", "text": "x", "tier": 7}, "'tier' must be 1 (reports) or 2 (literature), not a number (7)"),
    ({"id": "a", "text": "x", "tier": True}, "not a boolean"),
    ({"id": "a", "text": {"a": "Aspirin"}}, "'text' must be a string, not an object"),
    ({"id": "a", "text": "   "}, "'text' is empty"),
    ({"id": "a"}, "'text' is missing"),
    ({"id": "", "text": "x"}, "'id' is empty"),
    ({"id": [1], "text": "x"}, "'id' must be a string or an integer, not an array"),
    ({"id": "a", "text": "x", "title": 3}, "'title' must be a string, not a number"),
    ({"id": "a", "text": "A\u0000B"}, "'text' holds a NUL character at offset 1"),
    ('{"id": "a", "text": "A\\ud800B"}', "'text' holds an unpaired surrogate"),
    ([1, 2], "expected a JSON object with 'id' and 'text', not an array"),
    ("[" * 100_000, "malformed JSON"),
])
def test_a_bad_jsonl_field_is_rejected_with_its_line(tmp_path: Path, record: object, message: str) -> None:
    p = _jsonl(tmp_path, GOOD, record)
    with pytest.raises(InputError) as e:
        list(read_jsonl(p))
    assert "docs.jsonl:2: " in str(e.value) and message in str(e.value)
    rejects: list[Reject] = []
    assert [d.id for d in read_documents([p], rejects=rejects)] == ["ok1"]
    assert len(rejects) == 1 and rejects[0].line == 2 and message in rejects[0].reason


def test_good_jsonl_values_are_taken_as_given(tmp_path: Path) -> None:
    p = _jsonl(tmp_path, {"id": 12, "text": "ab\u2028cd", "tier": 1, "pmid": 12, "date": 2020, "title": None,
                          "sections": [{"label": "A", "start": 0, "end": 2}]})
    (doc,) = read_jsonl(p)
    assert (doc.id, doc.tier, doc.pmid, doc.date, doc.title, doc.text) == ("12", 1, "12", "2020", "", "ab\u2028cd")
    assert read_jsonl(p, tier=2).__next__().tier == 2


def test_an_empty_jsonl_file_is_named(tmp_path: Path) -> None:
    p = _jsonl(tmp_path)
    with pytest.raises(InputError, match=r"docs.jsonl: the file is empty"):
        list(read_jsonl(p))


@pytest.mark.parametrize(("record", "message"), [
    ({"QUESTION": "q", "CONTEXTS": [1, 2]}, "'CONTEXTS[0]' must be a string, not a number"),
    ({"QUESTION": "q", "CONTEXTS": "A context"}, "'CONTEXTS' must be a non-empty list of strings, not a string"),
    ({"QUESTION": "q", "CONTEXTS": ["a", "b"], "LABELS": ["A"]}, "'LABELS' must be a list of 2 strings"),
    ({"QUESTION": "q", "CONTEXTS": []}, "'CONTEXTS' must be a non-empty list"),
    ({"QUESTION": 5, "CONTEXTS": ["a"]}, "'QUESTION' must be a string"),
    ("not a record", "expected an object with QUESTION and CONTEXTS"),
])
def test_a_bad_pubmedqa_record_is_rejected_by_its_pmid(tmp_path: Path, record: object, message: str) -> None:
    p = tmp_path / "qa.json"
    p.write_text(json.dumps({"1": {"QUESTION": "q", "CONTEXTS": ["Aspirin."], "LABELS": ["A"]}, "2": record}),
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"qa.json: record 2: ") as e:
        list(read_pubmedqa(p))
    assert message in str(e.value)
    rejects: list[Reject] = []
    assert [d.id for d in read_documents([p], rejects=rejects)] == ["PMID:1"]
    assert rejects[0].record == "2"


def test_pubmedqa_keeps_every_context_with_its_label(tmp_path: Path) -> None:
    p = tmp_path / "qa.json"
    p.write_text(json.dumps({"7": {"QUESTION": "q", "CONTEXTS": ["One.", "Two."], "YEAR": 2001}}), encoding="utf-8")
    (doc,) = read_pubmedqa(p)
    assert doc.text == "One.\n\nTwo." and doc.date == "2001" and len(doc.sections) == 2


def test_csv_rows_with_extra_fields_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "notes.csv"
    p.write_text("id,text\nn1,Chest pain.\nn2,Chest pain, no fever.\n", encoding="utf-8")
    rejects: list[Reject] = []
    assert [d.id for d in read_documents([p], rejects=rejects)] == ["report:notes:n1"]
    assert (rejects[0].line, rejects[0].record) == (3, "row 2") and "3 fields, the header 2" in rejects[0].reason


def test_a_csv_file_cut_inside_a_quoted_text_rejects_its_last_row(tmp_path: Path) -> None:
    p = tmp_path / "notes.csv"
    p.write_text('id,text\nn1,"Chest pain, ""acute""."\nn2,"Fever and\ncough, sta', encoding="utf-8")
    rejects: list[Reject] = []
    assert [d.text for d in read_documents([p], rejects=rejects)] == ['Chest pain, "acute".']
    assert (rejects[0].line, rejects[0].record) == (4, "row 2") and "inside a quoted field" in rejects[0].reason


def test_pubtator_documents_without_both_lines_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "c.pubtator"
    p.write_text("1|t|Aspirin\n1|a|asthma.\n\n2|a|orphan abstract\n\n3|t|cut here\n", encoding="utf-8")
    rejects: list[Reject] = []
    assert [d.id for d in read_documents([p], rejects=rejects)] == ["PMID:1"]
    assert [(r.record, r.line) for r in rejects] == [("2", 4), ("3", 6)]
    assert "without a title" in rejects[0].reason and "truncated" in rejects[1].reason


@pytest.mark.parametrize("declaration", [
    '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
    '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
])
def test_xml_entity_declarations_are_refused(tmp_path: Path, declaration: str) -> None:
    xml = (f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [{declaration}]><PubmedArticleSet><PubmedArticle>'
           "<MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&lol2;</ArticleTitle><Abstract><AbstractText>"
           "x</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    for name, data in (("a.xml", xml.encode()), ("a.xml.gz", gzip.compress(xml.encode()))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=rf"{name}: the XML declares entities"):
            list(read_documents([tmp_path / name]))


def test_a_truncated_xml_file_keeps_the_articles_before_the_cut(fixtures: Path, tmp_path: Path) -> None:
    text = (fixtures / "pubmed_2docs.xml").read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: text.rindex("<PubmedArticle>") + 40], encoding="utf-8")
    rejects: list[Reject] = []
    assert len(list(read_documents([cut], rejects=rejects))) == 1
    assert "malformed XML" in rejects[0].reason and "the 1 articles before it were read" in rejects[0].reason


@pytest.mark.parametrize(("name", "data", "message"), [
    ("a.txt", b"Chest pain\x00\x00", "holds a NUL byte (line 1)"),
    ("a.jsonl", "\ufeff{}".encode("utf-16-le"), "UTF-16 text, not UTF-8"),
    ("b.jsonl", "{}".encode("utf-16-le"), "holds a NUL byte (line 1); a binary file, or UTF-16 text"),
    ("a.csv", b"", "the file is empty"),
    ("a.json", b"  \n", "the file is empty"),
    ("a.xml", b"", "the file is empty"),
    ("a.pubtator", b"PMID|t|caf\xe9", "not valid UTF-8 (byte 10"),
    ("a.xml.gz", b"junk", "cannot read (Not a gzipped file"),
])
def test_unreadable_files_are_named_with_the_reason(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError, match=rf"{name}: ") as e:
        list(read_documents([tmp_path / name]))
    assert message in str(e.value)


def test_an_over_long_text_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("a" * (MAX_DOCUMENT_CHARS + 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"big.txt: the document is 5,000,001 characters long, over the limit"):
        list(read_documents([p]))


def test_symbolic_link_loops_and_vanished_files_are_rejected(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _jsonl(d, GOOD)
    (d / "loop.jsonl").symlink_to(d / "loop2.jsonl")
    (d / "loop2.jsonl").symlink_to(d / "loop.jsonl")
    (d / "self").symlink_to(d)
    (d / "zz.jsonl").write_text(json.dumps({"id": "z", "text": "Gone."}) + "\n", encoding="utf-8")
    rejects: list[Reject] = []
    docs = read_documents([d], rejects=rejects)
    assert next(docs).id == "ok1"
    (d / "zz.jsonl").unlink()  # removed while the build reads the directory
    assert list(docs) == []
    reasons = sorted((Path(r.file).name, r.reason) for r in rejects)
    assert reasons == [("loop.jsonl", "cannot read (Too many levels of symbolic links)"),
                       ("loop2.jsonl", "cannot read (Too many levels of symbolic links)"),
                       ("zz.jsonl", "file not found")]
    with pytest.raises(InputError, match=r"loop.jsonl: cannot read \(Too many levels of symbolic links\)"):
        list(read_documents([d / "loop.jsonl"]))
