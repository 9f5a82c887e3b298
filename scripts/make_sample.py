"""Generate the bundled sample corpus, ``medkg/sample/abstracts.jsonl`` (tier 2).

Sources (both permissive, attributed in ``medkg/sample/README.md``):
- PubMedQA PQA-L (MIT): abstracts whose MeSH headings name one of TOPICS, so
  the sample has related literature behind the synthetic notes (tier 1);
- NCBI-disease (public domain): the first NCBI_DOCS abstracts of its
  training set.

Run: ``python scripts/make_sample.py ../shared/data``. Deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOPICS = ["Appendicitis", "Asthma", "Atrial Fibrillation", "Diabetes Mellitus, Type 2", "Pulmonary Embolism",
          "Pneumonia", "Myocardial Infarction", "Stroke"]
PER_TOPIC = 4
NCBI_DOCS = 8
OUT = Path(__file__).resolve().parents[1] / "medkg" / "sample" / "abstracts.jsonl"


def pubmedqa(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out, seen = [], set()
    for topic in TOPICS:
        n = 0
        for pmid, rec in data.items():
            if topic in rec["MESHES"] and pmid not in seen and n < PER_TOPIC:
                seen.add(pmid)
                n += 1
                text, sections = "", []
                for label, ctx in zip(rec["LABELS"], rec["CONTEXTS"]):
                    if text:
                        text += "\n\n"
                    sections.append({"label": label, "start": len(text), "end": len(text) + len(ctx)})
                    text += ctx
                out.append({"id": f"PMID:{pmid}", "pmid": pmid, "tier": 2, "kind": "abstract",
                            "title": rec["QUESTION"], "date": rec.get("YEAR", ""), "text": text,
                            "sections": sections, "source": "PubMedQA PQA-L (MIT)"})
    return out


def ncbi(path: Path) -> list[dict]:
    out, title = [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "|t|" in line[:20]:
            pmid, _, t = line.split("|", 2)
            title[pmid] = t
        elif "|a|" in line[:20] and len(out) < NCBI_DOCS:
            pmid, _, a = line.split("|", 2)
            t = title[pmid]
            out.append({"id": f"PMID:{pmid}", "pmid": pmid, "tier": 2, "kind": "abstract", "title": t,
                        "text": f"{t} {a}", "source": "NCBI-disease corpus (public domain)",
                        "sections": [{"label": "TITLE", "start": 0, "end": len(t)},
                                     {"label": "ABSTRACT", "start": len(t) + 1, "end": len(t) + 1 + len(a)}]})
    return out


def main() -> None:
    data = Path(sys.argv[1])
    docs = pubmedqa(data / "qa" / "pubmedqa" / "pqal_dev.json") + ncbi(data / "el" / "ncbi_disease" /
                                                                      "NCBItrainset_corpus.txt")
    with open(OUT, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(docs)} abstracts")


if __name__ == "__main__":
    main()
