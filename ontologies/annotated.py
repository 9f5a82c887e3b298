"""Names from an annotated corpus: how its annotators named each concept (``medkg vocab load pubtator``).

A vocabulary says what a concept is called; an annotated corpus says what
people who link text to it *decided*. BC5CDR's annotators link
"nephrotoxicity" to Kidney Diseases (D007674) and "toxicity" to Drug-Related
Side Effects and Adverse Reactions (D064420): no MeSH term spells either, and
character similarity cannot find them. Their choices are training data, as
much as the spans the NER model learns from, and the standard way linkers use
them is as extra names ("training-set dictionary").

This reader turns the gold mentions of PubTator files (training splits) into
``Concept`` records of the vocabulary ``ANNOTATED``: one per concept id, with
the mention texts as names. A text linked to several ids keeps only the id it
was linked to most often (ties: the smaller id), so one text names one concept.
A mention linked to several ids at once counts for each of them, unless it
coordinates names: "breast and ovarian cancer" (D001943|D010051) names no
single concept, but "hemorrhagic cystitis" (Hemorrhage|Cystitis, as BC5CDR
links it before MeSH had a descriptor of its own) or "cholestatic hepatitis"
is one name for a pair of concepts, and either is the annotators' link
(BC5CDR dev +0.0024, held-out tenth +0.001).
Loaded into the vocabulary library, the names are added to the concepts they
name (an id the other vocabularies lack, such as an OMIM disease or a retired
MeSH record, becomes a concept of its own) and, when exact look-up meets such a
text, the annotators' choice outranks the vocabulary's own ranking. Where two
loaded corpora link one text to different concepts, the concept whose own term
it is wins ("myalgia": Myalgia in BC5CDR, Musculoskeletal Pain in
NCBI-disease; 14 such names between the two training splits).

Only load the training split of a corpus you evaluate on: names from its
development or test split would be its answers.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from medkg.errors import VocabularyError
from medkg.ontologies.concept import Concept
from medkg.ontologies.curie import pubtator_curie
from medkg.ontologies.terms import normalise

log = logging.getLogger(__name__)

VOCAB = "ANNOTATED"  # one library entry per file: ANNOTATED-<file stem>
TYPE_GROUPS = {"Chemical": "CHEM", "Disease": "DISO", "SpecificDisease": "DISO", "DiseaseClass": "DISO",
               "Modifier": "DISO", "CompositeMention": "DISO"}
# a mention with several ids that coordinates names ("breast and ovarian cancer", "breast/ovarian cancer")
_COORDINATED = re.compile(r",|/|\b(?:and|or|nor|to|than)\b", re.IGNORECASE)


def read_annotated_names(path: Path) -> Iterator[Concept]:
    """``Concept`` records (vocabulary ``ANNOTATED``) from the gold mentions of a PubTator file."""
    counts: dict[str, Counter[str]] = {}  # normalised text -> id -> count
    surface: dict[tuple[str, str], Counter[str]] = {}  # (id, normalised text) -> original texts
    groups: dict[str, Counter[str]] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 6 or cols[4] not in TYPE_GROUPS:
                    continue
                ids = [c for c in (pubtator_curie(i) for i in cols[5].replace("+", "|").split("|")) if c]
                key = normalise(cols[3])
                if not ids or not key or (len(ids) > 1 and _COORDINATED.search(cols[3])):
                    continue  # composite mentions ("breast and ovarian cancer") name no single concept
                for cid in ids:
                    counts.setdefault(key, Counter())[cid] += 1
                    surface.setdefault((cid, key), Counter())[cols[3].strip()] += 1
                    groups.setdefault(cid, Counter())[TYPE_GROUPS[cols[4]]] += 1
    except FileNotFoundError as e:
        raise VocabularyError(f"{path}: file not found") from e
    except UnicodeDecodeError as e:
        raise VocabularyError(f"{path}: not valid UTF-8 (byte {e.start}: {e.reason})") from e
    if not counts:
        raise VocabularyError(f"{path}: no annotated mentions with a concept id (is this a PubTator file?)")
    names: dict[str, list[tuple[int, str]]] = {}
    for key, by_id in counts.items():
        cid, n = min(by_id.items(), key=lambda kv: (-kv[1], kv[0]))
        names.setdefault(cid, []).append((n, surface[(cid, key)].most_common(1)[0][0]))
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)
    version = f"{path.name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    log.info("%s: %d annotated names of %d concepts", path, len(counts), len(names))
    for cid in sorted(names):
        terms = [t for _, t in sorted(names[cid], key=lambda x: (-x[0], x[1]))]
        yield Concept(id=cid, vocab=f"{VOCAB}-{stem}", name=terms[0], synonyms=tuple(terms[1:]),
                      semantic_types=(groups[cid].most_common(1)[0][0],), vocab_version=version)
