"""How often a dictionary match of a kind is a mention annotators marked: priors learnt with the NER model.

The vocabulary dictionary finds every term of every concept, but annotated
corpora mark only some of them as chemical or disease *mentions*. What decides
it is mostly the kind of concept, and MeSH's top-level tree branches say the
kind. On the BC5CDR training split, a lower-case dictionary match whose
chemical concepts sit under

- ``D02``/``D03``/``D04`` (organic, heterocyclic, polycyclic compounds) is a
  gold chemical mention 94-99% of the time ("haloperidol", "cisplatin");
- ``D12`` (amino acids, peptides, proteins) 27%, ``D27`` (chemical actions and
  uses: "analgesic", "diuretic") 20%, ``D08`` (enzymes) and ``D26``
  (pharmaceutical preparations: "drug", "placebo") never;

and diseases range from 58% (``C04``, neoplasms: "tumor" in "tumor size") to
over 90% (``C10``, ``C14``). A name seen in training answers better still (the
annotated names of ``medkg vocab load pubtator``), but a name the training
corpora never used gets only this prior.

A match's *signature* is its semantic group, whether it is written in capitals,
and the sorted MeSH branches of its candidate concepts of that group
(``CHEM|lower|D02+D03``). ``medkg train ner`` counts, over the training files,
how many matches of each signature were a gold mention of that group's type and
writes the counts beside the model (``match_priors.json``); a file that never
annotates a type (chemicals in NCBI-disease) does not count for it. The
probability is smoothed, ``(hits + 1) / (matches + 2)``, so a rare signature
stays near one half.

:mod:`medkg.pipelines.linking.mentions` uses the prior twice: a match the NER model
left out is still added when its prior is high, and a longer match that
contains an NER span ("dopamine receptor" around "dopamine") replaces the span
only when it is more likely than not a mention itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medkg.errors import MedKGError
from medkg.pipelines.linking.lexicon import Lexicon
from medkg.pipelines.ner.lexicon_tags import match_branches, match_group
from medkg.pipelines.reading import GROUP_TYPES, read_gold

log = logging.getLogger(__name__)

PRIORS_FILE = "match_priors.json"
FORMAT = 1


def signature(lexicon: Lexicon, text: str, cands: tuple[tuple[str, bool], ...]) -> str:
    """``GROUP|case|branches`` of a dictionary match (see the module docstring)."""
    group = match_group(lexicon, cands)
    return f"{group}|{'upper' if text.isupper() else 'lower'}|{'+'.join(match_branches(lexicon, cands, group))}"


@dataclass
class MatchPriors:
    """Signature -> ``(gold mentions, dictionary matches)`` counted on annotated files."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def probability(self, lexicon: Lexicon, text: str, cands: tuple[tuple[str, bool], ...]) -> float:
        hits, n = self.counts.get(signature(lexicon, text, cands), (0, 0))
        return (hits + 1) / (n + 2)

    def of_text(self, lexicon: Lexicon, text: str) -> float:
        """The prior of a span's exact dictionary look-up; 0 when no term spells it."""
        found = lexicon.lookup(text)
        return self.probability(lexicon, text, found[0]) if found else 0.0

    def save(self, path: Path) -> None:
        rows = ",\n".join(f"  {json.dumps(k)}: [{h}, {n}]" for k, (h, n) in sorted(self.counts.items()))
        path.write_text(f'{{"format": {FORMAT}, "counts": {{\n{rows}\n}}}}\n', encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> MatchPriors:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls({k: (int(v[0]), int(v[1])) for k, v in data["counts"].items()})
        except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
            raise MedKGError(f"{path}: not a readable match-priors file ({e}); re-run 'medkg train ner'") from e


def count_priors(files: Iterable[Path], lexicon: Lexicon) -> MatchPriors:
    """Count, per signature, the dictionary matches of each file that are gold mentions of their group's type."""
    counts: dict[str, list[int]] = {}
    for path in files:
        documents, gold = read_gold(path)
        types = {g.type for g in gold}
        spans = {(g.doc_id, g.start, g.end): g.type for g in gold}
        for doc in documents:
            for start, end, cands, _ in lexicon.find(doc.text):
                etype = GROUP_TYPES.get(match_group(lexicon, cands))
                if etype is None or etype not in types:
                    continue
                row = counts.setdefault(signature(lexicon, doc.text[start:end], cands), [0, 0])
                row[0] += spans.get((doc.id, start, end)) == etype
                row[1] += 1
    log.info("match priors: %d signatures", len(counts))
    return MatchPriors({k: (v[0], v[1]) for k, v in counts.items()})


def load_priors(model_dir: Path) -> MatchPriors | None:
    """The priors saved beside a NER model, or None for a model trained before they existed."""
    path = model_dir / PRIORS_FILE
    return MatchPriors.load(path) if path.is_file() else None
