"""The user's vocabulary library: vocabularies loaded once, used by every build.

``medkg vocab load hpo hp.obo`` reads a source file with its reader (see
``READERS`` in :mod:`medkg.ontologies.vocabulary`) and keeps the concepts in
one normalised file per vocabulary (``HP.jsonl.gz``, ``UMLS.jsonl.gz``) in the
library directory, with a manifest of counts, versions and sources. Builds
then read the bundled MeSH plus every loaded vocabulary, without re-parsing
the originals (a UMLS release takes minutes to read; its normalised file
seconds).

Loading is all or nothing: concepts go to a temporary file first, and only a
complete read replaces the vocabulary's file and its manifest entry, so a
malformed source, a wrong encoding or Ctrl-C leaves the library as it was.
Loading the same vocabulary again replaces it, never duplicates it. A loaded
MeSH (from NLM's XML) replaces the bundled one, because it is read after it.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept
from medkg.ontologies.vocabulary import Vocabulary, load_vocabulary, read_concepts

log = logging.getLogger(__name__)

MANIFEST = "vocabularies.json"


@dataclass(frozen=True)
class LoadedVocabulary:
    """One vocabulary in the library: where it came from, its version and concept counts."""

    name: str  # the CURIE prefix: HP, MONDO, UMLS, ICD10CM, MESH
    kind: str
    source: str
    concepts: int
    version: str
    groups: dict[str, int]
    loaded_at: str
    file: str


class VocabularyLibrary:
    """A directory of loaded vocabularies."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def entries(self) -> list[LoadedVocabulary]:
        path = self.root / MANIFEST
        if not path.is_file():
            return []
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return [LoadedVocabulary(**e) for e in raw["vocabularies"]]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise VocabularyError(f"{path}: the vocabulary library's manifest is damaged; "
                                  "load the vocabularies again") from e

    def load(self, kind: str, path: Path, **options: Any) -> list[LoadedVocabulary]:
        """Read ``path`` as ``kind`` and keep its concepts, one file per vocabulary prefix."""
        self.root.mkdir(parents=True, exist_ok=True)
        writers: dict[str, tuple[Path, Any]] = {}
        stats: dict[str, tuple[Counter[str], set[str]]] = {}
        try:
            for c in read_concepts(kind, path, **options):
                if c.vocab not in writers:
                    fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{c.vocab}.", suffix=".tmp")
                    os.close(fd)
                    # closed in the finally below, every writer at once
                    writers[c.vocab] = (Path(tmp), gzip.open(tmp, "wt", encoding="utf-8"))  # noqa: SIM115
                    stats[c.vocab] = (Counter(), set())
                writers[c.vocab][1].write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
                groups, versions = stats[c.vocab]
                groups[c.semantic_group] += 1
                if c.vocab_version:
                    versions.add(c.vocab_version)
            for _, f in writers.values():
                f.close()
            if not writers:
                raise VocabularyError(f"{path}: the {kind} reader found no concepts")
            return self._commit(kind, path, writers, stats)
        finally:
            for tmp_path, f in writers.values():
                f.close()
                tmp_path.unlink(missing_ok=True)

    def _commit(self, kind: str, path: Path, writers: dict[str, tuple[Path, Any]],
                stats: dict[str, tuple[Counter[str], set[str]]]) -> list[LoadedVocabulary]:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        kept = {e.name: e for e in self.entries()}
        added = []
        for name, (tmp, _) in writers.items():
            groups, versions = stats[name]
            entry = LoadedVocabulary(name=name, kind=kind, source=str(Path(path).resolve()),
                                     concepts=sum(groups.values()), version=", ".join(sorted(versions)),
                                     groups=dict(groups.most_common()), loaded_at=now, file=f"{name}.jsonl.gz")
            os.replace(tmp, self.root / entry.file)
            kept[name] = entry
            added.append(entry)
        manifest = {"vocabularies": [asdict(e) for e in sorted(kept.values(), key=lambda e: e.name)]}
        tmp_manifest = self.root / f".{MANIFEST}.tmp"
        tmp_manifest.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(tmp_manifest, self.root / MANIFEST)
        log.info("loaded %s", ", ".join(f"{e.name} ({e.concepts} concepts)" for e in added))
        return added

    def concepts(self, entry: LoadedVocabulary) -> Iterator[Concept]:
        path = self.root / entry.file
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    d = json.loads(line)
                    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
                    yield Concept(**fields)
        except (OSError, EOFError, json.JSONDecodeError, TypeError) as e:
            raise VocabularyError(f"{path}: the loaded {entry.name} vocabulary is damaged; "
                                  f"run 'medkg vocab load {entry.kind} {entry.source}' again") from e

    def vocabulary(self, bundled: bool = True) -> Vocabulary:
        """The bundled MeSH (unless ``bundled`` is false) plus every loaded vocabulary."""
        vocab = load_vocabulary("mesh-bundled") if bundled else Vocabulary()
        for entry in self.entries():
            if entry.name == "MESH":
                vocab.versions.pop("MESH", None)  # NLM's own MeSH replaces the bundled edition
            vocab.add(self.concepts(entry))
        return vocab
