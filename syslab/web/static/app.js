// syslab browse: runs, the header badge and live polling; the page's parts are util.js (state and
// helpers), graph.js, panel.js, exchange.js and views.js. No third-party code; everything the page
// needs is served by the browse app itself.
"use strict";
(function () {
  const S = window.syslab, $ = S.$, el = S.el;

  // The run's badge in the header: verified (split mode) or not, with the reason on hover.
  function showProvenance(r) {
    const b = $("run-verified");
    b.textContent = r.verified ? "verified scores" : "unverified scores";
    b.className = r.verified ? "badge good" : "badge bad";
    b.title = r.verification_note;
    b.hidden = false;
  }

  async function openRun(id) {
    S.run = id; S.selected = null; S.selectedDetail = null; S.touched = false; S.matches = new Set(); $("sbs").hidden = true;
    const r = S.runs.find((x) => x.run_id === id);
    if (r) showProvenance(r);
    $("panel").replaceChildren(el("p", { class: "hint", text: "Click a node to open its code, diff, metrics, logs and the LLM exchange that made it." }));
    S.setGraph(await S.api(S.runUrl("graph")));
    if (S.tab !== "graph") S.showTab(S.tab);
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(S.pollTimer);
    const live = S.G && S.G.status === "running";
    S.pollTimer = setTimeout(poll, live ? 1000 : 5000);
  }

  async function poll() {
    try {
      const run = S.run;
      const d = await S.api(S.runUrl(`delta?rev=${S.G.rev}&edge_seq=${S.G.edge_seq}`));
      if (run !== S.run) return;
      if (d.changed) {
        S.setGraph(d);
        if (S.tab === "charts") S.loadCharts(false);
        if (S.tab === "logic") S.loadLogic();
      } else if (d.status !== S.G.status) {
        S.G.status = d.status; $("live").textContent = d.status === "running" ? "● live" : "";
      }
    } catch (e) { $("live").textContent = "○ offline"; }
    schedulePoll();
  }

  async function main() {
    S.attachGraphEvents();
    document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => S.showTab(b.dataset.tab)));
    $("colour-scale").value = S.scale;
    S.runs = await S.api("/api/runs");
    const sel = $("run-select");
    for (const r of S.runs) sel.append(el("option", { value: r.run_id, text: `${r.run_id} (${r.task_name})` }));
    sel.addEventListener("change", () => openRun(sel.value));
    $("tab-compare").hidden = S.runs.length < 2;
    if (S.runs.length) await openRun(S.runs[0].run_id);
  }
  S.ready = main();
})();
