"""Questions about one document: the diagnostic path of ``ask(question, document=ID)`` (``medkg ask --document``).

A question about one report ("What do the findings of this report suggest?", "Does this patient's report
mention cardiomegaly?") is answered from that report and from the literature its entities REFERENCE, not
from whatever the whole graph ranks highest. This is U-Retrieve with its top-down step replaced by the
document the question names; the context step is the same walk through the graph:

1. The document's chunks, scored by the question: hybrid (dense + BM25) score, plus a bonus for a chunk
   that mentions a concept the question names (or a narrower one: "heart disease" finds a report's atrial
   fibrillation), negated mentions included, since "no cardiomegaly" answers "does it mention
   cardiomegaly?". The best ``top_chunks`` go first, then (``findings_first``) the findings sections
   (ASSESSMENT, IMPRESSION, ...), then the rest of the document in reading order, as the budget allows.
2. The findings read in the passages that fit: each linked mention of a disorder, chemical or procedure (or
   of a concept the question names), with its ConText status from the graph (``present``, ``absent``,
   ``possible``, ``history``, ``family``) and the passage it was read in; a disorder the question names that
   the report does not mention at all is listed as ``not mentioned``. This line comes before the passages,
   so the model does not have to read negation itself (:class:`~medkg.queries.records.Finding`).
3. For a report (tier 1) with ``hops`` >= 1: the literature chunks its entities REFERENCE, ranked by the
   question (hybrid score), by the REFERENCES score (similarity to the report's passage), and by the status
   of the entity that references them: present findings first, possible ones next, historical, family and
   negated ones last; an entity whose concept the question names adds a bonus. At most ``max_references``,
   from distinct papers first.
4. One budget, ``RetrievalSettings.document_budget_tokens``: the report's passages come first, but up to
   half of it is kept for the literature when any is referenced; the findings line takes at most a quarter.

A literature document (tier 2) may be named too: the question is answered from its own passages alone
(REFERENCES edges start at report entities, so there is no literature hop, and no findings line: the flags
of a paper's mentions are not a patient's findings). An id that is not in the graph raises
:class:`~medkg.errors.NotFoundError`, naming it and suggesting ids that contain it.

Scoped questions never abstain on the relevance threshold: the document is the evidence the question asks
for; an answer it cannot support says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from medkg.errors import NotFoundError, QueryError
from medkg.kg import cypher
from medkg.kg.search import SearchIndex
from medkg.kg.store import GraphStore
from medkg.queries.answer import findings_block
from medkg.queries.records import ConceptRef, Finding, Passage
from medkg.queries.retrieval import QuestionAnalysis, Retrieval, RetrievalSettings, TokenCounter, approx_tokens
from medkg.queries.uretrieve import FINDINGS_SECTIONS

# concepts under one the question names (a report's "atrial fibrillation" answers "heart disease?"); anchored on
# the report's concepts by primary key, so the walk stays within a report's few dozen concepts
FINDING_GROUPS = ("DISO", "CHEM", "PROC")  # what the findings line lists, besides the concepts the question names
UNSEEN_GROUPS = ("DISO",)  # asked-about concepts reported as "not mentioned" (drug classes are no tree above drugs)
ASKED_BONUS = 1.0  # a report chunk that mentions what the question names ranks above every other
# literature: status weight x (question relevance, similarity to the report's passage) + a bonus when asked about
STATUS_WEIGHT = {"present": 1.0, "possible": 0.8, "history": 0.5, "family": 0.3, "absent": 0.3}
LITERATURE_QUESTION, LITERATURE_LINK, LITERATURE_ASKED = 0.5, 0.5, 0.3
LITERATURE_FINDINGS = 0.1  # findings_first: what a study found (RESULTS, CONCLUSIONS) before why it was done
MAX_PATH_REFERENCES = 20  # followed REFERENCES edges recorded in the retrieval path
LITERATURE_SHARE = 2  # the literature may keep up to 1/2 of the budget from the report
FINDINGS_SHARE = 4  # the findings line takes at most 1/4 of the budget
SUGGESTIONS = 3

Candidate = tuple[str, float, dict[str, Any]]  # a literature chunk, its score, and the entity that reached it


def status_of(row: dict[str, Any]) -> str:
    """A mention's ConText flags as one status; negation wins, then family, history and uncertainty."""
    if row["negated"]:
        return "absent"
    if row["family"]:
        return "family"
    if row["historical"]:
        return "history"
    if row["uncertain"]:
        return "possible"
    return "present"


def resolve_document(store: GraphStore, doc_id: str | None) -> dict[str, Any]:
    """The document a question is scoped to, or :class:`NotFoundError` naming the id (and ids that contain it)."""
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise QueryError("the document id is empty")
    doc_id = doc_id.strip()
    rows = store.query(cypher.DOCUMENT_BY_ID, {"id": doc_id})
    if rows:
        return rows[0]
    similar = store.query(cypher.DOCUMENTS_PAGE, {"tier": 0, "text": doc_id.lower(), "skip": 0,
                                                  "limit": SUGGESTIONS})
    hint = (f"; did you mean {', '.join(r['id'] for r in similar)}?" if similar
            else "; 'medkg cypher \"MATCH (d:Document) RETURN d.id\"' lists the ids")
    raise NotFoundError(f"no document {doc_id!r} in the graph{hint}")


class DocumentRetriever:
    """Evidence for a question about one document: its passages, its findings, the literature it references."""

    name = "uretrieve"  # U-Retrieve with the top-down step replaced by the named document

    def __init__(self, store: GraphStore, index: SearchIndex, document: dict[str, Any], settings: RetrievalSettings,
                 count: TokenCounter = approx_tokens) -> None:
        self.store = store
        self.index = index
        self.document = document
        self.settings = settings
        self.count = count

    def retrieve(self, q: QuestionAnalysis, question: str) -> Retrieval:
        st = self.settings
        doc_id, tier = self.document["id"], int(self.document["tier"])
        dense = self.index.dense_scores(q.vector)
        bm25 = self.index.bm25_scores(question)

        def hybrid(chunk_id: str) -> float:
            i = self.index.row.get(chunk_id)
            return 0.0 if i is None else float(st.dense_weight * dense[i] + st.bm25_weight * bm25[i])

        chunks = self.store.query(cypher.CHUNKS_OF_DOCUMENT, {"id": doc_id})
        by_id = {c["id"]: c for c in chunks}
        mentions = self.store.query(cypher.MENTIONS_OF_CHUNKS, {"ids": list(by_id)}) if chunks else []
        asked: dict[str, ConceptRef] = {c.id: c for c in [*q.concepts, *q.negated]}
        under = self._concepts_under(asked, {m["concept_id"] for m in mentions})
        matched = {m["entity"] for m in mentions if m["concept_id"] in asked or m["concept_id"] in under}
        hits = {m["chunk_id"] for m in mentions if m["entity"] in matched}

        scored = sorted(((c["id"], hybrid(c["id"]) + (ASKED_BONUS if c["id"] in hits else 0.0)) for c in chunks),
                        key=lambda kv: -kv[1])
        score = dict(scored)
        order = [c for c, _ in scored[: st.top_chunks]]
        reasons = dict.fromkeys(order, "matches the question")
        if st.findings_first:
            for c in chunks:
                if c["id"] not in reasons and any(s in (c["section"] or "").upper() for s in FINDINGS_SECTIONS):
                    order.append(c["id"])
                    reasons[c["id"]] = "findings section"
        for c in chunks:  # reading order
            if c["id"] not in reasons:
                order.append(c["id"])
                reasons[c["id"]] = "rest of the document"

        references: list[dict[str, Any]] = []
        literature: list[Candidate] = []
        lit_rows: dict[str, dict[str, Any]] = {}
        if tier == 1 and st.hops > 0 and st.max_references > 0 and mentions:
            literature, references, lit_rows = self._literature(mentions, matched, hybrid)
        cost = {c["id"]: self.count(c["text"]) for c in chunks}
        cost.update({cid: self.count(r["text"]) for cid, r in lit_rows.items()})

        budget = st.document_budget_tokens
        selected, findings, picked_lit = self._fit_budget(
            order, [cid for cid, _, _ in literature], cost,
            lambda chosen: self._findings(chosen, mentions, asked, under, matched, q.groups) if tier == 1 else [])

        pmid = self.document.get("pmid") or ""
        passages = [Passage(cid=n, chunk_id=c, doc_id=doc_id, pmid=pmid, tier=tier, start=int(by_id[c]["start"]),
                            end=int(by_id[c]["end_"]), text=by_id[c]["text"], section=by_id[c]["section"] or "",
                            score=round(score[c], 4), reason=reasons[c])
                    for n, c in enumerate(selected, start=1)]
        lit_score = {c: s for c, s, _ in literature}
        lit_why = {c: why for c, _, why in literature}
        for cid in picked_lit:
            r = lit_rows[cid]
            passages.append(Passage(cid=len(passages) + 1, chunk_id=cid, doc_id=r["doc_id"], pmid=r["pmid"] or "",
                                    tier=int(r["tier"]), start=int(r["start"]), end=int(r["end_"]), text=r["text"],
                                    section=r["section"] or "", score=round(lit_score[cid], 4),
                                    reason=f"references from {lit_why[cid]['entity']} ({lit_why[cid]['name']}, "
                                           f"{lit_why[cid]['status']})"))
        ranking = list(dict.fromkeys([doc_id, *(lit_rows[c]["doc_id"] for c in picked_lit)]))
        path: dict[str, Any] = {
            "scope": {"document": doc_id, "tier": tier, "kind": self.document.get("kind") or "",
                      "chunks": len(chunks), "chunks_in_context": len(selected),
                      "references": len(picked_lit), "budget_tokens": budget},
            "chunks": [{"id": p.chunk_id, "score": p.score, "reason": p.reason} for p in passages],
            "findings": [asdict(f) for f in findings],
            "references": references,
            "entities": sorted(matched),
        }
        return Retrieval(passages, q.concepts, ranking=ranking, path=path, mode=self.name, scope=doc_id,
                         scope_tier=tier, findings=findings)

    # -- the pieces -------------------------------------------------------------------------------------------

    def _fit_budget(self, order: list[str], literature: list[str], cost: dict[str, int],
                    findings_of: Callable[[list[str]], list[Finding]]) -> tuple[list[str], list[Finding], list[str]]:
        """The document's chunks, its findings and the literature passages that fit the budget.

        The document first, keeping up to half of the budget for the literature and a quarter for the findings
        block; the literature then takes what is left, in its ranked order.
        """
        st = self.settings
        budget = st.document_budget_tokens
        reserve, kept = 0, 0  # what the literature passages that fit in half of the budget will take
        for cid in literature:
            if kept < st.max_references and reserve + cost[cid] <= budget // LITERATURE_SHARE:
                reserve, kept = reserve + cost[cid], kept + 1
        selected = _pack(order, cost, budget - reserve)
        while True:
            findings, block = self._fit_findings(findings_of(selected), budget // FINDINGS_SHARE)
            if len(selected) == 1 or sum(cost[c] for c in selected) + block <= budget - reserve:
                break
            selected = selected[:-1]
        left = budget - sum(cost[c] for c in selected) - block
        picked: list[str] = []
        for cid in literature:
            if len(picked) == st.max_references:
                break
            if cost[cid] <= left:
                picked.append(cid)
                left -= cost[cid]
        return selected, findings, picked
    def _concepts_under(self, asked: dict[str, ConceptRef], concepts: set[str]) -> dict[str, str]:
        """The document's concepts that are narrower than one the question names: concept -> asked concept."""
        rest = sorted(concepts - set(asked))
        if not asked or not rest:
            return {}
        rows = self.store.query(cypher.CONCEPTS_UNDER, {"ids": rest, "asked": sorted(asked)})
        return {r["id"]: r["asked"] for r in rows}

    def _literature(self, mentions: list[dict[str, Any]], matched: set[str], hybrid: Callable[[str], float]
                    ) -> tuple[list[Candidate], list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """Literature chunks the report's entities REFERENCE, best first, distinct papers before second passages.

        Returns ``(chunk_id, score, why)`` with ``why`` the entity that reached it, every followed edge (for the
        retrieval path), and the chunks' rows.
        """
        st = self.settings
        entity: dict[str, dict[str, Any]] = {}
        for m in mentions:
            entity.setdefault(m["entity"], {"entity": m["entity"], "name": m["concept_name"],
                                            "concept_id": m["concept_id"], "status": status_of(m)})
        refs = sorted(self.store.query_each(cypher.REFERENCED_CHUNKS, sorted(entity)), key=lambda r: -r["score"])
        if not refs:
            return [], [], {}
        rows = {r["id"]: r for r in self.store.query(cypher.CHUNKS_BY_ID,
                                                     {"ids": sorted({r["chunk_id"] for r in refs})})}
        best: dict[str, tuple[float, dict[str, Any]]] = {}
        followed = []
        for r in refs:
            row = rows.get(r["chunk_id"])
            if row is None:
                continue
            e = entity[r["source"]]
            s = STATUS_WEIGHT.get(e["status"], 0.3) * (LITERATURE_QUESTION * hybrid(r["chunk_id"])
                                                       + LITERATURE_LINK * float(r["score"]))
            s += LITERATURE_ASKED if e["entity"] in matched else 0.0
            if st.findings_first and any(f in (row["section"] or "").upper() for f in FINDINGS_SECTIONS):
                s += LITERATURE_FINDINGS
            followed.append({"entity": e["entity"], "name": e["name"], "status": e["status"], "chunk": r["chunk_id"],
                             "references_score": round(float(r["score"]), 4), "score": round(s, 4)})
            if r["chunk_id"] not in best or s > best[r["chunk_id"]][0]:
                best[r["chunk_id"]] = (s, e)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        first: list[Candidate] = []
        second: list[Candidate] = []
        seen: set[str] = set()
        for cid, (s, e) in ranked:
            doc = rows[cid]["doc_id"]
            (second if doc in seen else first).append((cid, s, e))
            seen.add(doc)
        followed.sort(key=lambda f: -f["score"])
        return first + second, followed[:MAX_PATH_REFERENCES], rows

    def _findings(self, selected: list[str], mentions: list[dict[str, Any]], asked: dict[str, ConceptRef],
                  under: dict[str, str], matched: set[str], groups: dict[str, str]) -> list[Finding]:
        """The findings read in the selected passages, asked-about ones first, then in reading order."""
        number = {c: n for n, c in enumerate(selected, start=1)}
        by_status: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for m in sorted(mentions, key=lambda m: (int(m["start"]), m["entity"])):
            if m["chunk_id"] in number and (m["semantic_group"] in FINDING_GROUPS or m["entity"] in matched):
                by_status[(m["concept_id"], status_of(m))].append(m)
        out: list[Finding] = []
        for (concept, status), ms in by_status.items():
            first = ms[0]
            out.append(Finding(concept_id=concept, name=first["concept_name"], text=first["text"], status=status,
                               passages=tuple(sorted({number[m["chunk_id"]] for m in ms})),
                               chunk_id=first["chunk_id"], start=int(first["start"]), end=int(first["end_"]),
                               asked=any(m["entity"] in matched for m in ms)))
        seen = {m["concept_id"] for m in mentions} | set(under.values())  # a narrower concept counts
        for cid, ref in asked.items():
            if cid not in seen and groups.get(cid, UNSEEN_GROUPS[0]) in UNSEEN_GROUPS:
                out.append(Finding(concept_id=cid, name=ref.name, text="", status="not mentioned", asked=True))
        return sorted(out, key=lambda f: (not f.asked, f.passages[:1] or (0,), f.start))

    def _fit_findings(self, findings: list[Finding], limit: int) -> tuple[list[Finding], int]:
        """Drop findings from the end (those the question does not name go first) until the line fits."""
        while findings:
            cost = self.count(findings_block(findings))
            if cost <= limit or len(findings) == 1:
                return findings, cost
            findings = findings[:-1]
        return [], 0


def _pack(order: list[str], cost: dict[str, int], budget: int) -> list[str]:
    """Chunk ids in ``order`` while they fit; the first is always kept."""
    out: list[str] = []
    used = 0
    for c in order:
        if out and used + cost[c] > budget:
            continue
        out.append(c)
        used += cost[c]
    return out
