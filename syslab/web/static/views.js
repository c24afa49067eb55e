// syslab browse: the run views (any metric over attempts, metric against metric with its Pareto
// front, failures, MAP-Elites, cost), the logic tab and the several-run comparison.
"use strict";
(function () {
  const S = window.syslab, C = window.SyslabCharts, $ = S.$, el = S.el;

  // Fill a metric menu with the run's metrics, keeping the current choice when it still exists.
  function metricMenu(sel, keys, fallback) {
    const cur = sel.value;
    if ([...sel.options].map((o) => o.value).join("|") !== keys.join("|")) {
      sel.textContent = "";
      for (const k of keys) sel.append(el("option", { value: k, text: k }));
    }
    sel.value = keys.includes(cur) ? cur : keys.includes(fallback) ? fallback : keys[0];
    return sel.value;
  }

  function drawMetricCharts() {
    const s = S.summary; if (!s || !S.G) return;
    const keys = S.metricKeys(), key = metricMenu($("chart-metric"), keys, S.defaultMetric());
    const info = S.metricInfo(key), values = S.metricValues(key);
    const points = [];
    for (const [i, , id] of s.score.points) {
      const v = values[S.idx.get(id)];
      if (v !== null && v !== undefined) points.push([i, v, id]);
    }
    C.metricPlot($("score-plot"), { points, invalid: s.score.invalid, attempts: s.score.attempts ?? s.score.evaluations }, info, S.scale, S.pick);
    // Metric against metric: the configured Pareto metrics first, else the first two.
    const pm = (s.manifest.search || {}).pareto_metrics || [];
    const xk = metricMenu($("scatter-x"), keys, keys.includes(pm[0]) ? pm[0] : keys[0]);
    const yk = metricMenu($("scatter-y"), keys, keys.includes(pm[1]) ? pm[1] : keys[Math.min(1, keys.length - 1)]);
    const xv = S.metricValues(xk), yv = S.metricValues(yk), pts = [];
    S.G.id.forEach((id, i) => { if (S.G.valid[i] && S.G.kind[i] !== 2 && xv[i] !== null && yv[i] !== null) pts.push([id, xv[i], yv[i]]); });
    const xi = S.metricInfo(xk), yi = S.metricInfo(yk);
    const front = C.scatterPlot($("scatter-plot"), pts, xi, yi, S.scale, S.pick) || [];
    $("scatter-notes").textContent = pts.length ? `${front.length} on the Pareto front (red) of ${pts.length} valid candidates, with ${xk} ${xi.way} and ${yk} ${yi.way}; click a point to open it` : "";
  }

  async function loadCharts(force) {
    const s = await S.api(S.runUrl("summary"));
    if (!force && s.rev === S.chartsRev) return;
    S.chartsRev = s.rev; S.summary = s;
    drawMetricCharts();
    C.failurePlot($("failure-plot"), s.failures);
    const ct = $("cost-table"); ct.textContent = "";
    ct.append(el("tr", {}, ...["model", "role", "calls", "errors", "prompt tok", "completion tok", "cost $"].map((t) => el("th", { text: t }))));
    for (const r of s.cost.rows) ct.append(el("tr", {}, ...[r.model, r.role, r.calls, r.errors, r.prompt_tokens, r.completion_tokens, r.cost_usd.toFixed(4)].map((t) => el("td", { text: String(t) }))));
    if (!s.cost.rows.length) ct.append(el("tr", {}, el("td", { text: "no LLM calls (offline proposer)" })));
    const rt = $("run-table"); rt.textContent = "";
    const m = s.manifest, pi = S.metricInfo(S.defaultMetric());
    const bestValue = s.best ? (pi.key === "score" ? s.best.score : s.best.metrics[pi.key]) : null;
    const rows = [["run", m.run_id], ["task", m.task_name], ["scores", m.verification_note], ["status", m.status], ["proposer", m.proposer], ["seed", m.seed],
      ["attempts", s.attempts], ["analyst notes", s.analyses], ["best", s.best ? `#${s.best.id} ${pi.name} ${S.fmt(bestValue, pi.unit)} (${pi.way})` : "—"],
      ["failures", Object.entries(s.failure_counts).map(([k, v]) => `${k} ${v}`).join(", ") || "none"],
      ["held-out", (s.heldout || []).map((r) => `#${r.node_id} search ${S.fmt(r.search_value)} / held-out ${r.heldout_value === null ? "failed" : S.fmt(r.heldout_value)}${r.overfit ? " OVERFIT" : ""}`).join("; ") || "no held-out split"]];
    for (const [k, v] of rows) rt.append(el("tr", {}, el("th", { text: k }), el("td", { text: String(v) })));
    if (!$("map-plot").dataset.cells) $("map-notes").textContent = "computing the grid (reads every candidate's code once)…";
    S.api(S.runUrl("map_elites")).then((g) => { C.mapPlot($("map-plot"), g, S.pick, S.scale); $("map-notes").textContent = g.notes || "colour: the cell elite's score (yellow is better); click a cell to open its elite"; });
  }

  // Open a node from anywhere (links, charts, search): the graph tab, the panel, and the node
  // brought into view without moving a graph that already shows it.
  S.pick = (id) => { $("sbs").hidden = true; showTab("graph"); S.select(id); if (S.idx.has(id)) { S.reveal(S.idx.get(id)); S.draw(); } };

  async function loadLogic() {
    const L = await S.api(S.runUrl("logic")), box = $("logic");
    box.textContent = "";
    if (!L) { box.append(el("p", { text: "This run has no logic.yaml." })); return; }
    box.append(el("section", {}, el("h3", { text: "Research question" }), el("p", { text: L.question })));
    const list = (title, items, render) => {
      const ul = el("ul", {}); items.forEach((x) => ul.append(render(x)));
      box.append(el("section", { id: `logic-${title.toLowerCase().replace(/ /g, "-")}` }, el("h3", { text: `${title} (${items.length})` }), items.length ? ul : el("p", { text: "none" })));
    };
    const links = (li, ids) => { ids.slice(0, 40).forEach((i) => li.append(S.nodeLink(i))); if (ids.length > 40) li.append(`… (${ids.length})`); return li; };
    list("Claims", L.claims, (c) => {
      const li = el("li", {}, el("b", { text: c.id + " " }), el("span", { class: `status-${c.status}`, text: `[${c.status}] ` }), c.statement, " ");
      if (c.metric) li.append(el("span", { class: "chip", text: `${c.metric} = ${C.nice(c.value)} (baseline ${c.baseline === null ? "—" : C.nice(c.baseline)})` }));
      if (c.n) li.append(el("span", { class: "chip", text: `n=${c.n}, mean ${C.nice(c.mean)}` + (c.interval ? `, interval [${C.nice(c.interval[0])}, ${C.nice(c.interval[1])}]` : "") }));
      if (c.heldout_record !== null && c.heldout_record !== undefined) li.append(el("span", { class: c.status === "refuted" ? "chip bad" : "chip good", text: `held-out ${c.heldout_value === null ? "failed" : C.nice(c.heldout_value)}, gap ${c.heldout_gap === null ? "—" : C.nice(c.heldout_gap)} (tolerance ${c.heldout_tolerance})` }));
      if (c.verified) li.append(el("div", { class: "cap", text: c.verified }));
      if (c.conditions) li.append(el("div", { class: "cap", text: c.conditions }));
      const ev = el("div", {}, "evidence: ");
      c.evidence.forEach((e) => ev.append(el("a", { class: "evidence-link", href: S.evidenceUrl(e.sha256), target: "_blank", text: e.name }), " "));
      li.append(ev);
      return links(li, c.node_ids);
    });
    list("Hypotheses", L.hypotheses, (h) => links(el("li", {}, el("b", { text: h.id + " " }), el("span", { class: `status-${h.status}`, text: `[${h.status}] ` }), h.statement, " ", h.source_node !== null ? S.nodeLink(h.source_node) : null), h.node_ids));
    list("Dead ends", L.dead_ends, (d) => links(el("li", {}, el("b", { text: d.id + " " }), d.idea, " "), d.node_ids));
    list("Decisions", L.decisions, (d) => el("li", {}, el("b", { text: `${d.id} (${d.kind}) ` }), d.statement, " ", d.node_id !== null ? S.nodeLink(d.node_id) : null));
  }


  async function loadCompare() {
    const c = await S.api("/api/compare"), t = $("compare-table");
    t.textContent = "";
    // One primary metric for all runs: the best column names it with its unit and direction.
    const one = new Set(c.rows.map((r) => `${r.metric}|${r.unit}|${r.direction}`)).size === 1 && c.rows.length;
    const r0 = c.rows[0] || {};
    const bestHead = one ? `best ${r0.metric}${r0.unit ? " (" + r0.unit + ")" : ""}, ${S.better(r0.direction)}` : "best (each run's primary metric)";
    const cols = [["run_id", "run"], ["task", "task"], ["verified", "verified"], ["status", "status"], ["proposer", "proposer"], ["seed", "seed"],
      ["attempts", "attempts"], ["evaluations", "evaluations"], ["valid", "valid"], ["failures", "failures"], ["best_value", bestHead], ["best_node", "best node"], ["cost_usd", "cost $"]];
    t.append(el("tr", {}, ...cols.map(([k, label]) => el("th", { "data-col": k, text: label }))));
    const cell = (r, k) => {
      if (k === "best_value") return r.best_value === null ? "—" : one ? S.fmt(r.best_value, r.unit) : `${r.metric} ${S.fmt(r.best_value, r.unit)} (${S.better(r.direction)})`;
      if (k === "cost_usd") return r.cost_usd.toFixed(4);
      return r[k] === null ? "—" : String(r[k]);
    };
    for (const r of c.rows) t.append(el("tr", {}, ...cols.map(([k]) => el("td", { "data-col": k, text: cell(r, k) }))));
    C.comparePlot($("compare-plot"), c.curves);
  }

  function showTab(tab) {
    S.tab = tab;
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
    document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `view-${tab}`));
    if (tab === "graph") S.requestDraw();
    if (tab === "charts") loadCharts(true);
    if (tab === "logic") loadLogic();
    if (tab === "compare") loadCompare();
  }

  for (const id of ["chart-metric", "scatter-x", "scatter-y"]) $(id).addEventListener("change", drawMetricCharts);
  S.showTab = showTab; S.loadCharts = loadCharts; S.loadLogic = loadLogic;
})();
