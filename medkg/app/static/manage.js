/* medkg serve: the documents page (upload, delete, jobs) and the query page. Uses the helpers of app.js. */
"use strict";

// -- documents --------------------------------------------------------------------------------------------------
const docsState = {offset: 0, tier: "", q: ""};

async function documentsView() {
  const file = h("input", {type: "file", name: "file", "data-testid": "upload-file"});
  const tier = h("select", {name: "tier"}, h("option", {value: ""}, "tier from the file type"),
    h("option", {value: "1"}, "1 · reports"), h("option", {value: "2"}, "2 · literature"));
  const jobArea = h("div", {id: "job", "data-testid": "job"});
  const upload = h("form", {class: "card", onsubmit: (e) => { e.preventDefault(); startUpload(file, tier, jobArea); }},
    h("h2", {style: "margin-top:0"}, "Add documents"),
    h("div", {class: "row"}, file, tier, h("button", {type: "submit", "data-testid": "upload"}, "Upload")),
    h("p", {class: "small muted"}, ".jsonl, PubTator, PubMed XML, PubMedQA .json, .csv or .txt reports"), jobArea);
  const list = h("div", {id: "doc-list"});
  const search = h("input", {type: "text", value: docsState.q, placeholder: "filter by id or title", size: 28});
  const tierFilter = h("select", {}, h("option", {value: ""}, "all tiers"), h("option", {value: "1", selected: docsState.tier === "1"}, "reports"),
    h("option", {value: "2", selected: docsState.tier === "2"}, "literature"));
  const filter = h("form", {class: "row", onsubmit: (e) => { e.preventDefault();
    Object.assign(docsState, {q: search.value.trim(), tier: tierFilter.value, offset: 0}); loadDocuments(list, jobArea); }},
  search, tierFilter, h("button", {class: "secondary"}, "Filter"));
  show(h("h1", {}, "Documents"), upload, h("div", {class: "card"}, filter, list));
  await loadDocuments(list, jobArea);
}

async function loadDocuments(list, jobArea) {
  const q = new URLSearchParams({offset: docsState.offset, limit: 50, q: docsState.q});
  if (docsState.tier) q.set("tier", docsState.tier);
  const page = await api("/api/documents?" + q);
  const nav = h("div", {class: "row small", style: "margin-top:.5rem"},
    h("span", {class: "muted", "data-testid": "doc-count"}, `${page.total} document(s)`),
    page.offset > 0 ? h("button", {class: "secondary", onclick: () => { docsState.offset -= 50; loadDocuments(list, jobArea); }}, "previous") : null,
    page.offset + 50 < page.total ? h("button", {class: "secondary", onclick: () => { docsState.offset += 50; loadDocuments(list, jobArea); }}, "next") : null);
  list.replaceChildren(h("table", {"data-testid": "documents"},
    h("tr", {}, h("th", {}, "document"), h("th", {}, "tier"), h("th", {}, "chunks"), h("th", {}, "")),
    ...page.documents.map((d) => h("tr", {"data-doc": d.id},
      h("td", {}, h("a", {href: docHref(d.id)}, d.title || d.id), h("div", {class: "muted small"}, d.id)),
      h("td", {class: "small nowrap"}, tierName(d.tier)), h("td", {class: "small"}, String(d.chunks)),
      h("td", {}, h("button", {class: "danger", "data-testid": "delete", onclick: () => startDelete(d.id, list, jobArea)}, "Delete"))))), nav);
}

async function startUpload(file, tier, jobArea) {
  if (!file.files.length) { jobArea.replaceChildren(errorBox("choose a file first")); return; }
  const form = new FormData();
  form.append("file", file.files[0]);
  if (tier.value) form.append("tier", tier.value);
  try {
    const job = await api("/api/documents", {method: "POST", body: form});
    await followJob(job, jobArea);
    file.value = "";
    await loadDocuments(document.getElementById("doc-list"), jobArea);
  } catch (err) { jobArea.replaceChildren(errorBox(err)); }
}

async function startDelete(id, list, jobArea) {
  if (!confirm(`Delete ${id} and everything derived only from it?`)) return;
  try {
    const job = await api("/api/documents/" + encodeURIComponent(id), {method: "DELETE"});
    await followJob(job, jobArea);
    await loadDocuments(list, jobArea);
  } catch (err) { jobArea.replaceChildren(errorBox(err)); }
}

/* Follow a job through its event stream until it has finished; the last state stays on the page. */
function followJob(job, area) {
  const bar = h("div", {});
  const text = h("span", {class: "small", "data-testid": "job-state"});
  area.replaceChildren(h("div", {class: "row"}, h("div", {class: "progress"}, bar), text));
  const paint = (j) => {
    const pct = j.state === "done" ? 100 : j.total ? Math.round(90 * j.done / j.total) : (j.state === "running" ? 50 : 5);
    bar.style.width = pct + "%";
    const what = j.kind === "add" ? `adding ${j.subject}` : `deleting ${j.subject}`;
    if (j.state === "done") {
      const r = j.result;
      text.textContent = j.kind === "add" ? `done: ${r.added} added, ${r.replaced} replaced, ${r.unchanged} unchanged; ` +
        `${r.documents} documents in the graph (${r.seconds} s)` : `done: ${r.removed} removed; ${r.documents} documents left (${r.seconds} s)`;
    } else if (j.state === "failed") {
      text.replaceChildren(errorBox(j.error));
    } else {
      text.textContent = `${what}: ${j.state}${j.stage ? ", " + j.stage : ""}${j.total ? ` (${j.done}/${j.total})` : ""}…`;
    }
  };
  paint(job);
  return new Promise((resolve) => {
    const source = new EventSource(`/api/jobs/${encodeURIComponent(job.id)}/events`);
    source.addEventListener("job", (e) => {
      const j = JSON.parse(e.data);
      paint(j);
      if (j.finished) { source.close(); resolve(j); }
    });
    source.onerror = () => { source.close(); api(`/api/jobs/${encodeURIComponent(job.id)}`).then((j) => { paint(j); resolve(j); }); };
  });
}

// -- query -------------------------------------------------------------------------------------------------------
function queryView() {
  const lang = h("select", {name: "lang"}, h("option", {value: "cypher"}, "Cypher"), h("option", {value: "sparql"}, "SPARQL"));
  const text = h("textarea", {name: "query", style: "min-height:7rem; font-family: monospace"},
    "MATCH (c:Concept)<-[:IS_A]-(e:Entity) RETURN c.name AS concept, count(e) AS mentions ORDER BY mentions DESC LIMIT 10");
  const out = h("div", {});
  const form = h("form", {class: "card", onsubmit: async (e) => { e.preventDefault();
    out.replaceChildren(h("p", {class: "muted"}, h("span", {class: "spinner"}), "Running…"));
    try {
      const r = await postJSON("/api/" + lang.value, {query: text.value});
      out.replaceChildren(h("p", {class: "small muted"}, `${r.rows.length} row(s)${r.truncated ? " (cut at the row limit)" : ""}, ${r.seconds} s`),
        h("table", {class: "card"}, h("tr", {}, ...r.columns.map((c) => h("th", {}, c))),
          ...r.rows.map((row) => h("tr", {}, ...row.map((v) => h("td", {class: "small"}, typeof v === "object" ? JSON.stringify(v) : String(v)))))));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  }}, h("div", {class: "row", style: "margin-bottom:.5rem"}, lang, h("span", {class: "small muted"}, "read-only, with a row and a time limit")),
  text, h("div", {style: "margin-top:.5rem"}, h("button", {}, "Run")));
  show(h("h1", {}, "Query the graph"), form, out);
}
