"""The optional LLM rewrite of topic and theme summaries, with the real small model, kept across a rebuild."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medkg.kg import cypher
from medkg.kg.view.summaries import REWRITES_FILE, load_rewrites
from medkg.pipelines.build import build_graph, sample_paths
from medkg.queries.api import KnowledgeGraph
from medkg.queries.llm import LLMSettings
from medkg.queries.summary_rewrite import rewrite_summaries

pytestmark = pytest.mark.integration


def _texts(graph: Path) -> dict[str, str]:
    with KnowledgeGraph.open(graph) as kg:
        return {r["id"]: r["text"] for level in (1, 2)
                for r in kg.store.query(cypher.SUMMARIES_AT_LEVEL, {"level": level})}


def test_rewritten_summaries_are_stored_checked_and_survive_a_full_rebuild(tmp_path: Path, sample_graph: Path
                                                                          ) -> None:
    g = tmp_path / "g"
    shutil.copytree(sample_graph, g)
    before = _texts(g)
    with KnowledgeGraph.open(g, write=True, llm=LLMSettings(model="smollm2-135m")) as kg, kg.writing() as store:
        # every summary: few of the 135M model's first sentences pass the checks, and the test needs one
        report = rewrite_summaries(kg.dir, store, kg.llm, (1, 2))
        assert report.rewritten + report.rejected == len(before) and report.skipped == 0
        again = rewrite_summaries(kg.dir, store, kg.llm, (1, 2), limit=0)  # no model call: only counts
        assert again.skipped == report.rewritten and again.rewritten == again.rejected == 0
    rewrites = load_rewrites(g / REWRITES_FILE)
    assert len(rewrites) == report.rewritten >= 1
    after = _texts(g)
    changed = {sid for sid in after if after[sid] != before[sid]}
    assert len(changed) == report.rewritten
    assert {after[s] for s in changed} == {v["text"] for v in rewrites.values()}
    assert {before[s] for s in changed} == {v["extractive"] for v in rewrites.values()}
    assert all(after[s].startswith(("Topic:", "Theme:")) for s in after if s not in changed)

    rebuilt = build_graph(sample_paths(), g, full=True, workers=0)  # a new view from the ledger
    assert rebuilt.view_rebuilt and not rebuilt.view_patched
    assert _texts(g) == after
