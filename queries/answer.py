"""From retrieved passages to a checked, cited ``Answer``.

Free-text questions: one constrained LLM call whose output schema allows only
the passage numbers that were shown. Multiple-choice and yes/no/maybe
questions: the options are scored by calibrated likelihood and the citations
generated under a grammar of the shown passage numbers
(:mod:`medkg.queries.choice`). Either way a small model can neither cite
outside the context nor answer off the menu. An optional bottom-up
refinement climbs the summaries U-Retrieve descended through, one bounded
call each.

A free-text question about one report (:mod:`medkg.queries.scoped`) whose context holds literature asks for
two parts, each with its citations required by the schema: the answer from the report, and what the
literature adds (:func:`document_answer_schema`); they are joined into one answer, and a literature sentence
that is off the subject or shares nothing with the passages it cites is dropped with its citations
(:func:`join_literature`).

The check afterwards is independent of the model: each citation's quote must
be exactly the text of its chunk in the store at its offsets; citations that
fail are dropped, and an answer left without any valid citation abstains.
In ``llm-only`` mode there is no context to cite, so the answer carries none
and says so in its retrieval path.

Passages are data, not instructions: sentences of a passage addressed to the model ("ignore the previous
instructions", "answer X", "cite PMID n") are replaced by a marker in the prompt, the passage is listed in
``Answer.flagged`` (and its citations carry ``flags``), the confidence is lowered, and a free-text answer that
repeats what such a sentence wanted said is withheld (:mod:`medkg.queries.injection`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from medkg.kg import cypher
from medkg.kg.store import GraphStore
from medkg.queries import injection, prompts
from medkg.queries.choice import OptionChooser, Prior
from medkg.queries.llm import Generation, LocalLLM
from medkg.queries.records import Answer, Citation, Finding, FlaggedPassage, Passage
from medkg.queries.retrieval import Retrieval
from medkg.queries.settings import AnswerSettings

log = logging.getLogger(__name__)

DOCUMENT_ANSWER_CHARS, LITERATURE_CHARS = 300, 200  # the two parts of a scoped answer (document_answer_schema)

NO_EVIDENCE = prompts.ABSTAIN  # kept under its old name for callers that compare answers with it


def answer_schema(passages: list[Passage], options: list[str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"type": "string", "enum": options} if options else {"type": "string",
                                                                                    "maxLength": 400}
    props: dict[str, Any] = {"answer": answer, "confidence": {"type": "number"}}
    required = ["answer", "confidence"]
    if passages:
        props["citations"] = {"type": "array", "items": {"type": "integer", "enum": [p.cid for p in passages]},
                              "minItems": 1, "maxItems": min(3, len(passages))}
        required.insert(1, "citations")
    return {"type": "object", "properties": props, "required": required}


def render_prompt(question: str, retrieval: Retrieval, options: list[str] | None = None) -> tuple[str, str]:
    hint, opts = prompts.answer_hint(options), prompts.options_line(options)
    if not retrieval.passages:
        return prompts.SYSTEM_NO_CONTEXT, prompts.USER_NO_CONTEXT.format(question=question, options=opts,
                                                                         answer_hint=hint)
    if retrieval.scope:
        reply = prompts.REPLY_DOCUMENT if _split_reply(retrieval, options) else None
        return system_prompt(retrieval), _user(question, scoped_evidence(retrieval), options, reply)
    parts = [prompts.PASSAGE.format(cid=p.cid, text=" ".join(p.text.split())) for p in retrieval.passages]
    if retrieval.background:
        parts.append(prompts.BACKGROUND.format(items="; ".join(retrieval.background)))
    return prompts.SYSTEM, _user(question, "\n".join(parts), options)


def system_prompt(retrieval: Retrieval) -> str:
    """The system prompt of a retrieval with evidence: the scoped one for a question about one document."""
    return prompts.SYSTEM_DOCUMENT if retrieval.scope else prompts.SYSTEM


def scoped_evidence(retrieval: Retrieval) -> str:
    """The evidence of a question scoped to one document: the findings read in it, then each passage with its
    source (the document itself, or the literature it references)."""
    parts = [findings_block(retrieval.findings)] if retrieval.findings else []
    parts += [passage_line(p, retrieval.scope, retrieval.scope_tier) for p in retrieval.passages]
    if retrieval.background:
        parts.append(prompts.BACKGROUND.format(items="; ".join(retrieval.background)))
    return "\n".join(parts)


def passage_line(p: Passage, scope: str, scope_tier: int) -> str:
    """``[n] (source) text``: the scoped document's passages say so and give their section, others their PMID."""
    if p.doc_id == scope:
        source = prompts.SOURCE_REPORT if scope_tier == 1 else prompts.SOURCE_PAPER
        if p.section:
            source = prompts.SOURCE_SECTION.format(source=source, section=p.section)
    else:
        source = (prompts.SOURCE_LITERATURE.format(pmid=p.pmid) if p.pmid
                  else prompts.SOURCE_OTHER.format(doc_id=p.doc_id))
    return prompts.PASSAGE_SOURCED.format(cid=p.cid, source=source, text=" ".join(p.text.split()))


def findings_block(findings: list[Finding]) -> str:
    """The findings the question asks about as sentences, then the others as a list: each as the report words it,
    its status and the passages it was read in."""
    sentences, items = [], []
    for f in findings:
        same = not f.text or " ".join(f.text.lower().split()).rstrip("s") == f.name.lower().rstrip("s")
        name = f.name if same else prompts.FINDING_NAME.format(text=" ".join(f.text.split()), concept=f.name)
        passages = ", ".join(map(str, f.passages))
        if f.asked and f.status in prompts.FINDING_ASKED:
            sentences.append(prompts.FINDING_ASKED[f.status].format(name=name, passages=passages))
            continue
        status = prompts.FINDING_STATUS.get(f.status, f.status)
        items.append(prompts.FINDING.format(name=name, status=status, passages=passages) if f.passages
                     else prompts.FINDING_UNSEEN.format(name=name, status=status))
    if items:
        sentences.append((prompts.FINDINGS_OTHER if sentences else prompts.FINDINGS).format(items="; ".join(items)))
    return " ".join(sentences)


def _user(question: str, passages: str, options: list[str] | None, reply: str | None = None) -> str:
    return prompts.USER.format(passages=passages, question=question, options=prompts.options_inline(options),
                               reply=reply or prompts.reply(options))


def _split_reply(retrieval: Retrieval, options: list[str] | None) -> bool:
    """A free-text question about a report with literature in its context: the report's answer and what the
    literature adds are asked for apart, each with its citations (:func:`document_answer_schema`)."""
    return (not options and bool(retrieval.scope) and any(p.doc_id == retrieval.scope for p in retrieval.passages)
            and any(p.doc_id != retrieval.scope for p in retrieval.passages))


def document_answer_schema(retrieval: Retrieval) -> dict[str, Any]:
    """The reply of :func:`_split_reply` questions: the answer cites the document's passages, the literature
    sentence the literature's (at least one each, so a statement drawn from the literature always cites it)."""
    own = [p.cid for p in retrieval.passages if p.doc_id == retrieval.scope]
    lit = [p.cid for p in retrieval.passages if p.doc_id != retrieval.scope]

    def cites(ids: list[int], most: int) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer", "enum": ids}, "minItems": 1,
                "maxItems": min(most, len(ids))}

    props = {"answer": {"type": "string", "maxLength": DOCUMENT_ANSWER_CHARS}, "citations": cites(own, 3),
             "literature": {"type": "string", "maxLength": LITERATURE_CHARS}, "literature_citations": cites(lit, 2),
             "confidence": {"type": "number"}}
    return {"type": "object", "properties": props, "required": list(props)}


def join_literature(data: dict[str, Any], question: str = "", passages: dict[int, str] | None = None
                    ) -> dict[str, Any]:
    """One answer from a :func:`document_answer_schema` reply: the report's answer, then what the literature adds
    with its citations.

    A small model fills the literature field whether or not the literature bears on the question, so the
    sentence is kept only when it shares a content word with the question or the report's answer (it is on
    the subject) and one with the literature passages it cites (``passages``: number -> text; it says
    something they say); otherwise it is left out with its citations.
    """
    answer = _once(_whole_sentences(str(data.get("answer", "")), DOCUMENT_ANSWER_CHARS))
    extra = _once(_whole_sentences(str(data.get("literature", "")), LITERATURE_CHARS))
    citations = list(data.get("citations", []))
    cited = [c for c in data.get("literature_citations", []) if c not in citations]
    words = _content_words(extra)
    on_subject = bool(words & _content_words(f"{question} {answer}"))
    grounded = passages is None or bool(words & _content_words(" ".join(passages.get(c, "") for c in cited)))
    if extra and cited and on_subject and grounded:
        if answer and not answer.endswith((".", "?", "!")):
            answer += "."
        answer = f"{answer} {extra}".strip()
        citations += cited
    return {"answer": answer, "citations": citations, "confidence": data.get("confidence", 0.0)}


def _follow_up(answer: str, summary: str, question: str, options: list[str] | None) -> str:
    """The refinement turn: the current answer and a higher-level summary; keep or revise."""
    return prompts.REFINE.format(answer=answer, summary=summary, question=question,
                                 options=prompts.options_line(options), answer_hint=prompts.answer_hint(options))


def evidence_free_prompt(question: str, options: list[str] | None, system: str = prompts.SYSTEM) -> tuple[str, str]:
    """The prompt with the question but no evidence: what the model believes before reading the passages.

    It has the same template as :func:`render_prompt` (pass its ``system``), so the two share their prefix
    (the system prompt and the question) and the second costs only the tokens after it.
    """
    return system, _user(question, prompts.NO_EVIDENCE, options)


def content_free_prompt(retrieval: Retrieval, options: list[str] | None) -> tuple[str, str]:
    """The prompt shape of ``retrieval`` with "N/A" as question and passage (for contextual calibration)."""
    blank_text = prompts.CONTENT_FREE
    dummy = [Passage(cid=1, chunk_id="", doc_id=blank_text, pmid="", tier=2, start=0, end=len(blank_text),
                     text=blank_text)]
    if retrieval.scope:  # the same prompt shape: the scoped system prompt and a passage of the document
        dummy = [Passage(cid=1, chunk_id="", doc_id=retrieval.scope, pmid="", tier=retrieval.scope_tier, start=0,
                         end=len(blank_text), text=blank_text)]
    blank = Retrieval(dummy if retrieval.passages else [], [], mode=retrieval.mode, scope=retrieval.scope,
                      scope_tier=retrieval.scope_tier)
    return render_prompt(prompts.CONTENT_FREE, blank, options)


def generate_answer(question: str, retrieval: Retrieval, llm: LocalLLM, store: GraphStore,
                    options: list[str] | None = None, settings: AnswerSettings | None = None,
                    chooser: OptionChooser | None = None) -> Answer:
    """Answer from ``retrieval``; questions with ``options`` are answered by :mod:`medkg.queries.choice`.

    ``settings`` supplies refinement (``refine``, ``max_refine_calls``) and option scoring (``calibrate``,
    ``evidence_weight``); ``chooser`` keeps cached priors between questions.
    """
    st = settings or AnswerSettings()
    refine_calls = st.max_refine_calls if st.refine else 0
    llm_only = retrieval.mode == "llm-only"
    if retrieval.empty and not llm_only:
        return Answer(question=question, answer=NO_EVIDENCE, citations=[], confidence=0.0, abstained=True,
                      concepts=retrieval.concepts, retrieval_path=retrieval.path, model=llm.name,
                      mode=retrieval.mode)
    screen = screen_passages(retrieval)
    shown = quarantined(retrieval, screen)  # what the model reads: sentences addressed to it replaced
    system, user = render_prompt(question, shown, options)
    refine = shown.summaries[:refine_calls] if shown.passages else []
    if options and llm.can_score:
        prior = _prior(question, shown, options, st.evidence_weight) if st.calibrate else None
        data, tokens = _choose(chooser or OptionChooser(llm), system, user, question, shown, options, refine, prior)
    else:
        data, tokens = _generate(llm, system, user, question, shown, options, refine)
    by_cid = {p.cid: p for p in retrieval.passages}
    cited = [by_cid[c] for c in dict.fromkeys(data.get("citations", [])) if c in by_cid]
    citations = verify_citations([Citation(id=p.cid, doc_id=p.doc_id, pmid=p.pmid, chunk_id=p.chunk_id,
                                           start=p.start, end=p.end, quote=p.text, tier=p.tier,
                                           flags=screen[p.cid].flags if p.cid in screen else ())
                                  for p in cited], store)
    text = str(data.get("answer", "")).strip()
    abstained = not text or (not citations and not llm_only)
    confidence = min(max(float(data.get("confidence", 0.0) or 0.0), 0.0), 1.0)
    path, echoed = retrieval.path, False
    if screen:
        echoed = not options and not abstained and injection.echoes(text, _payload(question, options, retrieval,
                                                                                    shown, screen))
        factor = injection.confidence_factor(len(retrieval.passages), len(screen),
                                             any(c.flags for c in citations))
        confidence = round(confidence * factor, 4)
        path = {**path, "injection": {"passages_flagged": len(screen), "passages_shown": len(retrieval.passages),
                                      "confidence_factor": factor, "answer_echoed_instructions": echoed}}
        if echoed:
            log.warning("withheld an answer that repeats text a passage addressed to the model")
    abstained = abstained or echoed
    reply = prompts.ABSTAIN_INJECTED if echoed else NO_EVIDENCE if abstained else text
    return Answer(question=question, answer=reply, citations=[] if echoed else citations,
                  confidence=0.0 if abstained else confidence, abstained=abstained, concepts=retrieval.concepts,
                  retrieval_path=path, model=llm.name, tokens=tokens, mode=retrieval.mode,
                  probabilities={} if abstained else data.get("probabilities", {}),
                  flagged=flagged_passages(retrieval, screen))


def screen_passages(retrieval: Retrieval) -> dict[int, injection.Scan]:
    """The passages of ``retrieval`` that carry text addressed to the model, by citation number."""
    found = {p.cid: injection.scan(p.text) for p in retrieval.passages}
    flagged = {cid: f for cid, f in found.items() if f.flagged}
    if flagged:
        log.warning("passages %s carry text addressed to the model (%s); it is left out of the prompt",
                    sorted(flagged), ", ".join(sorted({r for f in flagged.values() for r in f.flags})))
    return flagged


def quarantined(retrieval: Retrieval, screen: dict[int, injection.Scan]) -> Retrieval:
    """``retrieval`` as the model reads it: the flagged sentences of its passages and summaries replaced by a
    marker (:func:`medkg.queries.injection.quarantine`)."""
    summaries = [injection.quarantine(s) for s in retrieval.summaries]
    if not screen and summaries == retrieval.summaries:
        return retrieval
    passages = [dataclasses.replace(p, text=injection.quarantine(p.text, screen[p.cid])) if p.cid in screen else p
                for p in retrieval.passages]
    return dataclasses.replace(retrieval, passages=passages, summaries=summaries)


def flagged_passages(retrieval: Retrieval, screen: dict[int, injection.Scan]) -> list[FlaggedPassage]:
    """The answer's record of each flagged passage: its rules, and the document spans and text left out."""
    return [FlaggedPassage(id=p.cid, doc_id=p.doc_id, pmid=p.pmid, chunk_id=p.chunk_id, flags=screen[p.cid].flags,
                           spans=tuple((p.start + s, p.start + e) for s, e in screen[p.cid].spans),
                           removed=injection.removed_text(p.text, screen[p.cid]))
            for p in retrieval.passages if p.cid in screen]


def _payload(question: str, options: list[str] | None, retrieval: Retrieval, shown: Retrieval,
             screen: dict[int, injection.Scan]) -> set[str]:
    """Words only the quarantined sentences hold (:func:`medkg.queries.injection.payload_words`)."""
    removed = " ".join(injection.removed_text(p.text, screen[p.cid]) for p in retrieval.passages if p.cid in screen)
    kept = " ".join([question, *(options or []), *(p.text for p in shown.passages), *shown.background])
    return injection.payload_words(removed, kept)


def _whole_sentences(text: str, limit: int) -> str:
    """A reply the length limit cut off ends at its last whole sentence, or at its last whole word with "...".

    The grammar counts the limit in its own units, so a reply within a tenth of it that does not end a sentence
    counts as cut off, and so does one that ends in an ellipsis (a model that felt the limit coming)."""
    text = text.strip()
    if text.endswith(("...", "\u2026")):
        text = text.rstrip(".\u2026").rstrip()
    elif len(text) < 0.9 * limit or text.endswith((".", "?", "!", '."', ".)")):
        return text
    ends = [m.end() for m in re.finditer(r"[.?!](?=\s)", text)]
    if ends:
        return text[: ends[-1]]
    return text[: text.rfind(" ")].rstrip(" ,;:") + "..." if " " in text else text


# words that say nothing of a topic in a question about a report ("does the literature mention...")
GENERIC_WORDS = frozenset((
    "about", "after", "also", "been", "before", "could", "does", "done", "from", "have", "into", "literature",
    "mention", "mentioned", "more", "most", "other", "patient", "report", "said", "says", "should", "some",
    "study", "studies", "such", "than", "that", "their", "them", "then", "there", "these", "they", "this", "those",
    "were", "what", "when", "which", "while", "whom", "whose", "will", "with", "would",
    # what the prompt itself says of the passages and findings
    "finding", "findings", "passage", "passages", "evidence", "suggest", "suggests", "present", "absent",
    "possible", "confirmed", "none"))


def _content_words(text: str) -> set[str]:
    """Lower-case words of four letters or more, an English plural's s dropped, generic words left out."""
    words = {w.rstrip("s") for w in re.findall(r"[a-z][a-z0-9-]{3,}", text.lower())}
    return words - GENERIC_WORDS - {w.rstrip("s") for w in GENERIC_WORDS}


def _once(text: str) -> str:
    """Each sentence once: a small model caught in a loop repeats one."""
    parts = re.split(r"(?<=[.?!])\s+", text)
    return " ".join(dict.fromkeys(p for p in parts if p))


def _prior(question: str, retrieval: Retrieval, options: list[str], evidence_weight: float) -> Prior:
    """With evidence: the same question without it (context-aware decoding); without: content-free calibration."""
    if retrieval.passages and evidence_weight > 0:
        return Prior.context_aware(evidence_free_prompt(question, options, system_prompt(retrieval)), evidence_weight)
    return Prior(content_free_prompt(retrieval, options), cache=True)


def _choose(chooser: OptionChooser, system: str, user: str, question: str, retrieval: Retrieval,
            options: list[str], refine: list[str], prior: Prior | None) -> tuple[dict[str, Any], dict[str, int]]:
    """Options by likelihood against ``prior``; each refinement step re-scores with a higher summary appended."""
    ids = [p.cid for p in retrieval.passages]
    choice = chooser.choose(system, user, options, ids, prior)
    tokens = {"prompt": choice.prompt_tokens, "completion": choice.completion_tokens, "calls": 1}
    for summary in refine:
        follow = _follow_up(choice.option, summary, question, options)
        choice = chooser.choose(system, f"{user}\n\n{follow}", options, ids, prior)
        tokens["prompt"] += choice.prompt_tokens
        tokens["completion"] += choice.completion_tokens
        tokens["calls"] += 1
    data = {"answer": choice.option, "citations": choice.citations,
            "confidence": choice.probabilities[choice.option], "probabilities": choice.probabilities}
    return data, tokens


def _generate(llm: LocalLLM, system: str, user: str, question: str, retrieval: Retrieval,
              options: list[str] | None, refine: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """One schema-constrained completion, plus bounded refinement."""
    if _split_reply(retrieval, options):  # a scoped retrieval has no summaries to refine with
        gen = llm.generate_json(system, user, document_answer_schema(retrieval))
        texts = {p.cid: p.text for p in retrieval.passages if p.doc_id != retrieval.scope}
        tokens = {"prompt": gen.prompt_tokens, "completion": gen.completion_tokens, "calls": 1}
        return join_literature(gen.data, question, texts), tokens
    schema = answer_schema(retrieval.passages, options)
    gen = llm.generate_json(system, user, schema)
    tokens = {"prompt": gen.prompt_tokens, "completion": gen.completion_tokens, "calls": 1}
    for summary in refine:
        gen = _refine(llm, system, user, gen, summary, question, options, schema)
        tokens["prompt"] += gen.prompt_tokens
        tokens["completion"] += gen.completion_tokens
        tokens["calls"] += 1
    return gen.data, tokens


def _refine(llm: LocalLLM, system: str, user: str, gen: Generation, summary: str, question: str,
            options: list[str] | None, schema: dict[str, Any]) -> Generation:
    """One bottom-up step: show the current answer and a higher-level summary; keep or revise."""
    follow = _follow_up(str(gen.data.get("answer", "")), summary, question, options)
    return llm.generate_json(system, f"{user}\n\n{follow}", schema)


def verify_citations(citations: list[Citation], store: GraphStore) -> list[Citation]:
    """Keep only citations whose quote is exactly the stored chunk text at the cited offsets."""
    if not citations:
        return []
    rows = {r["id"]: r for r in store.query(cypher.CHUNKS_BY_ID, {"ids": [c.chunk_id for c in citations]})}
    valid = []
    for c in citations:
        r = rows.get(c.chunk_id)
        ok = (r is not None and r["doc_id"] == c.doc_id and int(r["start"]) <= c.start <= c.end <= int(r["end_"])
              and r["text"][c.start - int(r["start"]) : c.end - int(r["start"])] == c.quote)
        if ok:
            valid.append(c)
        else:
            log.warning("dropped citation %d: quote not found at %s[%d:%d]", c.id, c.doc_id, c.start, c.end)
    return valid
