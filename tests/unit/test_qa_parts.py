"""Pieces of query time that need no model: answer schemas, the QA metrics, the model registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medkg.errors import InputError, ModelNotFoundError
from medkg.evaluation.qa import ModeResult, macro_f1, read_items
from medkg.pipelines.reading import read_documents, read_pubmedqa
from medkg.queries.answer import answer_schema, render_prompt
from medkg.queries.models import MODELS, resolve_model
from medkg.queries.records import Passage
from medkg.queries.retrieval import Retrieval, pack_passages, rank_documents


def passage(cid: int) -> Passage:
    return Passage(cid=cid, chunk_id=f"D#c{cid}", doc_id="D", pmid="", tier=2, start=0, end=4, text="text")


def test_schema_constrains_citations_and_options() -> None:
    s = answer_schema([passage(1), passage(2)], ["yes", "no", "maybe"])
    assert s["properties"]["answer"]["enum"] == ["yes", "no", "maybe"]
    assert s["properties"]["citations"]["items"]["enum"] == [1, 2]
    assert "citations" not in answer_schema([], None)["properties"]  # llm-only: nothing to cite


def test_prompts_differ_with_and_without_context() -> None:
    sys_ctx, user_ctx = render_prompt("Q?", Retrieval([passage(1)], []), ["yes", "no"])
    sys_none, user_none = render_prompt("Q?", Retrieval([], [], mode="llm-only"), None)
    assert "[1] text" in user_ctx and "Choose one of: yes, no." in user_ctx
    assert "Passages" not in user_none and sys_none != sys_ctx


def test_metrics() -> None:
    assert macro_f1([("yes", "yes"), ("no", "no"), ("maybe", "maybe")]) == 1.0
    assert macro_f1([("yes", "no"), ("no", "yes")]) == 0.0
    r = ModeResult("x")
    r.predictions = [("yes", "yes"), ("no", "abstain")]
    r.latencies = [1.0, 3.0]
    r.abstentions = 1
    r.hits = {1: [True, False], 5: [True, True], 10: [True, True]}
    m = r.metrics()
    assert (m["accuracy"], m["abstention_rate"], m["recall@1"], m["latency_p50_s"]) == (0.5, 0.5, 0.5, 2.0)
    assert m["citation_validity"] is None  # nothing cited: undefined, not 100%


def test_rank_documents_keeps_first_appearance() -> None:
    assert rank_documents(["A#c1", "B#c0", "A#c0", "C#c2"], depth=2) == ["A", "B"]


def test_pubmedqa_reader_and_items(fixtures: Path, tmp_path: Path) -> None:
    docs = {d.id: d for d in read_pubmedqa(fixtures / "pubmedqa_3.json")}
    raw = json.loads((fixtures / "pubmedqa_3.json").read_text(encoding="utf-8"))
    for pmid, rec in raw.items():
        doc = docs[f"PMID:{pmid}"]
        for sec, ctx in zip(doc.sections, rec["CONTEXTS"]):
            assert doc.text[sec.start : sec.end] == ctx
    assert {d.id for d in read_documents([fixtures / "pubmedqa_3.json"])} == set(docs)
    items = read_items(fixtures / "pubmedqa_3.json")
    assert [i.label for i in items] == [raw[k]["final_decision"] for k in raw]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"1": {"QUESTION": "q?", "final_decision": "perhaps"}}), encoding="utf-8")
    with pytest.raises(InputError, match="final_decision"):
        read_items(bad)


def test_model_registry_resolution(tmp_path: Path) -> None:
    assert {"smollm2-135m", "qwen2.5-coder-1.5b"} <= set(MODELS)
    assert resolve_model("/some/file.gguf", tmp_path, "smollm2-135m") == Path("/some/file.gguf")
    with pytest.raises(ModelNotFoundError, match="medkg models install qwen2.5-coder-1.5b"):
        resolve_model("qwen2.5-coder-1.5b", tmp_path, "smollm2-135m")
    with pytest.raises(ModelNotFoundError, match="unknown model"):
        from medkg.queries.models import install

        install("gpt-17", tmp_path)


def test_pack_passages_respects_the_token_budget(tmp_path: Path, tiny_lexicon_path: Path, tiny_vocabulary
                                                 ) -> None:
    from medkg.kg.batch import GraphBatch
    from medkg.kg.records import Document
    from medkg.kg.store import open_store
    from medkg.pipelines.extractor import Extractor

    text = "\n\n".join(f"Paragraph {i} is about pneumonia and nothing else at all." for i in range(6))
    doc = Document(id="D", text=text)
    graphs = Extractor(tiny_lexicon_path, max_chunk_chars=80, without=frozenset({"ner", "relations"})).extract(doc)
    batch = GraphBatch()
    batch.add_document(doc, graphs)
    batch.add_concepts(tiny_vocabulary)
    with open_store("embedded", tmp_path / "s.lbug", read_only=False, create=True) as st:
        st.create_schema()
        st.bulk_load(batch)
        picked = [(g.chunk.id, 1.0, "test") for g in graphs]
        small = pack_passages(st, picked, budget_tokens=30)
        big = pack_passages(st, picked, budget_tokens=10_000)
    assert 1 <= len(small) < len(big) == len(graphs)
    assert [p.cid for p in big] == list(range(1, len(graphs) + 1))


def test_citation_grammar_admits_only_shown_passages() -> None:
    from medkg.queries.choice import citation_grammar

    g = citation_grammar([1, 2, 12])
    assert g.startswith("root ::= cid") and g.count('"," " "? cid') == 2
    assert 'cid ::= "1" | "2" | "12"' in g
    assert citation_grammar([4]) == 'root ::= cid "]"\ncid ::= "4"\n'  # one passage: exactly one citation


def test_option_scores_normalise_over_the_options() -> None:
    import math

    from medkg.queries.choice import _normalise

    s = _normalise([-1.0, -2.0, -30.0])
    assert abs(sum(math.exp(x) for x in s) - 1.0) < 1e-9 and s[0] > s[1] > s[2]
    # calibration: dividing by the prior can reverse the raw order
    prior = _normalise([-0.1, -3.0, -30.0])
    cal = _normalise([a - b for a, b in zip(s, prior)])
    assert cal[1] > cal[0]


def test_content_free_prompt_keeps_the_shape_and_drops_the_content() -> None:
    from medkg.queries.answer import content_free_prompt

    with_ctx = content_free_prompt(Retrieval([passage(1), passage(2)], [], mode="uretrieve"), ["yes", "no"])
    assert with_ctx[1].endswith("Evidence:\n[1] N/A") and "[2]" not in with_ctx[1] and "Question: N/A" in with_ctx[1]
    assert with_ctx == render_prompt("N/A", Retrieval([Passage(1, "", "N/A", "", 2, 0, 3, "N/A")], []),
                                     ["yes", "no"])
    no_ctx = content_free_prompt(Retrieval([], [], mode="llm-only"), ["yes", "no"])
    assert "Passages" not in no_ctx[1] and "Question: N/A" in no_ctx[1]


def test_the_evidence_free_prompt_shares_all_but_the_evidence() -> None:
    from medkg.queries.answer import evidence_free_prompt

    system, with_evidence = render_prompt("Q?", Retrieval([passage(1)], []), ["yes", "no"])
    system_none, without = evidence_free_prompt("Q?", ["yes", "no"])
    assert system == system_none
    shared = with_evidence[: with_evidence.index("[1]")]
    assert without.startswith(shared) and len(without) - len(shared) < 10  # only "(none)" differs
