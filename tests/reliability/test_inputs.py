"""Bad input: every hostile file is refused with one line that names it and says what is wrong, the graph unchanged.

The matrix (empty, binary, truncated and wrongly encoded files of every format) is checked at the reader, where it
is fast, and once through the command over a directory holding all of it; the cases a user meets alone (an empty
file, an XML bomb, a 50 MB line, a symbolic-link loop, a full disk, an unreadable file) each run the command.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import Snapshot, assert_refused, error_lines, medkg, snapshot

from medkg.errors import InputError
from medkg.pipelines.reading import read_documents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8"


def _good(fmt: str, latin1: bool = False) -> bytes:
    """A small valid file of each format (with an accented word written in Latin-1 when ``latin1``)."""
    word = "café-au-lait" if latin1 else "aspirin"
    text = {
        "jsonl": json.dumps({"id": "t1", "text": f"Asthma after {word}."}, ensure_ascii=False) + "\n",
        "pubtator": f"1|t|Asthma after {word}\n1|a|Asthma after {word} in adults.\n",
        "json": json.dumps({"1": {"QUESTION": "q", "CONTEXTS": [f"Asthma after {word}."]}}, ensure_ascii=False),
        "csv": f'id,text\nn1,"Asthma after {word}, acute."\n',
        "txt": f"Asthma after {word}.\n",
        "xml": (FIXTURES / "pubmed_2docs.xml").read_text(encoding="utf-8").replace("Somatic", f"Somatic {word}"),
    }["xml" if fmt == "xml.gz" else fmt]
    data = text.encode("latin-1" if latin1 else "utf-8")
    return gzip.compress(data) if fmt == "xml.gz" else data


FORMATS = ("jsonl", "pubtator", "xml", "xml.gz", "json", "csv", "txt")
VARIANTS = {  # variant -> (bytes of the file, what the refusal says) per format
    "empty": lambda fmt: (b"", "empty"),
    "binary": lambda fmt: (BINARY, {"xml": "malformed XML", "xml.gz": "Not a gzipped file"}.get(fmt,
                                                                                         "not valid UTF-8")),
    "truncated": lambda fmt: (_good(fmt)[: _good(fmt).index(b"\n1|a") if fmt == "pubtator"
                                         else len(_good(fmt)) // 3 if fmt.startswith("xml") else -10],
                              {"jsonl": "malformed JSON", "pubtator": "a title line without an abstract line",
                               "xml": "malformed XML", "xml.gz": "Compressed file ended",
                               "json": "malformed JSON", "csv": "inside a quoted field"}.get(fmt, "")),
    "latin1": lambda fmt: (_good(fmt, latin1=True), {"xml": "malformed XML (not well-formed",
                                                     "xml.gz": "malformed XML (not well-formed"}.get(
                                                         fmt, "not valid UTF-8")),
}
# a cut text report is still text: nothing tells a truncated note from a short one
MATRIX = [(v, f) for v in VARIANTS for f in FORMATS if not (v == "truncated" and f == "txt")]


def _write_matrix(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for variant, fmt in MATRIX:
        data, reason = VARIANTS[variant](fmt)
        name = f"{variant}-file.{fmt}"
        (folder / name).write_bytes(data)
        expected[name] = reason
    return expected


@pytest.mark.parametrize(("variant", "fmt"), MATRIX)
def test_each_format_refuses_empty_binary_truncated_and_latin1_files(tmp_path: Path, variant: str,
                                                                     fmt: str) -> None:
    data, reason = VARIANTS[variant](fmt)
    path = tmp_path / f"{variant}-file.{fmt}"
    path.write_bytes(data)
    with pytest.raises(InputError) as e:
        list(read_documents([path]))
    message = str(e.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_the_good_versions_of_the_matrix_files_are_read(tmp_path: Path) -> None:
    for fmt in FORMATS:
        (tmp_path / f"good.{fmt}").write_bytes(_good(fmt))
        assert list(read_documents([tmp_path / f"good.{fmt}"])), fmt


def test_a_directory_of_bad_files_is_refused_and_each_file_is_listed(graph_copy: Path, sample_snapshot,
                                                                     tmp_path: Path) -> None:
    expected = _write_matrix(tmp_path / "bad")
    proc = medkg("build", tmp_path / "bad", "--graph", graph_copy)
    assert_refused(proc, f"{len(expected)} inputs rejected", str(graph_copy / "rejects.jsonl"))
    rejects = [json.loads(line) for line in (graph_copy / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {Path(r["file"]).name for r in rejects} == set(expected)
    for r in rejects:
        assert expected[Path(r["file"]).name] in r["reason"], r
    assert snapshot(graph_copy) == sample_snapshot


def _refused(graph: Path, before: Snapshot, path: Path, *names: str, prefix: tuple[str, ...] = ()) -> str:
    """``medkg build PATH`` (run under ``prefix``, a command such as setpriv) refused in one line, nothing changed."""
    if prefix:
        proc = subprocess.run([*prefix, sys.executable, "-m", "medkg", "build", str(path), "--graph", str(graph)],
                              capture_output=True, text=True, timeout=300)
    else:
        proc = medkg("build", path, "--graph", graph)
    line = assert_refused(proc, path.name, *names)
    assert snapshot(graph) == before
    return line


BOMB = ('<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi"))
        + ']>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&i;'
          "</ArticleTitle><Abstract><AbstractText>x</AbstractText></Abstract></Article></MedlineCitation>"
          "</PubmedArticle></PubmedArticleSet>\n")
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&x;</ArticleTitle>"
       "<Abstract><AbstractText>x</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>"
       "</PubmedArticleSet>\n")


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.jsonl", b"", "the file is empty"),
    ("bomb.xml", BOMB.encode(), "declares entities"),
    ("xxe.xml.gz", gzip.compress(XXE.encode()), "declares entities"),
    ("nul.txt", b"Chest pain.\x00\x00\x00", "NUL byte"),
    ("sections.jsonl", b'{"id": "s1", "text": "Asthma.", "sections": "RESULTS"}\n', "'sections' must be a list"),
    ("tier.jsonl", b'{"id": "s1", "text": "Asthma.", "tier": "high"}\n', "'tier' must be 1"),
    ("contexts.json", b'{"9": {"QUESTION": "q", "CONTEXTS": [1, 2]}}', "'CONTEXTS[0]' must be a string"),
])
def test_a_bad_file_alone_is_refused_in_one_line(graph_copy: Path, sample_snapshot, tmp_path: Path, name: str,
                                                 content: bytes, says: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    _refused(graph_copy, sample_snapshot, path, says)


def test_a_50_mb_line_of_text_is_refused_without_reading_it_with_spacy(graph_copy: Path, sample_snapshot,
                                                                       tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(50):
            f.write("aspirin induced asthma " * 43_479 + "x")  # 1 MB each, no newline
    _refused(graph_copy, sample_snapshot, path, "over the limit of 5,000,000")


def test_a_symbolic_link_loop_is_named(graph_copy: Path, sample_snapshot, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    _refused(graph_copy, sample_snapshot, tmp_path / "a.jsonl", "Too many levels of symbolic links")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to read as a process without CAP_DAC_OVERRIDE")
def test_an_unreadable_file_is_named(graph_copy: Path, sample_snapshot, tmp_path: Path) -> None:
    path = tmp_path / "secret.jsonl"
    path.write_text('{"id": "s", "text": "Asthma."}\n', encoding="utf-8")
    path.chmod(0)
    # root reads any file; without the two capabilities that let it, root reads as its mode says (here: not)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
    _refused(graph_copy, sample_snapshot, path, "Permission denied", prefix=tuple(drop))


def _mount_tmpfs(folder: Path, mib: int) -> None:
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.strip()}")


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs (a disk that fills) needs root")
def test_a_disk_that_fills_ends_in_one_line_and_keeps_the_view(sample_graph: Path, sample_snapshot,
                                                                tmp_path: Path) -> None:
    size = sum(f.stat().st_size for f in sample_graph.rglob("*") if f.is_file()) // 2**20
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, size + 6)
    try:
        graph = disk / "graph"
        shutil.copytree(sample_graph, graph)
        new = tmp_path / "new.jsonl"
        new.write_text(json.dumps({"id": "full1", "text": "Aspirin induced asthma in adults."}) + "\n",
                       encoding="utf-8")
        proc = medkg("build", new, "--graph", graph, "--workers", "0")
        assert proc.returncode not in (0, None) and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        (line,) = error_lines(proc.stderr)
        assert line.startswith("medkg: error: ") and "space left" in line.lower() and str(graph) in line, line
        after = snapshot(graph)  # what queries see is the view from before the build
        assert (after.counts, after.manifest) == (sample_snapshot.counts, sample_snapshot.manifest)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_file_that_disappears_mid_build_is_rejected(graph_copy: Path, sample_snapshot, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The directory is listed, then a file goes before it is read: the others are built, that one reported."""
    from medkg.pipelines import build
    from medkg.pipelines.reading import documents

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps({"id": "v1", "text": "Aspirin induced asthma."}) + "\n",
                                    encoding="utf-8")
    (folder / "b.jsonl").write_text(json.dumps({"id": "v2", "text": "Gone."}) + "\n", encoding="utf-8")
    real = documents.read_text

    def read_and_remove_the_next(path: Path) -> str:
        (folder / "b.jsonl").unlink(missing_ok=True)
        return real(path)

    monkeypatch.setattr(documents, "read_text", read_and_remove_the_next)
    report = build.build_graph([folder], graph_copy, strict=False, workers=0)
    assert report.added == 1 and [(Path(r.file).name, r.reason) for r in report.rejects] == [("b.jsonl",
                                                                                             "file not found")]
    assert json.loads((graph_copy / "rejects.jsonl").read_text(encoding="utf-8"))["reason"] == "file not found"
    assert snapshot(graph_copy).counts["Document"] == sample_snapshot.counts["Document"] + 1


def test_unexpected_errors_end_in_one_line_and_show_the_traceback_with_v(monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from medkg import cli
    from medkg.cli import build as cli_build

    def boom(args: object) -> int:
        raise KeyError("the bug")

    def full(args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/graph/ledger.sqlite")

    monkeypatch.setattr(cli_build, "cmd_build", boom)
    assert cli.main(["build", "x.jsonl"]) == 1
    err = capsys.readouterr().err
    assert err == "medkg: internal error: KeyError: 'the bug' (run with -v for the traceback)\n"
    assert cli.main(["-v", "build", "x.jsonl"]) == 1
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setattr(cli_build, "cmd_build", full)
    assert cli.main(["build", "x.jsonl"]) == 1
    assert capsys.readouterr().err == "medkg: error: /data/graph/ledger.sqlite: no space left on the device\n"
