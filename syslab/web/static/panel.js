// syslab browse: the node panel (metrics in their own units and direction, held-out, failure,
// logs, diff and code, the LLM exchange, analyst notes, logic). Registers S.select.
"use strict";
(function () {
  const S = window.syslab, $ = S.$, el = S.el;

  const unitOf = (name) => (((S.G && S.G.metric_specs) || {})[name] || {}).unit || "";

  // Metric, value (4 significant digits and its unit), which way is better: the task's metrics
  // first (primary on top); the raw direction-normalised score only when the task is unknown.
  function metricsTable(n) {
    const mt = el("table", { id: "panel-metrics" });
    mt.append(el("tr", {}, el("th", { text: "metric" }), el("th", { text: "value" }), el("th", { text: "which way" })));
    const specs = S.G.metric_specs || {}, primary = S.G.primary_metric;
    const names = Object.keys(n.metrics).sort((a, b) => (b === primary) - (a === primary) || (b in specs) - (a in specs));
    if (!primary) mt.append(el("tr", {}, el("th", { text: "score" }), el("td", { text: n.score === null ? "—" : S.fmt(n.score) }), el("td", { text: "higher is better" })));
    for (const k of names) {
      const sp = specs[k];
      mt.append(el("tr", { "data-metric": k }, el("th", { text: k === primary ? `${k} (primary)` : k }),
        el("td", { text: S.fmt(n.metrics[k], sp ? sp.unit : "") }), el("td", { text: sp ? S.better(sp.direction) : "" })));
    }
    const units = { wall_s: "s", cpu_s: "s", peak_rss_mb: "MB" };
    for (const k of ["wall_s", "cpu_s", "peak_rss_mb"]) if (n[k] !== null) mt.append(el("tr", {}, el("th", { text: k.replace(/_(s|mb)$/, "") }), el("td", { text: S.fmt(n[k], units[k]) }), el("td", { text: "" })));
    return mt;
  }

  // Code of this node beside another's: type its id (or shift+click it in the graph).
  function sideBySideForm(id) {
    const input = el("input", { id: "sbs-other", type: "text", size: "6", placeholder: "node id" });
    const go = () => { const other = parseInt(input.value.replace("#", ""), 10); if (Number.isInteger(other)) S.sideBySide(id, other); };
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    return el("p", { class: "cap" }, "side by side with ", input, " ", el("button", { id: "sbs-go", text: "show", onclick: go }), " (or shift+click a node)");
  }

  function diffPre(text) {
    const pre = el("pre", { class: "diff" });
    for (const line of text.split("\n")) {
      const cls = line.startsWith("+++") || line.startsWith("---") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : null;
      pre.append(cls ? el("span", { class: cls, text: line }) : document.createTextNode(line + "\n"));
    }
    return pre;
  }

  async function select(id) {
    S.selected = id; S.draw();
    const panel = $("panel");
    let d;
    try { d = await S.api(S.runUrl(`nodes/${id}`)); } catch (e) { panel.textContent = String(e); return; }
    if (S.selected !== id) return;
    S.selectedDetail = d; S.draw();
    const n = d.node, failed = !!n.failure_kind || n.status === "failed", analysis = n.kind === "analysis";
    panel.textContent = "";
    panel.append(el("h2", { id: "panel-title", text: `Node ${n.id} · ${n.kind} · ${n.status}` }));
    const chips = el("div", { class: "chips" },
      el("span", { class: "chip", text: n.operator || "(no operator)" }),
      el("span", { class: "chip", text: `island ${n.island}` }),
      el("span", { class: "chip", text: `generation ${n.generation}` }),
      n.stage ? el("span", { class: "chip", text: `stage reached: ${n.stage}` }) : null,
      n.model ? el("span", { class: "chip", text: `model ${n.model}` }) : null,
      // An analyst note is never evaluated: valid/invalid and score provenance do not apply to it.
      analysis ? null : el("span", { class: n.valid ? "chip good" : "chip bad", text: n.valid ? "valid" : "invalid" }),
      analysis ? null : el("span", { id: "panel-verified", class: d.verified ? "chip good" : "chip bad", title: d.verification_note, text: d.verified ? "verified score" : "unverified score" }),
      S.G.onBest.has(n.id) ? el("span", { class: "chip good", text: "on the best path" }) : null);
    panel.append(chips);
    // A shared-mode (or imported) run: the candidate could have written its own score. Say so in words.
    if (!d.verified && !analysis) panel.append(el("div", { class: "unverified", id: "panel-unverified", text: d.verification_note }));
    const lin = el("p", {}, "parent ", n.parent_id === null ? "—" : S.nodeLink(n.parent_id));
    if (d.children.length) { lin.append(" · children "); d.children.slice(0, 30).forEach((c) => lin.append(S.nodeLink(c))); if (d.children.length > 30) lin.append(`… (${d.children.length})`); }
    panel.append(lin);
    if (d.code !== null) panel.append(sideBySideForm(n.id));
    if (n.note) panel.append(el("p", { id: "panel-note", text: n.note }));
    if (!analysis) panel.append(metricsTable(n));
    if (d.heldout && d.heldout.length) {
      // Search value beside held-out value: the held-out data never reached the search.
      const ht = el("table", { id: "panel-heldout" });
      ht.append(el("tr", {}, ...["", "search", "held-out", "gap", "tolerance", "verdict"].map((t) => el("th", { text: t }))));
      for (const r of d.heldout) {
        const held = !r.valid ? `failed (${r.failure_kind}: ${r.failure_message})` : r.heldout_value === null ? "valid, no primary metric" : S.fmt(r.heldout_value, unitOf(r.metric));
        ht.append(el("tr", {}, el("th", { text: `${r.metric} (${r.origin})` }), el("td", { text: r.search_value === null ? "—" : S.fmt(r.search_value, unitOf(r.metric)) }),
          el("td", { text: held }), el("td", { text: r.gap === null ? "—" : S.sig(r.gap) }),
          el("td", { text: `${r.tolerance} ${r.against && r.against !== "search" ? "vs seed (" + r.against + ")" : r.relative ? "relative" : "absolute"}` }),
          el("td", { class: r.overfit ? "bad" : "good", text: r.overfit ? "overfit" : "holds" })));
      }
      panel.append(S.section("panel-heldout-section", "held-out evaluation", true, ht));
    }
    if (failed) panel.append(el("div", { class: "failure", id: "panel-failure", text: `${n.failure_kind || n.status}: ${n.failure_message || ""}` }));
    for (const name of ["traceback", "stderr", "stdout"]) {
      const ev = d.evidence[name]; if (!ev) continue;
      panel.append(S.section(`panel-${name}`, name, failed, el("pre", { text: ev.text === null ? "(blob missing)" : ev.text }),
        el("a", { href: S.evidenceUrl(ev.sha256), target: "_blank", text: "raw blob" })));
    }
    if (d.diff !== null) panel.append(S.section("panel-diff", `diff vs parent #${n.parent_id}`, !failed || !d.evidence.traceback, d.diff.trim() ? diffPre(d.diff) : el("p", { text: "(no difference)" })));
    if (d.code !== null) panel.append(S.section("panel-code", "code", d.diff === null, el("pre", { text: d.code })));
    for (const [name, ev] of Object.entries(d.evidence)) {
      if (["traceback", "stderr", "stdout"].includes(name)) continue;
      panel.append(S.section(`panel-${name}`, name, false, el("pre", { text: ev.text === null ? "(blob missing)" : ev.text }),
        el("a", { href: S.evidenceUrl(ev.sha256), target: "_blank", text: "raw blob" })));
    }
    if (Object.keys(n.data || {}).length) panel.append(S.section("panel-data", analysis ? "analyst notes" : "data", analysis, S.dataView(n.data)));
    if (d.analysis_of.length) { const p = el("p", {}, "discusses "); d.analysis_of.forEach((t) => p.append(S.nodeLink(t))); panel.append(p); }
    d.llm_calls.forEach((c, k) => {
      const head = `LLM ${c.role} call ${k + 1}: ${c.model} · ${c.prompt_tokens}+${c.completion_tokens} tokens · $${c.cost_usd.toFixed(4)} · ${c.latency_s.toFixed(1)} s${c.error ? " · error: " + c.error : ""}`;
      panel.append(S.section(`panel-llm-${k}`, head, false, S.exchange(c)));
    });
    if (d.analyst_notes.length) {
      const box = el("div", {});
      for (const a of d.analyst_notes) box.append(el("p", {}, S.nodeLink(a.id), ` ${a.note}`), S.dataView(a.data));
      panel.append(S.section("panel-notes", `analyst notes that mention it (${d.analyst_notes.length})`, false, box));
    }
    const logicItems = [...d.claims.map((c) => ["claim " + c.id, c.statement, c.status, c.evidence]),
      ...d.hypotheses.map((h) => ["hypothesis " + h.id, h.statement, h.status, []]),
      ...d.dead_ends.map((x) => ["dead end " + x.id, x.idea, "", []])];
    if (logicItems.length) {
      const ul = el("ul", {});
      for (const [label, text, status, ev] of logicItems) {
        const li = el("li", {}, el("b", { text: label + " " }), el("span", { class: `status-${status}`, text: status ? `[${status}] ` : "" }), text);
        for (const e of ev) li.append(" ", el("a", { href: S.evidenceUrl(e.sha256), target: "_blank", text: e.name }));
        ul.append(li);
      }
      panel.append(S.section("panel-claims", `logic: claims, hypotheses, dead ends (${logicItems.length})`, true, ul));
    }
  }

  S.select = select;
})();
