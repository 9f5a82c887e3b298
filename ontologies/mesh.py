"""Reader for the compact bundled MeSH file (``ontologies/data/mesh_compact.tsv.gz``).

Descriptors get their parents from tree numbers: the parent of ``C14.280.647``
is whichever descriptor owns ``C14.280``. Supplementary concept records have
no tree numbers; they inherit the semantic group of the descriptors they are
mapped to, and those descriptors become their parents, which is how NLM's own
MeSH RDF relates them (``meshv:preferredMappedTo``).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept, mesh_semantic_group

log = logging.getLogger(__name__)

BUNDLED_MESH = Path(__file__).resolve().parent / "data" / "mesh_compact.tsv.gz"
MAGIC = "#medkg-mesh-compact"


def read_compact_mesh(path: Path = BUNDLED_MESH) -> Iterator[Concept]:
    """Yield descriptors first, then supplementary concepts, as ``Concept`` records."""
    rows, version = _read_rows(path)
    tree_owner: dict[str, str] = {}
    desc_trees: dict[str, tuple[str, ...]] = {}
    for ui, _name, _syn, trees, _mapped in rows:
        if trees:
            t = tuple(trees.split("|"))
            desc_trees[ui] = t
            for tn in t:
                tree_owner[tn] = ui
    for ui, name, syn, _trees, mapped in rows:
        synonyms = tuple(s for s in syn.split("|") if s) if syn else ()
        if ui.startswith("D"):
            t = desc_trees.get(ui, ())
            parents = sorted({f"MESH:{tree_owner[p]}" for p in (_parent_tree(x) for x in t) if p in tree_owner})
            yield Concept(
                id=f"MESH:{ui}", vocab="MESH", name=name, synonyms=synonyms,
                semantic_types=(mesh_semantic_group(t),), tree_numbers=t,
                parents=tuple(parents), vocab_version=version,
            )
        else:
            heads = [m.lstrip("*") for m in mapped.split("|") if m]
            inherited = tuple(tn for h in heads for tn in desc_trees.get(h, ()))
            yield Concept(
                id=f"MESH:{ui}", vocab="MESH", name=name, synonyms=synonyms,
                semantic_types=(mesh_semantic_group(inherited),),
                parents=tuple(f"MESH:{h}" for h in heads), vocab_version=version,
                extra={"record": "supplementary"},
            )


def _parent_tree(tree_number: str) -> str:
    return tree_number.rsplit(".", 1)[0] if "." in tree_number else ""


def tsv_lines(path: Path, magic: str, what: str, header: dict[str, str]) -> Iterator[tuple[int, list[str]]]:
    """The data lines of one of medkg's gzipped TSV files, split, with their line numbers.

    The first line must start with ``magic``; ``#key\tvalue`` lines after it go into ``header``, other ``#``
    lines are skipped. A missing or unreadable file is a ``VocabularyError`` naming it and ``what`` it is.
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            first = f.readline()
            if not first.startswith(magic):
                raise VocabularyError(f"{path}: not a medkg {what} (first line {first[:40]!r})")
            for lineno, line in enumerate(f, start=2):
                if line.startswith("#"):
                    key, tab, value = line[1:].rstrip("\n").partition("\t")
                    if tab:
                        header[key] = value
                    continue
                yield lineno, line.rstrip("\n").split("\t")
    except FileNotFoundError as e:
        raise VocabularyError(f"{path}: {what} not found") from e
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise VocabularyError(f"{path}: cannot read the {what} ({e})") from e


def _read_rows(path: Path) -> tuple[list[tuple[str, str, str, str, str]], str]:
    """Read and validate the whole file; raise ``VocabularyError`` naming the bad line."""
    header: dict[str, str] = {}
    rows: list[tuple[str, str, str, str, str]] = []
    for lineno, parts in tsv_lines(path, MAGIC, "compact MeSH file", header):
        if len(parts) != 5 or not parts[0] or not parts[1]:
            raise VocabularyError(f"{path}:{lineno}: expected 5 tab-separated columns with id and name")
        rows.append((parts[0], parts[1], parts[2], parts[3], parts[4]))
    version = header.get("version", "")
    log.info("read %d MeSH records from %s (%s)", len(rows), path, version)
    return rows, version


BUNDLED_ACTIONS = BUNDLED_MESH.with_name("mesh_pharmacological_actions.tsv.gz")
ACTIONS_MAGIC = "#medkg-mesh-actions"


def read_pharmacological_actions(path: Path = BUNDLED_ACTIONS) -> dict[str, tuple[str, ...]]:
    """MeSH's pharmacological actions: a drug's CURIE -> the CURIEs of its action descriptors.

    ``MESH:D000068180`` (Aripiprazole) -> ``MESH:D000928`` (Antidepressive Agents), ...; supplementary
    records have actions too. The relation model reads them as features: an action that names a disease
    ("Antihypertensive Agents") says what a drug treats, seldom what it induces.
    """
    out: dict[str, list[str]] = {}
    for lineno, parts in tsv_lines(path, ACTIONS_MAGIC, "pharmacological actions file", {}):
        if len(parts) != 2:
            raise VocabularyError(f"{path}:{lineno}: expected a descriptor and an action, tab-separated")
        out.setdefault(f"MESH:{parts[0]}", []).append(f"MESH:{parts[1]}")
    return {k: tuple(v) for k, v in out.items()}
