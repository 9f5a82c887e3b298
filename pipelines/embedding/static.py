"""A static embedder distilled, on this machine, from the installed all-MiniLM-L6-v2.

Why: on two CPU cores the transformer embeds about 30 chunks a second, so a
batch build of 10,000 abstracts (37k chunks) spends 20 of its 21 minutes in
the embedder. A static model (one vector per word piece, averaged over a text,
as in Model2Vec) embeds thousands of chunks a second. No such model for
English can be had from PyPI, so medkg makes one from the teacher it already
has, with no data at all:

1. every word piece of the teacher's vocabulary is run through the teacher on
   its own (``[CLS] piece [SEP]``) and the output at the piece's position is
   kept: the transformer's reading of that piece out of context;
2. the vectors are centred and reduced to ``dims`` principal components
   (the largest components carry the shared "this is a token" direction that
   otherwise dominates every average);
3. each row is weighted by a smooth-inverse-frequency factor, using the
   vocabulary rank as the frequency proxy (WordPiece vocabularies are roughly
   frequency ordered), so frequent pieces count less in the average.

Measured on NFCorpus dev (``bench/embedders.py``), the result keeps most of the
teacher's retrieval quality once BM25 is added, as medkg's retrieval always
does, at a few hundred times its speed. The distillation is deterministic (a
fixed SVD sign convention) and takes about half a minute; its output is a
normal sentence-transformers directory (``StaticEmbedding``), which
:class:`medkg.pipelines.embedding.embedder.Embedder` loads like any other.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from medkg.errors import ModelError

log = logging.getLogger(__name__)

METHOD = "piece-at-position, PCA, SIF(1e-5) by vocabulary rank"
DIMS = 384  # all components kept: on NFCorpus dev 384 beat 256 and 128 (NDCG@10 .233/.226/.216)
BATCH = 1024
META = "medkg_static.json"


def _piece_vectors(teacher: Path) -> tuple[Any, np.ndarray]:
    """The teacher's output vector of every vocabulary piece read alone, and its fast tokenizer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(teacher), local_files_only=True)
        model = AutoModel.from_pretrained(str(teacher), local_files_only=True).eval()
    except (OSError, ValueError) as e:
        raise ModelError(f"{teacher}: cannot load the teacher model to distil from ({e})") from e
    size = tok.vocab_size
    out = np.zeros((size, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, size, BATCH):
            ids = torch.arange(start, min(size, start + BATCH))
            x = torch.stack([torch.full_like(ids, tok.cls_token_id), ids, torch.full_like(ids, tok.sep_token_id)], 1)
            hidden = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state
            out[start : start + len(ids)] = hidden[:, 1].numpy()
    return tok, out


def reduce(vectors: np.ndarray, dims: int, sif: float = 1e-5) -> np.ndarray:
    """Centre, keep ``dims`` principal components (sign fixed: largest |loading| positive), SIF-weight by rank."""
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[: min(dims, vt.shape[0])]
    axes *= np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])[:, None]
    reduced = centred @ axes.T
    inv_rank = 1.0 / np.arange(2, len(vectors) + 2)
    prob = inv_rank / inv_rank.sum()
    return (reduced * (sif / (sif + prob))[:, None]).astype(np.float32)


def is_current(target: Path) -> bool:
    """Whether ``target`` holds a static model made by this medkg's recipe (else it is distilled again)."""
    try:
        meta = json.loads((target / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("method") == METHOD and meta.get("dims") == DIMS and (target / "modules.json").exists()


def distil(teacher: Path, target: Path, dims: int = DIMS) -> Path:
    """Write a static sentence-transformers model distilled from ``teacher`` to ``target`` (atomically)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    log.info("distilling a static embedder from %s into %s (about half a minute, once)", teacher, target)
    tok, vectors = _piece_vectors(teacher)
    weights = reduce(vectors, dims)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        SentenceTransformer(modules=[StaticEmbedding(tok, embedding_weights=weights)], device="cpu").save(str(tmp))
        (tmp / META).write_text(json.dumps(
            {"teacher": teacher.name, "dims": int(weights.shape[1]), "method": METHOD}, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
