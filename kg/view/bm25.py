"""The BM25 index of a view, built in two streaming passes so that its memory does not grow with the corpus.

``bm25s`` builds its index from every chunk's token list at once: at a million
chunks those Python lists alone take several GB. The index itself is small by
comparison: a sparse matrix (chunks x terms, compressed by column) holding one
float per distinct term of each chunk. :class:`BM25Builder` makes exactly that
matrix, in the files ``bm25s.BM25.load`` reads, without ever holding the
token lists:

1. :meth:`BM25Builder.add` tokenizes chunk texts a slice at a time with
   ``bm25s.tokenize`` (the tokenizer retrieval uses on questions), counts each
   term's document frequency and spills each chunk's (term, count) pairs to
   two flat files on disk;
2. :meth:`BM25Builder.save` knows every column's length from the document
   frequencies, so it reads the spilled pairs back in order and drops each
   score straight into its place in the column-ordered arrays (a counting
   sort, as ``bm25s`` itself does), then writes them.

Scores are computed with the same operations, in the same types, as the
``lucene`` method of ``bm25s`` (idf ``log(1 + (N - df + 0.5) / (df + 0.5))`` in
float32; term weight ``tf / (k1 * (1 - b + b * len / avg_len) + tf)``), so
the files are identical to what ``bm25s.BM25().index(...)`` writes for the same
texts (a unit test checks it). Memory: the two output arrays (8 bytes per
distinct term of each chunk), the vocabulary and one int per chunk.
"""

from __future__ import annotations

import json
import math
import tempfile
from array import array
from pathlib import Path

import bm25s
import numpy as np

STOPWORDS = "en"
K1, B, DELTA = 1.5, 0.75, 0.5  # bm25s' defaults, which SearchIndex has always used
SLICE = 2000  # chunks tokenized at a time
_SCALAR_PLUS_F32 = (np.float64(1.0) + np.zeros(1, dtype=np.float32)).dtype  # float32 on NumPy 1, float64 on 2


def tokenize(texts: list[str]) -> list[list[str]]:
    """The tokens BM25 sees in each text (indexed passages and questions alike): lower-cased words of two or more
    characters, English stop words out."""
    return bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=False, show_progress=False)


class BM25Builder:
    """Feed chunk texts in row order with :meth:`add`; :meth:`save` writes the index (see the module docstring)."""

    def __init__(self, spill_dir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="medkg-bm25-", dir=spill_dir)
        spill = Path(self._tmp.name)
        self._terms = open(spill / "terms.i32", "wb")  # noqa: SIM115  (closed in save/close)
        self._counts = open(spill / "counts.f32", "wb")  # noqa: SIM115
        self.vocab: dict[str, int] = {}
        self.df: list[int] = []
        self.lengths = array("i")  # tokens per chunk
        self.distinct = array("i")  # distinct terms per chunk
        self._pending: list[str] = []

    def add(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) >= SLICE:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        tokens = bm25s.tokenize(self._pending, stopwords=STOPWORDS, return_ids=True, show_progress=False)
        local = [self.vocab.setdefault(t, len(self.vocab)) for t in tokens.vocab]  # slice id -> global id
        self.df.extend([0] * (len(self.vocab) - len(self.df)))
        for ids in tokens.ids:
            counts: dict[int, int] = {}
            for i in ids:
                g = local[i]
                counts[g] = counts.get(g, 0) + 1
            for g in counts:
                self.df[g] += 1
            self.lengths.append(len(ids))
            self.distinct.append(len(counts))
            self._terms.write(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)).tobytes())
            self._counts.write(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)).tobytes())
        self._pending = []

    def save(self, directory: Path) -> None:
        """Write the index into ``directory`` in ``bm25s``' format (``bm25s.BM25.load`` reads it)."""
        self._flush()
        self._terms.close()
        self._counts.close()
        n_docs, n_vocab = len(self.lengths), len(self.vocab)
        df = np.asarray(self.df, dtype=np.int64)
        idf = np.array([math.log(1 + (n_docs - d + 0.5) / (d + 0.5)) for d in self.df], dtype=np.float32)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        avg_len = lengths.mean() if n_docs else np.float64(0.0)
        indptr = np.zeros(n_vocab + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        data = np.empty(int(indptr[-1]), dtype=np.float32)
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        heads = indptr[:-1].copy()
        spill = Path(self._tmp.name)
        with open(spill / "terms.i32", "rb") as ft, open(spill / "counts.f32", "rb") as fc:
            for first in range(0, n_docs, 50_000):
                self._place(ft, fc, first, min(n_docs, first + 50_000), idf, float(avg_len), heads, data, indices)
        self._tmp.cleanup()
        self._write(Path(directory), data, indices, indptr, n_docs)

    def _place(self, ft, fc, first: int, last: int, idf: np.ndarray, avg_len: float, heads: np.ndarray,
               data: np.ndarray, indices: np.ndarray) -> None:
        """Scores of chunks ``first`` to ``last`` into their columns (chunks arrive in row order, so every
        column's rows stay sorted)."""
        sizes = np.asarray(self.distinct[first:last], dtype=np.int64)
        total = int(sizes.sum())
        terms = np.frombuffer(ft.read(4 * total), dtype=np.int32)
        tf = np.frombuffer(fc.read(4 * total), dtype=np.float32)
        rows = np.repeat(np.arange(first, last, dtype=np.int32), sizes)
        doc_len = np.repeat(np.asarray(self.lengths[first:last], dtype=np.float64), sizes)
        # bm25s' lucene scorer, in its order and types: a float64 denominator per chunk, added to the float32
        # counts as NumPy adds a float64 scalar to a float32 array (in float32 before NumPy 2, float64 after)
        work = _SCALAR_PLUS_F32
        denominator = (K1 * ((1 - B) + B * doc_len / avg_len)).astype(work) + tf.astype(work)
        scores = (idf[terms].astype(work) * (tf.astype(work) / denominator)).astype(np.float32)
        # a counting sort: each (chunk, term) goes to the next free place of its term's column
        order = np.argsort(terms, kind="stable")
        sorted_terms = terms[order]
        starts = np.flatnonzero(np.r_[True, sorted_terms[1:] != sorted_terms[:-1]]) if total else np.zeros(0, int)
        runs = np.diff(np.r_[starts, total])
        rank = np.arange(total) - np.repeat(starts, runs)
        places = heads[sorted_terms] + rank
        data[places] = scores[order]
        indices[places] = rows[order]
        np.add.at(heads, sorted_terms[starts], runs)

    def _write(self, directory: Path, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n_docs: int
               ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "data.csc.index.npy", data)
        np.save(directory / "indices.csc.index.npy", indices)
        np.save(directory / "indptr.csc.index.npy", indptr)
        vocab = dict(self.vocab)
        vocab[""] = len(vocab)  # bm25s adds the empty token after the others (its matrix has no column for it)
        (directory / "vocab.index.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        params = {"k1": K1, "b": B, "delta": DELTA, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
                  "int_dtype": "int32", "num_docs": n_docs, "version": bm25s.__version__, "backend": "numpy"}
        (directory / "params.index.json").write_text(json.dumps(params, indent=4), encoding="utf-8")

    def close(self) -> None:
        """Drop the spilled files (``save`` does it; call this when abandoning a build)."""
        self._terms.close()
        self._counts.close()
        self._tmp.cleanup()
