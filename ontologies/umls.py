"""Reader for the user's own UMLS Metathesaurus release (``MRCONSO.RRF`` and friends).

UMLS is licensed, so medkg ships none of it: point the reader at the ``META``
directory of a release. What each file gives:

- ``MRCONSO.RRF`` (required): names. Rows are filtered by language (``LAT``,
  default English), source vocabulary (``SAB``, default all) and suppression
  (``SUPPRESS`` O/E/Y rows dropped unless asked for). The concept's name is its
  preferred English string (``TS=P``, ``STT=PF``, ``ISPREF=Y``); every other
  kept string is a synonym. The codes it has in MeSH, SNOMED CT, RxNorm,
  ICD-10-CM, OMIM, HPO and NCIt become mappings (``MESH:D003924``, ...), which
  join UMLS concepts to the other vocabularies.
- ``MRSTY.RRF``: semantic types; ``semantic_types`` holds the semantic group
  first (DISO, CHEM, ... from the bundled NLM Semantic Groups table), then the
  TUIs, so UMLS concepts fall in the same groups as MeSH ones.
- ``MRDEF.RRF``: the first definition (from a kept source).
- ``MRREL.RRF``: ``PAR`` and ``RB`` rows become parents. ``REL`` is the
  relationship of the second concept to the first, so ``C1|..|PAR|C2`` makes
  ``C2`` a parent of ``C1``. Only pairs of kept concepts are held.

Memory: MRCONSO is streamed in CUI order (releases are sorted by CUI; an
out-of-order file is refused rather than read wrong), so only the current
concept's rows are held. MRSTY, MRDEF and MRREL are read into dictionaries
keyed by the CUIs kept, which for a full English release (about 3.5 M CUIs)
is a few GB at most; restricting ``sources`` shrinks all three.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept

log = logging.getLogger(__name__)

SEMANTIC_GROUPS = Path(__file__).resolve().parent / "data" / "umls_semantic_groups.tsv"
MAPPED_SOURCES = {"MSH": "MESH", "SNOMEDCT_US": "SNOMEDCT", "RXNORM": "RXNORM", "ICD10CM": "ICD10CM",
                  "OMIM": "OMIM", "HPO": "", "NCI": "NCIT"}  # "" = the code is already a CURIE
SUPPRESSED = {"O", "E", "Y"}
RELEASE_RE = re.compile(r"20\d\d[A-Z][A-Z]")


@dataclass(frozen=True)
class UMLSFilter:
    """Which MRCONSO rows to keep."""

    sources: frozenset[str] | None = None  # SABs; None = every source
    languages: frozenset[str] = frozenset({"ENG"})
    include_suppressed: bool = False

    def keeps(self, lat: str, sab: str, suppress: str) -> bool:
        return (lat in self.languages and (self.sources is None or sab in self.sources)
                and (self.include_suppressed or suppress not in SUPPRESSED))


def read_umls(path: Path, keep: UMLSFilter | None = None) -> Iterator[Concept]:
    """Yield one ``Concept`` per CUI of the release directory ``path`` that has a kept name."""
    keep = keep or UMLSFilter()
    conso = path / "MRCONSO.RRF"
    if not conso.is_file():
        raise VocabularyError(f"{path}: no MRCONSO.RRF here; give the META directory of a UMLS release")
    groups = _semantic_groups()
    version = _release(path)
    cuis = {row[0] for row in _rows(conso, 18) if keep.keeps(row[1], row[11], row[16])}
    types = _by_cui(path / "MRSTY.RRF", 6, cuis, lambda r: r[1])
    definitions = _by_cui(path / "MRDEF.RRF", 8, cuis, lambda r: r[5], first_only=True,
                          accept=lambda r: keep.sources is None or r[4] in keep.sources)
    parents = _parents(path / "MRREL.RRF", cuis)
    n = 0
    for cui, rows in _grouped(conso):
        kept = [r for r in rows if keep.keeps(r[1], r[11], r[16])]
        if not kept:
            continue
        best = min(kept, key=lambda r: (r[2] != "P", r[4] != "PF", r[6] != "Y"))
        name = best[14]
        synonyms = tuple(dict.fromkeys(r[14] for r in kept if r[14].lower() != name.lower()))
        tuis = tuple(dict.fromkeys(types.get(cui, [])))
        group = next((groups[t] for t in tuis if t in groups), "UNKN")
        n += 1
        yield Concept(id=f"UMLS:{cui}", vocab="UMLS", name=name, synonyms=synonyms, semantic_types=(group, *tuis),
                      definition=(definitions.get(cui) or [""])[0], parents=tuple(sorted(parents.get(cui, ()))),
                      mappings=_mappings(kept), vocab_version=version)
    log.info("UMLS %s: %d concepts", version or "(release unknown)", n)


def _mappings(rows: Iterable[list[str]]) -> tuple[str, ...]:
    out = []
    for r in rows:
        prefix = MAPPED_SOURCES.get(r[11])
        if prefix is None or not r[13] or r[13] == "NOCODE":
            continue
        out.append(r[13] if prefix == "" else f"{prefix}:{r[13]}")
    return tuple(dict.fromkeys(out))


def _rows(path: Path, ncols: int) -> Iterator[list[str]]:
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115  (closed by the with below; open errors are named apart)
    except OSError as e:
        raise VocabularyError(f"{path}: cannot open ({e.strerror})") from e
    with f:
        lineno = 0
        try:
            for lineno, line in enumerate(f, start=1):
                row = line.rstrip("\n").split("|")
                if len(row) < ncols:
                    raise VocabularyError(f"{path}:{lineno}: expected at least {ncols} '|'-separated fields, "
                                          f"found {len(row)}")
                yield row
        except UnicodeDecodeError as e:
            raise VocabularyError(f"{path}: not UTF-8 (UMLS RRF files are UTF-8) near line {lineno + 1}") from e


def _grouped(path: Path) -> Iterator[tuple[str, list[list[str]]]]:
    cui, rows = "", []  # type: tuple[str, list[list[str]]]
    for row in _rows(path, 18):
        if row[0] != cui:
            if rows:
                yield cui, rows
            if row[0] < cui:
                raise VocabularyError(f"{path}: rows are not sorted by CUI ({row[0]} after {cui}); "
                                      "use the file as the release ships it")
            cui, rows = row[0], []
        rows.append(row)
    if rows:
        yield cui, rows


def _by_cui(path: Path, ncols: int, cuis: set[str], value, first_only: bool = False,
            accept=lambda r: True) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if not path.is_file():
        log.info("%s not found; going on without it", path.name)
        return out
    for row in _rows(path, ncols):
        if row[0] in cuis and accept(row) and not (first_only and row[0] in out):
            out.setdefault(row[0], []).append(value(row))
    return out


def _parents(path: Path, cuis: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if not path.is_file():
        log.info("MRREL.RRF not found; concepts get no parents")
        return out
    for row in _rows(path, 8):
        if row[3] in ("PAR", "RB") and row[0] in cuis and row[4] in cuis and row[0] != row[4]:
            out.setdefault(row[0], set()).add(f"UMLS:{row[4]}")
    return out


def _semantic_groups() -> dict[str, str]:
    with open(SEMANTIC_GROUPS, encoding="utf-8") as f:
        return {cols[0]: cols[1] for cols in (line.rstrip("\n").split("\t") for line in f if not line.startswith("#"))}


def _release(path: Path) -> str:
    for part in reversed(path.resolve().parts):
        m = RELEASE_RE.search(part)
        if m:
            return m.group(0)
    return ""
