/* medkg serve: the web page. Plain JavaScript, no build step; every request goes to this server's /api.
 *
 * Views, by location hash:
 *   #/                         ask a question; the answer with numbered citations
 *   #/doc/<id>?start=&end=     a document with the cited span highlighted and scrolled into view
 *   #/concept/<id>             a concept, its neighbourhood as a graph, its documents and relations
 *   #/concepts?q=              concept search
 *   #/documents                documents: upload, delete, follow the jobs   (manage.js)
 *   #/query                    Cypher and SPARQL                            (manage.js)
 * Text from the graph is always inserted as text (never as HTML).
 */
"use strict";

const GROUPS = {DISO: "disorders", CHEM: "chemicals & drugs", ANAT: "anatomy", PROC: "procedures",
  PHYS: "physiology", LIVB: "living beings", ORGA: "organizations", CONC: "concepts", OBJC: "objects",
  GEOG: "geography", GENE: "genes"};
const GROUP_COLOURS = {DISO: "#e57373", CHEM: "#66bb6a", ANAT: "#bc8f5f", PROC: "#5c8fd6", PHYS: "#9575cd",
  LIVB: "#4db6ac", ORGA: "#9e9e9e", CONC: "#c9b458", OBJC: "#9ccc65", GEOG: "#78909c", GENE: "#d17fb5"};
const state = {lastAsk: null, running: false};  // the last question and answer survive a visit to a document
window.medkg = state;  // for the browser tests (the concept graph lives in state.cy)

// -- small helpers ------------------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const view = () => document.getElementById("view");
function show(...children) { view().replaceChildren(...children); }
function groupClass(g) { return "g-" + (GROUPS[g] ? g : "OTHER"); }
function docHref(id, start, end, cite) {
  const q = new URLSearchParams();
  if (start !== undefined && end !== undefined) { q.set("start", start); q.set("end", end); }
  if (cite) q.set("cite", cite);
  const qs = q.toString();
  return "#/doc/" + encodeURIComponent(id) + (qs ? "?" + qs : "");
}
const conceptHref = (id) => "#/concept/" + encodeURIComponent(id);
const tierName = (t) => ({1: "tier 1 · report", 2: "tier 2 · literature", 3: "tier 3 · vocabulary"}[t] || `tier ${t}`);
function errorBox(err) { return h("div", {class: "error", "data-testid": "error"}, String(err.message || err)); }

async function api(path, options = {}) {
  const resp = await fetch(path, {headers: {"Accept": "application/json", ...(options.headers || {})}, ...options});
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    const retry = resp.headers.get("Retry-After");
    const msg = (body && body.error) || `${resp.status} ${resp.statusText}`;
    throw new Error(retry ? `${msg} (try again in ${retry} s)` : msg);
  }
  return body;
}
const postJSON = (path, data) => api(path, {method: "POST", body: JSON.stringify(data),
  headers: {"Content-Type": "application/json"}});

/* Server-sent events from a POST (EventSource only does GET): yields {event, data} as they arrive. */
async function* postEvents(path, data) {
  const resp = await fetch(path, {method: "POST", body: JSON.stringify(data),
    headers: {"Content-Type": "application/json", "Accept": "text/event-stream"}});
  if (!resp.ok) {
    let msg = `${resp.status} ${resp.statusText}`;
    try { msg = (await resp.json()).error || msg; } catch (e) { /* not JSON */ }
    const retry = resp.headers.get("Retry-After");
    throw new Error(retry ? `${msg} (try again in ${retry} s)` : msg);
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buf += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = "message", payload = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) payload += line.slice(5).trim();
      }
      if (payload) yield {event, data: JSON.parse(payload)};
    }
  }
}

// -- ask ------------------------------------------------------------------------------------------------------
function askView() {
  const last = state.lastAsk || {};
  const q = h("textarea", {id: "question", "data-testid": "question", placeholder: "Ask a diagnostic question…"},
    last.question || "");
  const options = h("input", {type: "text", id: "options", placeholder: "optional answers: yes, no, maybe",
    value: last.options || "", size: 34});
  const mode = h("select", {id: "mode"}, ...["uretrieve", "hybrid", "vector", "bm25", "llm-only"].map(
    (m) => h("option", {value: m, selected: (last.mode || "uretrieve") === m}, m)));
  const knob = (name, label, value, step) => h("label", {class: "small"}, label + " ",
    h("input", {type: "number", name, value: value ?? "", step: step || 1, placeholder: "default"}));
  const knobs = h("div", {class: "row"}, knob("beam", "beam", last.beam), knob("top_chunks", "top chunks", last.top_chunks),
    knob("hops", "hops", last.hops), knob("budget_tokens", "budget (tokens)", last.budget_tokens),
    knob("min_relevance", "min relevance", last.min_relevance, 0.05),
    h("label", {class: "small"}, h("input", {type: "checkbox", name: "refine", checked: !!last.refine}), " refine"));
  const button = h("button", {type: "submit", "data-testid": "ask"}, "Ask");
  const out = h("div", {id: "answer-area"});
  const form = h("form", {class: "card", onsubmit: (e) => { e.preventDefault(); runAsk(form, out); }},
    q, h("div", {class: "row", style: "margin-top:.5rem"}, button, mode, options),
    h("details", {style: "margin-top:.5rem"}, h("summary", {}, "U-Retrieve settings"), knobs));
  show(h("h1", {}, "Ask the graph"), form, out);
  if (state.running) out.append(h("p", {class: "muted"}, h("span", {class: "spinner"}), "A question is being answered…"));
  else if (last.answer) out.replaceChildren(renderAnswer(last.answer, last.retrieval));
  q.focus();
}

function readAsk(form) {
  const el = form.elements;
  const body = {question: el.question.value.trim(), mode: el.mode.value, retrieval: {}, answer: {}};
  const opts = el.options.value.split(",").map((s) => s.trim()).filter(Boolean);
  if (opts.length) body.options = opts;
  for (const name of ["beam", "top_chunks", "hops", "budget_tokens", "min_relevance"]) {
    if (el[name].value !== "") body.retrieval[name] = Number(el[name].value);
  }
  if (el.refine.checked) body.answer.refine = true;
  return body;
}

async function runAsk(form, out) {
  const body = readAsk(form);
  if (!body.question) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  state.running = true;
  const status = h("p", {class: "muted", "data-testid": "ask-status"}, h("span", {class: "spinner"}), "Sending…");
  const evidence = h("div", {});
  out.replaceChildren(status, evidence);
  const record = {question: body.question, options: form.elements.options.value, mode: body.mode,
    refine: !!body.answer.refine, ...body.retrieval};
  try {
    for await (const {event, data} of postEvents("/api/ask/stream", body)) {
      if (event === "queued") {
        status.lastChild.textContent = data.ahead ? `Waiting for the LLM (${data.ahead} question(s) ahead)…`
          : "Reading the question and retrieving evidence…";
      } else if (event === "retrieval") {
        record.retrieval = data;
        status.lastChild.textContent = `Found ${data.passages.length} passage(s); the LLM is writing the answer…`;
        evidence.replaceChildren(renderEvidence(data, true));
      } else if (event === "answer") {
        record.answer = data;
        state.lastAsk = record;
        out.replaceChildren(renderAnswer(data, record.retrieval));
        refreshStatus();
      } else if (event === "error") {
        throw new Error(data.error);
      }
    }
  } catch (err) {
    out.replaceChildren(errorBox(err));
  } finally {
    state.running = false;
    button.disabled = false;
  }
}

function renderAnswer(a, retrieval) {
  const refs = a.citations.map((c) => h("a", {class: "cite-ref", href: docHref(c.doc_id, c.start, c.end, c.id)},
    `[${c.id}]`));
  const card = h("section", {class: "card", "data-testid": "answer"},
    h("div", {class: "muted small"}, `${a.mode} · ${a.model} · ${(a.timings.total_s ?? 0).toFixed(1)} s`),
    h("p", {class: "answer-text", "data-testid": "answer-text"}, a.answer, ...refs),
    a.abstained ? h("p", {class: "muted"}, "No passage was relevant enough, or no citation survived the check.")
      : h("p", {class: "muted small"}, `confidence ${a.confidence.toFixed(2)}`,
        Object.keys(a.probabilities || {}).length ? " · " + Object.entries(a.probabilities)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ") : ""),
    a.concepts.length ? h("div", {}, h("span", {class: "small muted"}, "Question concepts: "),
      ...a.concepts.map((c) => h("a", {class: "chip", href: conceptHref(c.id)}, c.name))) : null);
  const cites = h("ol", {class: "citations", "data-testid": "citations"}, ...a.citations.map((c) =>
    h("li", {}, h("a", {class: "cite", href: docHref(c.doc_id, c.start, c.end, c.id), "data-testid": `cite-${c.id}`},
      `[${c.id}] ${c.pmid ? "PMID " + c.pmid : c.doc_id}`),
    h("span", {class: "muted small"}, ` · characters ${c.start}–${c.end} · ${tierName(c.tier)}`),
    h("div", {class: "quote"}, `“${c.quote}”`))));
  return h("div", {}, card, a.citations.length ? h("h2", {}, "Citations") : null, cites,
    retrieval ? renderEvidence(retrieval, false) : null);
}

function renderEvidence(r, open) {
  return h("details", {class: "card", open: open},
    h("summary", {}, `Evidence shown to the LLM: ${r.passages.length} passage(s) (${r.mode})`),
    ...r.passages.map((p) => h("div", {class: "passage"},
      h("a", {href: docHref(p.doc_id, p.start, p.end)}, `${p.cid}. ${p.pmid ? "PMID " + p.pmid : p.doc_id}`),
      h("span", {class: "muted small"}, ` · ${p.section || "text"} · score ${Number(p.score).toFixed(2)}`),
      h("div", {}, p.text))));
}

// -- a document -------------------------------------------------------------------------------------------------
async function docView(id, params) {
  show(h("p", {class: "muted"}, h("span", {class: "spinner"}), "Loading the document…"));
  const d = await api("/api/documents/" + encodeURIComponent(id));
  const start = params.has("start") ? Number(params.get("start")) : null;
  const end = params.has("end") ? Number(params.get("end")) : null;
  const hl = start !== null && end !== null && end > start ? {start, end} : null;
  const text = h("div", {class: "doc-text", "data-testid": "doc-text"}, renderSpans(d.text, d.entities, hl));
  const head = h("div", {class: "card"},
    h("h1", {}, d.title || d.id),
    h("div", {class: "row small"}, h("span", {class: "badge"}, tierName(d.tier)), h("span", {}, d.id),
      d.pmid ? h("span", {}, "PMID " + d.pmid) : null, d.source ? h("span", {class: "muted"}, d.source) : null,
      state.lastAsk ? h("a", {href: "#/"}, "← back to the answer") : null),
    hl ? h("p", {class: "small"}, h("mark", {class: "cite"}, params.get("cite") ? `citation [${params.get("cite")}]` : "cited span"),
      ` characters ${hl.start}–${hl.end}`) : null,
    legend());
  show(head, h("div", {class: "grid2"}, h("div", {class: "card"}, text),
    h("div", {}, entityTable(d.entities), relationList(d.relations))));
  const mark = document.getElementById("cited");
  if (mark) mark.scrollIntoView({block: "center"});
}

function legend() {
  return h("div", {class: "legend small", style: "margin-top:.4rem"},
    ...Object.entries(GROUPS).slice(0, 7).map(([g, name]) => h("span", {class: `ent ${groupClass(g)}`}, name)),
    h("span", {class: "ent g-OTHER neg"}, "negated"), h("span", {class: "ent g-OTHER unc"}, "uncertain"));
}

/* The text with entity spans coloured by group and the cited span as one <mark id="cited">; an entity that
 * crosses the cited span's edge is drawn in two pieces. Overlapping entities: the shortest one shows. */
function renderSpans(text, entities, hl) {
  const parts = hl ? [[0, hl.start, false], [hl.start, hl.end, true], [hl.end, text.length, false]]
    : [[0, text.length, false]];
  const frag = document.createDocumentFragment();
  for (const [a, b, cited] of parts) {
    if (b <= a) continue;
    const inner = entitySegments(text, entities, a, b);
    frag.append(cited ? h("mark", {class: "cite", id: "cited", "data-testid": "cited"}, inner) : inner);
  }
  return frag;
}

function entitySegments(text, entities, a, b) {
  const inside = entities.filter((e) => e.start < b && e.end > a);
  const cuts = new Set([a, b]);
  for (const e of inside) { cuts.add(Math.max(a, e.start)); cuts.add(Math.min(b, e.end)); }
  const points = [...cuts].sort((x, y) => x - y);
  const frag = document.createDocumentFragment();
  for (let i = 0; i + 1 < points.length; i++) {
    const [s, t] = [points[i], points[i + 1]];
    const covering = inside.filter((e) => e.start <= s && e.end >= t).sort((x, y) => (x.end - x.start) - (y.end - y.start));
    const piece = text.slice(s, t);
    if (!covering.length) { frag.append(piece); continue; }
    const e = covering[0];
    const flags = ["negated", "uncertain", "historical", "family"].filter((f) => e[f]);
    const cls = ["ent", groupClass(e.semantic_group), e.negated && "neg", e.uncertain && "unc",
      e.historical && "hist", e.family && "fam"].filter(Boolean).join(" ");
    frag.append(h("a", {class: cls, href: conceptHref(e.concept_id), "data-concept": e.concept_id,
      "data-group": e.semantic_group, "data-negated": e.negated ? "true" : null,
      title: `${e.concept_name} (${e.concept_id}) · ${GROUPS[e.semantic_group] || e.semantic_group}` +
        (flags.length ? " · " + flags.join(", ") : "") + ` · linked by ${e.method} (${e.score.toFixed(2)})`}, piece));
  }
  return frag;
}

function flagChips(x) {
  return ["negated", "uncertain", "historical", "family", "speculative"].filter((f) => x[f])
    .map((f) => h("span", {class: "flag"}, f));
}

function entityTable(entities) {
  return h("div", {class: "card"}, h("h2", {}, `Entities (${entities.length})`),
    h("table", {"data-testid": "entities"}, h("tr", {}, h("th", {}, "text"), h("th", {}, "concept"), h("th", {}, "group")),
      ...entities.map((e) => h("tr", {},
        h("td", {}, h("span", {class: `ent ${groupClass(e.semantic_group)} ${e.negated ? "neg" : ""}`}, e.text), ...flagChips(e)),
        h("td", {}, h("a", {href: conceptHref(e.concept_id)}, e.concept_name), h("div", {class: "muted small"}, e.concept_id)),
        h("td", {class: "small"}, e.semantic_group)))));
}

function relationList(relations) {
  const typed = relations.filter((r) => r.type !== "co_occurs").length;
  return h("div", {class: "card"}, h("h2", {}, `Relations (${typed} typed, ${relations.length - typed} co-occurrences)`),
    h("table", {"data-testid": "relations"}, ...relations.slice(0, 200).map((r) => h("tr", {},
      h("td", {}, h("a", {href: conceptHref(r.source_concept)}, r.source_name)),
      h("td", {}, h("span", {class: "rel-type " + (r.type === "co_occurs" ? "" : "rel-typed")}, r.type), ...flagChips(r)),
      h("td", {}, h("a", {href: conceptHref(r.target_concept)}, r.target_name))))));
}

// -- concepts ---------------------------------------------------------------------------------------------------
async function conceptSearchView(params) {
  const q = params.get("q") || "";
  const input = h("input", {type: "text", name: "q", value: q, placeholder: "a name, synonym or id (MESH:D001249)",
    size: 40, "data-testid": "concept-search"});
  const results = h("div", {});
  const form = h("form", {class: "card row", onsubmit: (e) => { e.preventDefault();
    location.hash = "#/concepts?q=" + encodeURIComponent(input.value.trim()); }}, input, h("button", {}, "Search"));
  show(h("h1", {}, "Concepts"), form, results);
  input.focus();
  if (!q) return;
  const hits = await api("/api/concepts?limit=50&q=" + encodeURIComponent(q));
  results.replaceChildren(hits.length ? h("table", {class: "card", "data-testid": "concept-hits"},
    h("tr", {}, h("th", {}, "concept"), h("th", {}, "id"), h("th", {}, "group"), h("th", {}, "mentions")),
    ...hits.map((c) => h("tr", {}, h("td", {}, h("a", {href: conceptHref(c.id)}, c.name),
      c.matched !== c.name ? h("span", {class: "muted small"}, ` (${c.matched})`) : null),
    h("td", {class: "small"}, c.id), h("td", {}, h("span", {class: "badge " + groupClass(c.semantic_group)}, c.semantic_group)),
    h("td", {}, String(c.mentions))))) : h("p", {class: "muted"}, "No concept matches."));
}

async function conceptView(id) {
  show(h("p", {class: "muted"}, h("span", {class: "spinner"}), "Loading the concept…"));
  const c = await api("/api/concepts/" + encodeURIComponent(id));
  const chips = (links) => links.length ? links.map((l) => h("a", {class: "chip", href: conceptHref(l.id)}, l.name))
    : [h("span", {class: "muted small"}, "none")];
  const tiers = Object.entries(c.mentions_by_tier).map(([t, n]) => `${n} in ${tierName(Number(t))}`).join(", ");
  show(h("div", {class: "card"}, h("h1", {"data-testid": "concept-name"}, c.name),
    h("div", {class: "row small"}, h("span", {class: "badge " + groupClass(c.semantic_group)}, GROUPS[c.semantic_group] || c.semantic_group),
      h("span", {}, c.id), h("span", {class: "muted"}, c.vocab_version)),
    c.definition ? h("p", {}, c.definition) : null,
    c.synonyms.length ? h("p", {class: "small muted"}, "Synonyms: " + c.synonyms.slice(0, 20).join("; ")) : null,
    h("p", {class: "small"}, "Mentions: " + (tiers || "none"))),
  h("div", {class: "grid2"},
    h("div", {}, h("div", {id: "graph", "data-testid": "concept-graph"}),
      h("p", {class: "small muted"}, "Click a concept to open it. Grey arrows: broader; coloured: relations read in the documents.")),
    h("div", {class: "card"}, h("h2", {}, "Broader"), ...chips(c.broader), h("h2", {}, "Narrower"), ...chips(c.narrower),
      h("h2", {}, "Mapped"), ...chips(c.mapped))),
  conceptDocuments(c), conceptRelations(c));
  drawGraph(c);
}

function conceptDocuments(c) {
  const blocks = Object.entries(c.documents_by_tier).map(([tier, docs]) => h("div", {},
    h("h2", {}, `${tierName(Number(tier))}: ${docs.length} document(s)`),
    h("table", {}, ...docs.slice(0, 100).map((d) => h("tr", {},
      h("td", {}, h("a", {href: docHref(d.doc_id, d.first_start, d.first_end)}, d.title || d.doc_id),
        h("div", {class: "muted small"}, d.doc_id)),
      h("td", {class: "small"}, `${d.mentions} mention(s)`, d.negated ? h("span", {class: "flag"}, `${d.negated} negated`) : null))))));
  return h("div", {class: "card", "data-testid": "concept-documents"}, ...(blocks.length ? blocks : [h("p", {class: "muted"}, "No document mentions it.")]));
}

function conceptRelations(c) {
  return h("div", {class: "card"}, h("h2", {}, `Relations (${c.relations.length})`),
    h("table", {}, h("tr", {}, h("th", {}, "type"), h("th", {}, "with"), h("th", {}, "count"), h("th", {}, "example")),
      ...c.relations.map((r) => h("tr", {},
        h("td", {}, h("span", {class: "rel-type " + (r.type === "co_occurs" ? "" : "rel-typed")},
          r.direction === "in" ? `← ${r.type}` : r.direction === "out" ? `${r.type} →` : r.type)),
        h("td", {}, h("a", {href: conceptHref(r.other)}, r.other_name)),
        h("td", {class: "small"}, String(r.count), r.negated ? h("span", {class: "flag"}, `${r.negated} negated`) : null),
        h("td", {class: "small"}, h("a", {href: docHref(r.example_doc, r.example_start, r.example_end)}, r.example_doc))))));
}

function drawGraph(c) {
  const box = document.getElementById("graph");
  if (typeof cytoscape !== "function") { box.append(errorBox("the graph library did not load")); return; }
  const elements = [
    ...c.graph.nodes.map((n) => ({data: {...n, colour: GROUP_COLOURS[n.group] || "#b0b0b0"}})),
    ...c.graph.edges.map((e, i) => ({data: {id: "e" + i, ...e}})),
  ];
  state.cy = cytoscape({container: box, elements,
    layout: {name: "concentric", concentric: (n) => (n.data("role") === "focus" ? 3 : n.data("role") === "broader" ? 2 : 1),
      levelWidth: () => 1, minNodeSpacing: 30, animate: false},
    style: [
      {selector: "node", style: {"background-color": "data(colour)", label: "data(label)", "font-size": 11,
        "text-wrap": "wrap", "text-max-width": 110, width: 22, height: 22, "border-width": 1, "border-color": "#666"}},
      {selector: "node[role = 'focus']", style: {width: 38, height: 38, "font-weight": "bold", "border-width": 3}},
      {selector: "edge", style: {width: 1.5, "curve-style": "bezier", "line-color": "#9aa7b4", "target-arrow-color": "#9aa7b4",
        label: "data(label)", "font-size": 9, color: "#555", "text-rotation": "autorotate"}},
      {selector: "edge[?directed]", style: {"target-arrow-shape": "triangle"}},
      {selector: "edge[type = 'BROADER']", style: {label: ""}},
      {selector: "edge[type = 'MAPS_TO']", style: {"line-style": "dashed"}},
      {selector: "edge[type != 'BROADER'][type != 'MAPS_TO'][type != 'co_occurs']", style: {"line-color": "#0b6b2e",
        "target-arrow-color": "#0b6b2e", width: 2.5}},
      {selector: "edge[?negated]", style: {"line-style": "dashed", "line-color": "#c0392b"}},
    ]});
  state.cy.on("tap", "node", (evt) => { if (evt.target.id() !== c.id) location.hash = conceptHref(evt.target.id()); });
}

// -- routing and status ------------------------------------------------------------------------------------------
async function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  document.querySelectorAll("header nav a[data-nav]").forEach((a) => a.classList.toggle("active",
    a.dataset.nav === ({doc: "documents", concept: "concepts"}[parts[0]] || parts[0] || "ask")));
  try {
    if (!parts.length || parts[0] === "ask") askView();
    else if (parts[0] === "doc") await docView(decodeURIComponent(parts.slice(1).join("/")), params);
    else if (parts[0] === "concept") await conceptView(decodeURIComponent(parts.slice(1).join("/")));
    else if (parts[0] === "concepts") await conceptSearchView(params);
    else if (parts[0] === "documents") await documentsView();
    else if (parts[0] === "query") queryView();
    else show(h("p", {}, "No such page. ", h("a", {href: "#/"}, "Ask a question")));
  } catch (err) {
    show(errorBox(err));
  }
  if (!params.has("start")) window.scrollTo(0, 0);
}

async function refreshStatus() {
  const el = document.getElementById("status");
  try {
    const s = await api("/api/health");
    const llm = s.llm.running ? `LLM busy (${s.llm.waiting} waiting)` : s.llm.model_loaded ? "LLM ready" : "LLM loads on first question";
    el.textContent = `${s.documents} documents · ${s.store} store${s.write ? " (writable)" : ""} · ${llm}`;
  } catch (err) { el.textContent = String(err.message || err); }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => { route(); refreshStatus(); setInterval(refreshStatus, 10000); });
