"""MeSH knowledge used as features: tree numbers (hierarchy) and pharmacological actions.

A compact copy is built from the vocabulary once, when the model is trained, and saved in the model
directory (``mesh.json.gz``, about 2 MB), so inference needs no vocabulary and stays what training saw.  Supplementary
concepts (``C...`` ids) have no tree numbers of their own; they borrow those of the
descriptors they are mapped to ("heading mapped to").
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medkg.ontologies.mesh import read_pharmacological_actions
from medkg.ontologies.vocabulary import Vocabulary

log = logging.getLogger(__name__)


def _code(mesh_id: str) -> int:
    """An id as one integer: its digits, plus their count (C012345 and C000012345 stay apart)."""
    digits = mesh_id[1:]
    return int(digits) + len(digits) * 10**10 if digits.isdigit() else -1


class HeadingMap:
    """Supplementary concept -> heading descriptors, in two sorted integer arrays.

    The 320,000 supplementary concepts as a dict of lists took about 100 MB of memory;
    as arrays they take 5 MB, and a lookup is a binary search (results are cached by callers).
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray, prefixes: tuple[str, str] = ("C", "D")):
        order = np.argsort(keys, kind="stable")
        self.keys, self.values, self.prefixes = keys[order], values[order], prefixes

    @classmethod
    def from_dict(cls, mapping: Mapping[str, list[str]]) -> HeadingMap:
        pairs = [(_code(k), _code(v)) for k, vs in mapping.items() for v in vs if _code(k) >= 0 and _code(v) >= 0]
        arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return cls(arr[:, 0], arr[:, 1])

    def _decode(self, code: int) -> str:
        n_digits, number = divmod(int(code), 10**10)
        return f"{self.prefixes[1]}{number:0{n_digits}d}"

    def get(self, key: str, default: tuple = ()) -> list[str] | tuple:
        if not key.startswith(self.prefixes[0]):
            return default
        code = _code(key)
        lo = int(np.searchsorted(self.keys, code, "left"))
        hi = int(np.searchsorted(self.keys, code, "right"))
        return [self._decode(c) for c in self.values[lo:hi]] if hi > lo else default

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(slots=True)
class MeshResource:
    """Tree numbers, supplementary-concept headings and pharmacological actions of MeSH ids."""

    trees: dict[str, list[str]] = field(default_factory=dict)  # descriptor -> tree numbers
    headings: HeadingMap | dict[str, list[str]] = field(default_factory=dict)  # supplementary -> descriptors
    actions: dict[str, list[str]] = field(default_factory=dict)  # descriptor -> pharmacological action ids
    names: dict[str, str] = field(default_factory=dict)  # action id -> name
    disease_words: dict[str, list[str]] = field(default_factory=dict)  # disease descriptor -> name/synonym words
    tree_ids: dict[str, str] = field(default_factory=dict)  # disease tree number -> descriptor

    def tree_numbers(self, concept: str) -> list[str]:
        """Tree numbers of a descriptor, or of the descriptors a supplementary concept maps to."""
        if concept in self.trees:
            return self.trees[concept]
        out: list[str] = []
        for head in self.headings.get(concept, ()):
            out.extend(self.trees.get(head, ()))
        return out

    def branches(self, concept: str, depth: int) -> set[str]:
        """Tree-number prefixes of ``depth`` levels (``C10.228`` at depth 2)."""
        return {".".join(t.split(".")[:depth]) for t in self.tree_numbers(concept)}

    def pharm_actions(self, concept: str) -> set[str]:
        """Pharmacological action ids of a descriptor or of a supplementary concept's headings."""
        out = set(self.actions.get(concept, ()))
        for head in self.headings.get(concept, ()):
            out.update(self.actions.get(head, ()))
        return out

    def is_ancestor(self, general: str, specific: str) -> bool:
        """True if some tree number of ``general`` is a proper prefix of one of ``specific``."""
        if general == specific:
            return False
        gen = self.tree_numbers(general)
        spec = self.tree_numbers(specific)
        return any(s.startswith(g + ".") for g in gen for s in spec)

    def disease_vocabulary(self, disease: str) -> set[str]:
        """Words of the names and synonyms of a disease and of all its ancestors."""
        ids = {disease}
        for tn in self.tree_numbers(disease):
            parts = tn.split(".")
            ids.update(self.tree_ids.get(".".join(parts[:k]), "") for k in range(1, len(parts)))
        return {w for i in ids for w in self.disease_words.get(i, ())}

    def action_words(self, chemical: str) -> set[str]:
        """Disease-like words of a chemical's pharmacological actions ("Antihypertensive Agents" ->
        "hypertensive"): a drug's indication, seldom its adverse effect."""
        out: set[str] = set()
        for pa in self.pharm_actions(chemical):
            name = self.names.get(pa, "").lower().replace("anti-", "anti")
            for w in name.replace("-", " ").replace(",", " ").split():
                if w.startswith("anti") and len(w) > 7:
                    out.add(w[4:])
        return out

    def save(self, path: str | Path) -> None:
        """``path`` (JSON, gzipped) and, beside it, ``<stem>_headings.npz`` for the heading map."""
        data = {"trees": self.trees, "actions": self.actions, "names": self.names,
                "disease_words": self.disease_words, "tree_ids": self.tree_ids}
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        heads = self.headings if isinstance(self.headings, HeadingMap) else HeadingMap.from_dict(self.headings)
        np.savez_compressed(_headings_path(path), keys=heads.keys, values=heads.values)

    @classmethod
    def load(cls, path: str | Path) -> MeshResource:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        z = np.load(_headings_path(path))
        return cls(trees=data["trees"], headings=HeadingMap(z["keys"], z["values"]), actions=data["actions"],
                   names=data["names"], disease_words=data.get("disease_words", {}),
                   tree_ids=data.get("tree_ids", {}))


def _headings_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name.split(".")[0] + "_headings.npz")


def _disease_words(names: list[str]) -> list[str]:
    words: set[str] = set()
    for name in names:
        words.update(w for w in name.lower().replace("-", " ").replace(",", " ").split() if len(w) >= 5)
    return sorted(words)


def build_mesh_resource(vocab: Vocabulary, actions: dict[str, tuple[str, ...]] | None = None) -> MeshResource:
    """The MeSH knowledge of the relation features, from a vocabulary's MeSH concepts and MeSH's
    pharmacological actions (by default the bundled ones, :func:`~medkg.ontologies.mesh.read_pharmacological_actions`).

    Only chemicals (tree D), diseases (C) and mental disorders (F03) are ever looked up; a supplementary
    record borrows the tree numbers of the descriptors it is mapped to (its parents).
    """
    res = MeshResource()
    headings: dict[str, list[str]] = {}
    for cid, c in vocab.concepts.items():
        if not cid.startswith("MESH:"):
            continue
        ui = cid[5:]
        if ui.startswith("D") and any(t.startswith(("C", "D", "F03")) for t in c.tree_numbers):
            res.trees[ui] = list(c.tree_numbers)
            if any(t.startswith(("C", "F03")) for t in c.tree_numbers):
                res.disease_words[ui] = _disease_words([c.name, *c.synonyms])
                for tn in c.tree_numbers:
                    res.tree_ids[tn] = ui
        elif ui.startswith("C"):
            heads = [h[5:] for h in c.parents if h.startswith("MESH:D")]
            if heads:
                headings[ui] = heads
    res.headings = HeadingMap.from_dict(headings)
    for drug, acts in (read_pharmacological_actions() if actions is None else actions).items():
        res.actions[drug.removeprefix("MESH:")] = [a.removeprefix("MESH:") for a in acts]
        for a in acts:
            if a in vocab.concepts:
                res.names[a.removeprefix("MESH:")] = vocab.concepts[a].name
    log.info("MeSH for relations: %d descriptors with trees, %d supplementary, %d with actions",
             len(res.trees), len(res.headings), len(res.actions))
    return res
