"""The web page of ``medkg serve``, driven in headless Chromium against the real server and the sample graph.

One walk through what a user does: ask, click a citation and see its span highlighted, open a concept and its
graph, walk to a neighbour, add a report and delete it again. Set ``MEDKG_SCREENSHOT`` to a path to keep a
screenshot of the answer (docs/serve-answer.png is made that way).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

QUESTION = "Are leukocyte count and CRP useful to diagnose acute appendicitis?"
NOTE = ("CHIEF COMPLAINT: Wheezing.\n\nHISTORY OF PRESENT ILLNESS: 9-year-old boy with asthma. "
        "Denies shortness of breath at rest.\n\nASSESSMENT: Possible pneumonia.\n")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def in_viewport(page: Any, selector: str) -> bool:
    return bool(page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""", selector))


def test_ask_cite_concept_graph_upload_and_delete(page: Any, server: str, tmp_path: Path) -> None:
    # ask: the answer comes with numbered citations
    page.goto(server + "/")
    page.fill("[data-testid=question]", QUESTION)
    page.fill("#options", "yes, no, maybe")
    page.click("[data-testid=ask]")
    page.wait_for_selector("[data-testid=answer]", timeout=300_000)
    assert page.inner_text("[data-testid=answer-text]").split("[")[0].strip() in {"yes", "no", "maybe"}
    cites = page.locator("[data-testid=citations] li")
    assert cites.count() >= 1
    if os.environ.get("MEDKG_SCREENSHOT"):
        page.screenshot(path=os.environ["MEDKG_SCREENSHOT"], full_page=True)
    quote = norm(cites.first.locator(".quote").inner_text()).strip("“”")

    # a citation opens its document with the cited span highlighted and in view, entities coloured
    page.click("[data-testid=citations] li a.cite >> nth=0")
    page.wait_for_selector("[data-testid=cited]")
    assert "#/doc/" in page.url
    assert norm(page.inner_text("[data-testid=cited]")) == quote
    assert in_viewport(page, "[data-testid=cited]")
    groups = page.eval_on_selector_all("[data-testid=doc-text] a.ent", "els => els.map(e => e.dataset.group)")
    assert groups and "DISO" in groups
    colour = page.eval_on_selector("[data-testid=doc-text] a.ent[data-group=DISO]",
                                   "e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")

    # negated findings are marked (a report with one)
    page.goto(server + "/#/doc/report%3Anote-01-abdominal-pain")
    negated = page.wait_for_selector("[data-testid=doc-text] a.ent[data-negated=true]")
    assert negated.inner_text() == "diarrhea"
    assert "line-through" in negated.evaluate("e => getComputedStyle(e).textDecorationLine")

    # an entity opens its concept; the neighbourhood is an interactive graph
    page.click("[data-testid=doc-text] a.ent[data-concept='MESH:D001064'] >> nth=0")
    page.wait_for_selector("#graph canvas")
    assert page.inner_text("[data-testid=concept-name]") == "Appendicitis"
    page.wait_for_function("window.medkg.cy && window.medkg.cy.nodes().length > 3")
    target = page.evaluate("""() => { const n = window.medkg.cy.nodes("[role = 'broader']")[0];
                                      const p = n.renderedPosition(); return {id: n.id(), x: p.x, y: p.y}; }""")
    box = page.locator("#graph").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function("(id) => decodeURIComponent(location.hash) === '#/concept/' + id", arg=target["id"])
    page.wait_for_function("(id) => window.medkg.cy.nodes('[role = \"focus\"]')[0].id() === id", arg=target["id"])

    # add a report, see it listed and read, then delete it
    note = tmp_path / "note-88-wheezing.txt"
    note.write_text(NOTE, encoding="utf-8")
    page.goto(server + "/#/documents")
    page.wait_for_selector("[data-testid=documents]")
    assert page.inner_text("[data-testid=doc-count]") == "38 document(s)"
    page.set_input_files("[data-testid=upload-file]", str(note))
    page.click("[data-testid=upload]")
    page.wait_for_selector("[data-testid=job-state]:has-text('done: 1 added')", timeout=240_000)
    row = page.wait_for_selector("tr[data-doc='report:note-88-wheezing']")
    assert page.inner_text("[data-testid=doc-count]") == "39 document(s)"
    page.once("dialog", lambda d: d.accept())
    row.query_selector("[data-testid=delete]").click()
    page.wait_for_selector("[data-testid=job-state]:has-text('done: 1 removed')", timeout=120_000)
    page.wait_for_selector("tr[data-doc='report:note-88-wheezing']", state="detached")
    assert page.inner_text("[data-testid=doc-count]") == "38 document(s)"

    # nothing was loaded from anywhere but the server, and the page raised no error
    assert page.medkg_requests and all(u.startswith(server) for u in page.medkg_requests), page.medkg_requests
    assert not page.medkg_errors
