// syslab browse: exploration graph (Canvas 2D, server-side layout), node panel, run views, live polling.
// No third-party code; everything the page needs is served by the browse app itself.
"use strict";
(function () {
  const C = window.SyslabCharts;
  const $ = (id) => document.getElementById(id);
  const XS = 12, YS = 46;  // world pixels per layout slot / per generation at zoom 1
  const SHAPES = ["circle", "square", "diamond", "triangle", "hexagon"];
  const FAIL_OK = "#4a9d5b", PENDING = "#ffffff", INVALID = "#b9bdc7", ANALYSIS = "#7b4fc9";

  const S = {
    runs: [], run: null, G: null, idx: new Map(), selected: null, matches: new Set(),
    view: { kx: 1, ky: 1, tx: 0, ty: 0 }, touched: false, colour: "score", grid: null, tab: "graph",
    firstPaint: false, pollTimer: null, chartsRev: -1, logicRev: -1, fillCache: null,
  };
  window.syslab = S;  // for tests and the curious: state, plus helpers below

  // -- fetching ---------------------------------------------------------------------------------
  async function api(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }
  const runUrl = (p) => `/api/runs/${encodeURIComponent(S.run)}/${p}`;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
      else if (k === "bg") e.style.background = v;  // CSSOM: allowed by the page's CSP, inline style="" is not
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  // -- graph state ------------------------------------------------------------------------------
  function setGraph(G) {
    S.G = G;
    S.idx = new Map(G.id.map((id, i) => [id, i]));
    S.fillCache = null;
    let lo = Infinity, hi = -Infinity;
    G.score.forEach((s, i) => { if (s !== null && G.valid[i]) { lo = Math.min(lo, s); hi = Math.max(hi, s); } });
    G.lo = lo; G.hi = hi;
    G.onBest = new Set(G.best_path);
    $("node-count").textContent = `${G.id.length} nodes`;
    $("node-count").dataset.count = String(G.id.length);
    $("live").textContent = G.status === "running" ? "● live" : "";
    buildLegend();
    if (!S.touched) fit();
    draw();
    buildGrid();
  }

  function fill(i) {
    const G = S.G;
    if (G.kind[i] === 2) return ANALYSIS;
    const st = G.status_code[i];
    if (st === 0 || st === 1) return PENDING;
    if (S.colour === "failure") {
      if (G.fail[i] >= 0) return C.PALETTE[G.fail[i] % C.PALETTE.length];
      return G.valid[i] ? FAIL_OK : INVALID;
    }
    const s = G.score[i];
    if (s === null || !G.valid[i]) return INVALID;
    return C.ramp(G.hi > G.lo ? (s - G.lo) / (G.hi - G.lo) : 1);
  }

  function buildLegend() {
    const L = $("legend"); L.textContent = "";
    const sw = (c, t) => el("span", {}, el("span", { class: "sw", bg: c }), t);
    if (S.colour === "failure") {
      L.append(sw(FAIL_OK, "valid"));
      S.G.failure_kinds.forEach((k, j) => L.append(sw(C.PALETTE[j % C.PALETTE.length], k)));
      L.append(sw(INVALID, "invalid, no failure kind"));
    } else if (isFinite(S.G.lo)) {
      L.append(sw(C.ramp(0), C.nice(S.G.lo)), sw(C.ramp(0.5), "score"), sw(C.ramp(1), C.nice(S.G.hi)), sw(INVALID, "failed/invalid"));
    }
    L.append(sw(ANALYSIS, "analyst note"));
    const islands = [...new Set(S.G.island)].sort((a, b) => a - b);
    if (islands.length > 1) L.append(el("span", { text: "islands: " + islands.map((k) => `${k}=${SHAPES[k % SHAPES.length]}`).join(" ") }));
  }

  // -- view transform ---------------------------------------------------------------------------
  const sx = (i) => S.G.x[i] * XS * S.view.kx + S.view.tx;
  const sy = (i) => S.G.y[i] * YS * S.view.ky + S.view.ty;

  function canvasSize() {
    const c = $("graph");
    return { w: c.clientWidth || 800, h: c.clientHeight || 600 };
  }

  function fit() {
    const G = S.G; if (!G || !G.id.length) return;
    const { w, h } = canvasSize();
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < G.id.length; i++) {
      x0 = Math.min(x0, G.x[i]); x1 = Math.max(x1, G.x[i]); y0 = Math.min(y0, G.y[i]); y1 = Math.max(y1, G.y[i]);
    }
    const pad = 30;
    // x and y scale separately: a 10,000-node tree is far wider than deep.
    S.view.kx = Math.min(4, (w - 2 * pad) / Math.max(1, (x1 - x0) * XS));
    S.view.ky = Math.min(2, (h - 2 * pad) / Math.max(1, (y1 - y0) * YS));
    S.view.tx = pad - x0 * XS * S.view.kx + Math.max(0, (w - 2 * pad - (x1 - x0) * XS * S.view.kx) / 2);
    S.view.ty = pad - y0 * YS * S.view.ky;
  }

  // -- drawing ----------------------------------------------------------------------------------
  let drawQueued = false;
  function requestDraw() { if (!drawQueued) { drawQueued = true; requestAnimationFrame(() => { drawQueued = false; draw(); }); } }

  function shapePath(ctx, shape, x, y, r) {
    if (shape === "circle") { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
    else if (shape === "square") ctx.rect(x - r * .85, y - r * .85, r * 1.7, r * 1.7);
    else if (shape === "diamond") { ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.2, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r * 1.2, y); ctx.closePath(); }
    else if (shape === "triangle") { ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.1, y + r * .8); ctx.lineTo(x - r * 1.1, y + r * .8); ctx.closePath(); }
    else { for (let k = 0; k < 6; k++) { const a = Math.PI / 3 * k; (k ? ctx.lineTo : ctx.moveTo).call(ctx, x + r * Math.cos(a), y + r * Math.sin(a)); } ctx.closePath(); }
  }

  function radius() { return Math.max(1.6, Math.min(7, 0.42 * XS * S.view.kx)); }

  function draw() {
    const G = S.G, canvas = $("graph");
    if (!G) return;
    const dpr = window.devicePixelRatio || 1, { w, h } = canvasSize();
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const n = G.id.length, r = radius(), m = 10;
    const vis = (x, y) => x > -m && x < w + m && y > -m && y < h + m;
    // Parent edges: one path.
    ctx.strokeStyle = "rgba(120,128,145,.45)"; ctx.lineWidth = 1; ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const p = S.idx.get(G.parent[i]);
      if (p === undefined || G.kind[i] === 2) continue;
      const x = sx(i), y = sy(i), px = sx(p), py = sy(p);
      if (!vis(x, y) && !vis(px, py) && (Math.max(x, px) < 0 || Math.min(x, px) > w)) continue;
      ctx.moveTo(px, py); ctx.lineTo(x, y);
    }
    ctx.stroke();
    // Crossover edges (second parent): dashed, once zoomed in (at overview they would hide the tree).
    if (G.crossover.length && r >= 2.5) {
      ctx.strokeStyle = "rgba(142,92,194,.35)"; ctx.setLineDash([3, 3]); ctx.beginPath();
      for (const [a, b] of G.crossover) {
        const i = S.idx.get(a), j = S.idx.get(b);
        if (i === undefined || j === undefined) continue;
        ctx.moveTo(sx(i), sy(i)); ctx.lineTo(sx(j), sy(j));
      }
      ctx.stroke(); ctx.setLineDash([]);
    }
    // Analyst note -> candidates it discusses, for the selected note.
    if (S.selectedDetail && S.selectedDetail.analysis_of && S.selectedDetail.analysis_of.length) {
      const a = S.idx.get(S.selectedDetail.node.id);
      ctx.strokeStyle = "rgba(123,79,201,.55)"; ctx.beginPath();
      for (const t of S.selectedDetail.analysis_of) { const j = S.idx.get(t); if (j !== undefined && a !== undefined) { ctx.moveTo(sx(a), sy(a)); ctx.lineTo(sx(j), sy(j)); } }
      ctx.stroke();
    }
    // Nodes, batched by (fill, shape): a few dozen fills for any number of nodes.
    const buckets = new Map(), small = r < 2.5;
    for (let i = 0; i < n; i++) {
      const x = sx(i), y = sy(i);
      if (!vis(x, y)) continue;
      const shape = small ? "square" : (G.kind[i] === 2 ? "square" : SHAPES[G.island[i] % SHAPES.length]);
      const key = fill(i) + "|" + shape;
      let b = buckets.get(key); if (!b) buckets.set(key, (b = []));
      b.push(i);
    }
    for (const [key, list] of buckets) {
      const [color, shape] = key.split("|");
      ctx.fillStyle = color; ctx.beginPath();
      if (small) for (const i of list) ctx.rect(sx(i) - r, sy(i) - r, 2 * r, 2 * r);
      else for (const i of list) shapePath(ctx, shape, sx(i), sy(i), r);
      ctx.fill();
      if (!small && (color === PENDING || color === INVALID)) { ctx.strokeStyle = "#7d8393"; ctx.stroke(); }
    }
    // Best path, over the nodes so that it stays visible at any zoom.
    if (G.best_path.length > 1) {
      ctx.strokeStyle = "rgba(240,162,2,.85)"; ctx.lineWidth = 3; ctx.beginPath();
      G.best_path.forEach((id, k) => { const i = S.idx.get(id); if (i !== undefined) (k ? ctx.lineTo : ctx.moveTo).call(ctx, sx(i), sy(i)); });
      ctx.stroke(); ctx.lineWidth = 1;
    }
    // Search matches and the selection.
    const ring = (i, color, rr, lw) => { ctx.strokeStyle = color; ctx.lineWidth = lw; ctx.beginPath(); ctx.arc(sx(i), sy(i), rr, 0, 2 * Math.PI); ctx.stroke(); };
    for (const id of S.matches) { const i = S.idx.get(id); if (i !== undefined && vis(sx(i), sy(i))) ring(i, "#e0218a", r + 3, 2); }
    if (S.selected !== null && S.idx.has(S.selected)) ring(S.idx.get(S.selected), "#111", r + 4, 2.5);
    ctx.lineWidth = 1;
    // Labels when zoomed in far enough to read them.
    if (XS * S.view.kx >= 22) {
      ctx.fillStyle = "#334"; ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
      let shown = 0;
      for (let i = 0; i < n && shown < 400; i++) { const x = sx(i), y = sy(i); if (vis(x, y)) { ctx.fillText(String(G.id[i]), x + r + 2, y - r - 2); shown++; } }
    }
    if (!S.firstPaint) { S.firstPaint = true; performance.mark("syslab:first-paint"); }
  }

  // -- hit testing: a uniform grid over layout coordinates ---------------------------------------
  function buildGrid() {
    const G = S.G, cells = new Map();
    for (let i = 0; i < G.id.length; i++) {
      const key = Math.floor(G.x[i]) * 8192 + Math.floor(G.y[i] * 2 + 8);
      let c = cells.get(key); if (!c) cells.set(key, (c = []));
      c.push(i);
    }
    S.grid = cells;
    if (!S.interactive) { S.interactive = true; performance.mark("syslab:interactive"); }
  }

  function hit(mx, my) {
    const G = S.G; if (!G || !S.grid) return null;
    const tol = Math.max(radius() + 3, 6);
    const lx = (mx - S.view.tx) / (XS * S.view.kx), ly = (my - S.view.ty) / (YS * S.view.ky);
    const dx = tol / (XS * S.view.kx), dy = tol / (YS * S.view.ky);
    let best = null, bd = tol * tol;
    const cx0 = Math.floor(lx - dx), cx1 = Math.floor(lx + dx);
    const cy0 = Math.floor((ly - dy) * 2 + 8), cy1 = Math.floor((ly + dy) * 2 + 8);
    if ((cx1 - cx0) * (cy1 - cy0) > 200000) return null;
    for (let cx = cx0; cx <= cx1; cx++) for (let cy = cy0; cy <= cy1; cy++) {
      const c = S.grid.get(cx * 8192 + cy); if (!c) continue;
      for (const i of c) { const d = (sx(i) - mx) ** 2 + (sy(i) - my) ** 2; if (d <= bd) { bd = d; best = i; } }
    }
    return best;
  }

  // Screen position of a node (for tests and "go to" links); scrolls it into view when off screen.
  S.screenPos = (id) => {
    const i = S.idx.get(id); if (i === undefined) return null;
    const { w, h } = canvasSize();
    if (sx(i) < 20 || sx(i) > w - 20 || sy(i) < 20 || sy(i) > h - 20) { centreOn(i); draw(); }
    const r = $("graph").getBoundingClientRect();
    return { x: r.left + sx(i), y: r.top + sy(i) };
  };

  function centreOn(i) {
    const { w, h } = canvasSize();
    S.view.tx += w / 2 - sx(i); S.view.ty += h / 2 - sy(i); S.touched = true;
  }

  function attachGraphEvents() {
    const c = $("graph"), tip = $("tooltip");
    let drag = null;
    c.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, tx: S.view.tx, ty: S.view.ty, moved: false }; });
    window.addEventListener("mouseup", (e) => {
      if (!drag) return;
      const d = drag; drag = null; c.classList.remove("dragging");
      if (!d.moved && e.target === c) {
        const r = c.getBoundingClientRect(), i = hit(e.clientX - r.left, e.clientY - r.top);
        if (i !== null) select(S.G.id[i]);
      }
    });
    window.addEventListener("mousemove", (e) => {
      const r = c.getBoundingClientRect();
      if (drag) {
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; c.classList.add("dragging"); }
        if (drag.moved) { S.view.tx = drag.tx + dx; S.view.ty = drag.ty + dy; S.touched = true; requestDraw(); }
        return;
      }
      if (e.target !== c) { tip.hidden = true; return; }
      const i = hit(e.clientX - r.left, e.clientY - r.top);
      if (i === null) { tip.hidden = true; c.style.cursor = ""; return; }
      const G = S.G, fk = G.fail[i] >= 0 ? " · " + G.failure_kinds[G.fail[i]] : "";
      tip.textContent = `#${G.id[i]} ${G.operators[G.op[i]]} · island ${G.island[i]} · ${G.score[i] === null ? G.statuses[G.status_code[i]] : "score " + C.nice(G.score[i])}${fk}`;
      tip.style.left = `${e.clientX - r.left + 14}px`; tip.style.top = `${e.clientY - r.top + 40}px`; tip.hidden = false;
      c.style.cursor = "pointer";
    });
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
      const f = Math.exp(-e.deltaY * 0.0015);
      // Shift+wheel zooms x only (the tree is wide); plain wheel zooms both.
      const fy = e.shiftKey ? 1 : f;
      S.view.tx = mx - (mx - S.view.tx) * f; S.view.kx *= f;
      S.view.ty = my - (my - S.view.ty) * fy; S.view.ky *= fy;
      S.touched = true; requestDraw();
    }, { passive: false });
    window.addEventListener("resize", requestDraw);
    $("fit").addEventListener("click", () => { S.touched = false; fit(); draw(); });
    $("goto-best").addEventListener("click", () => { if (S.G.best !== null) { select(S.G.best); centreOn(S.idx.get(S.G.best)); draw(); } });
    $("colour-mode").addEventListener("change", (e) => { S.colour = e.target.value; buildLegend(); draw(); });
    let searchTimer = null;
    $("search").addEventListener("input", (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => runSearch(e.target.value), 150);
    });
    $("search").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && S.matches.size) { const id = [...S.matches][0]; select(id); centreOn(S.idx.get(id)); draw(); }
    });
  }

  async function runSearch(q) {
    if (!q.trim()) { S.matches = new Set(); $("search-count").textContent = ""; draw(); return; }
    const res = await api(runUrl(`search?q=${encodeURIComponent(q)}`));
    S.matches = new Set(res.ids);
    $("search-count").textContent = `${res.ids.length} match${res.ids.length === 1 ? "" : "es"}`;
    draw();
  }

  // -- node panel -------------------------------------------------------------------------------
  const nodeLink = (id) => el("a", { class: "node-link", text: `#${id}`, onclick: () => { showTab("graph"); select(id); if (S.idx.has(id)) { centreOn(S.idx.get(id)); draw(); } } });
  const evidenceUrl = (sha) => runUrl(`evidence/${sha}`);

  function diffPre(text) {
    const pre = el("pre", { class: "diff" });
    for (const line of text.split("\n")) {
      const cls = line.startsWith("+++") || line.startsWith("---") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : null;
      pre.append(cls ? el("span", { class: cls, text: line }) : document.createTextNode(line + "\n"));
    }
    return pre;
  }

  function section(id, title, open, ...body) {
    const d = el("details", { id }, el("summary", { text: title }), ...body);
    d.open = !!open;
    return d;
  }

  async function select(id) {
    S.selected = id; draw();
    const panel = $("panel");
    let d;
    try { d = await api(runUrl(`nodes/${id}`)); } catch (e) { panel.textContent = String(e); return; }
    if (S.selected !== id) return;
    S.selectedDetail = d; draw();
    const n = d.node, failed = !!n.failure_kind || n.status === "failed";
    panel.textContent = "";
    panel.append(el("h2", { id: "panel-title", text: `Node ${n.id} · ${n.kind} · ${n.status}` }));
    const chips = el("div", { class: "chips" },
      el("span", { class: "chip", text: n.operator || "(no operator)" }),
      el("span", { class: "chip", text: `island ${n.island}` }),
      el("span", { class: "chip", text: `generation ${n.generation}` }),
      n.stage ? el("span", { class: "chip", text: `stage reached: ${n.stage}` }) : null,
      n.model ? el("span", { class: "chip", text: `model ${n.model}` }) : null,
      el("span", { class: n.valid ? "chip good" : "chip bad", text: n.valid ? "valid" : "invalid" }),
      el("span", { id: "panel-verified", class: d.verified ? "chip good" : "chip bad", title: d.verification_note, text: d.verified ? "verified score" : "unverified score" }),
      S.G.onBest.has(n.id) ? el("span", { class: "chip good", text: "on the best path" }) : null);
    panel.append(chips);
    // A shared-mode (or imported) run: the candidate could have written its own score. Say so in words.
    if (!d.verified) panel.append(el("div", { class: "unverified", id: "panel-unverified", text: d.verification_note }));
    const lin = el("p", {}, "parent ", n.parent_id === null ? "—" : nodeLink(n.parent_id));
    if (d.children.length) { lin.append(" · children "); d.children.slice(0, 30).forEach((c) => lin.append(nodeLink(c))); if (d.children.length > 30) lin.append(`… (${d.children.length})`); }
    panel.append(lin);
    if (n.note) panel.append(el("p", { text: n.note }));
    const mt = el("table", { id: "panel-metrics" });
    mt.append(el("tr", {}, el("th", { text: "score" }), el("td", { text: n.score === null ? "—" : String(n.score) })));
    for (const [k, v] of Object.entries(n.metrics)) mt.append(el("tr", {}, el("th", { text: k }), el("td", { text: String(v) })));
    for (const k of ["wall_s", "cpu_s", "peak_rss_mb"]) if (n[k] !== null) mt.append(el("tr", {}, el("th", { text: k }), el("td", { text: C.nice(n[k]) })));
    panel.append(mt);
    if (d.heldout && d.heldout.length) {
      // Search value beside held-out value: the held-out data never reached the search.
      const ht = el("table", { id: "panel-heldout" });
      ht.append(el("tr", {}, ...["", "search", "held-out", "gap", "tolerance", "verdict"].map((t) => el("th", { text: t }))));
      for (const r of d.heldout) {
        const held = !r.valid ? `failed (${r.failure_kind}: ${r.failure_message})` : r.heldout_value === null ? "valid, no primary metric" : C.nice(r.heldout_value);
        ht.append(el("tr", {}, el("th", { text: `${r.metric} (${r.origin})` }), el("td", { text: r.search_value === null ? "—" : C.nice(r.search_value) }),
          el("td", { text: held }), el("td", { text: r.gap === null ? "—" : C.nice(r.gap) }),
          el("td", { text: `${r.tolerance} ${r.against && r.against !== "search" ? "vs seed (" + r.against + ")" : r.relative ? "relative" : "absolute"}` }),
          el("td", { class: r.overfit ? "bad" : "good", text: r.overfit ? "overfit" : "holds" })));
      }
      panel.append(section("panel-heldout-section", "held-out evaluation", true, ht));
    }
    if (failed) panel.append(el("div", { class: "failure", id: "panel-failure", text: `${n.failure_kind || n.status}: ${n.failure_message || ""}` }));
    for (const name of ["traceback", "stderr", "stdout"]) {
      const ev = d.evidence[name]; if (!ev) continue;
      panel.append(section(`panel-${name}`, name, failed, el("pre", { text: ev.text === null ? "(blob missing)" : ev.text }),
        el("a", { href: evidenceUrl(ev.sha256), target: "_blank", text: "raw blob" })));
    }
    if (d.diff !== null) panel.append(section("panel-diff", `diff vs parent #${n.parent_id}`, !failed || !d.evidence.traceback, d.diff.trim() ? diffPre(d.diff) : el("p", { text: "(no difference)" })));
    if (d.code !== null) panel.append(section("panel-code", "code", d.diff === null, el("pre", { text: d.code })));
    for (const [name, ev] of Object.entries(d.evidence)) {
      if (["traceback", "stderr", "stdout"].includes(name)) continue;
      panel.append(section(`panel-${name}`, name, false, el("pre", { text: ev.text === null ? "(blob missing)" : ev.text }),
        el("a", { href: evidenceUrl(ev.sha256), target: "_blank", text: "raw blob" })));
    }
    if (Object.keys(n.data || {}).length) panel.append(section("panel-data", n.kind === "analysis" ? "analyst notes" : "data", n.kind === "analysis", el("pre", { text: JSON.stringify(n.data, null, 2) })));
    if (d.analysis_of.length) { const p = el("p", {}, "discusses "); d.analysis_of.forEach((t) => p.append(nodeLink(t))); panel.append(p); }
    d.llm_calls.forEach((c, k) => {
      const head = `LLM ${c.role} call ${k + 1}: ${c.model} · ${c.prompt_tokens}+${c.completion_tokens} tokens · $${c.cost_usd.toFixed(4)} · ${c.latency_s.toFixed(1)} s${c.error ? " · error: " + c.error : ""}`;
      panel.append(section(`panel-llm-${k}`, head, false,
        el("h4", { text: "prompt" }), el("pre", { text: c.prompt === null ? "(missing)" : c.prompt }),
        el("h4", { text: "response" }), el("pre", { text: c.response === null ? "(none)" : c.response })));
    });
    if (d.analyst_notes.length) {
      const box = el("div", {});
      for (const a of d.analyst_notes) box.append(el("p", {}, nodeLink(a.id), ` ${a.note}`), el("pre", { text: JSON.stringify(a.data, null, 2) }));
      panel.append(section("panel-notes", `analyst notes that mention it (${d.analyst_notes.length})`, false, box));
    }
    const logicItems = [...d.claims.map((c) => ["claim " + c.id, c.statement, c.status, c.evidence]),
      ...d.hypotheses.map((h) => ["hypothesis " + h.id, h.statement, h.status, []]),
      ...d.dead_ends.map((x) => ["dead end " + x.id, x.idea, "", []])];
    if (logicItems.length) {
      const ul = el("ul", {});
      for (const [label, text, status, ev] of logicItems) {
        const li = el("li", {}, el("b", { text: label + " " }), el("span", { class: `status-${status}`, text: status ? `[${status}] ` : "" }), text);
        for (const e of ev) li.append(" ", el("a", { href: evidenceUrl(e.sha256), target: "_blank", text: e.name }));
        ul.append(li);
      }
      panel.append(section("panel-claims", `logic: claims, hypotheses, dead ends (${logicItems.length})`, true, ul));
    }
  }

  // -- run views --------------------------------------------------------------------------------
  async function loadCharts(force) {
    const s = await api(runUrl("summary"));
    if (!force && s.rev === S.chartsRev) return;
    S.chartsRev = s.rev;
    C.scorePlot($("score-plot"), s.score);
    C.failurePlot($("failure-plot"), s.failures);
    C.paretoPlot($("pareto-plot"), s.pareto, pick);
    $("pareto-notes").textContent = s.pareto ? `${s.pareto.front.length} on the front (red), of ${s.pareto.points.length} valid candidates` : "";
    const ct = $("cost-table"); ct.textContent = "";
    ct.append(el("tr", {}, ...["model", "role", "calls", "errors", "prompt tok", "completion tok", "cost $"].map((t) => el("th", { text: t }))));
    for (const r of s.cost.rows) ct.append(el("tr", {}, ...[r.model, r.role, r.calls, r.errors, r.prompt_tokens, r.completion_tokens, r.cost_usd.toFixed(4)].map((t) => el("td", { text: String(t) }))));
    if (!s.cost.rows.length) ct.append(el("tr", {}, el("td", { text: "no LLM calls (offline proposer)" })));
    const rt = $("run-table"); rt.textContent = "";
    const m = s.manifest;
    const rows = [["run", m.run_id], ["task", m.task_name], ["scores", m.verification_note], ["status", m.status], ["proposer", m.proposer], ["seed", m.seed],
      ["attempts", s.attempts], ["analyst notes", s.analyses], ["best", s.best ? `#${s.best.id} score ${C.nice(s.best.score)}` : "—"],
      ["failures", Object.entries(s.failure_counts).map(([k, v]) => `${k} ${v}`).join(", ") || "none"],
      ["held-out", (s.heldout || []).map((r) => `#${r.node_id} search ${C.nice(r.search_value)} / held-out ${r.heldout_value === null ? "failed" : C.nice(r.heldout_value)}${r.overfit ? " OVERFIT" : ""}`).join("; ") || "no held-out split"]];
    for (const [k, v] of rows) rt.append(el("tr", {}, el("th", { text: k }), el("td", { text: String(v) })));
    if (!$("map-plot").dataset.cells) $("map-notes").textContent = "computing the grid (reads every candidate's code once)…";
    api(runUrl("map_elites")).then((g) => { C.mapPlot($("map-plot"), g, pick); $("map-notes").textContent = g.notes || "colour: the cell elite's score; click a cell to open its elite"; });
  }
  const pick = (id) => { showTab("graph"); select(id); if (S.idx.has(id)) { centreOn(S.idx.get(id)); draw(); } };

  async function loadLogic() {
    const L = await api(runUrl("logic")), box = $("logic");
    box.textContent = "";
    if (!L) { box.append(el("p", { text: "This run has no logic.yaml." })); return; }
    box.append(el("section", {}, el("h3", { text: "Research question" }), el("p", { text: L.question })));
    const list = (title, items, render) => {
      const ul = el("ul", {}); items.forEach((x) => ul.append(render(x)));
      box.append(el("section", { id: `logic-${title.toLowerCase().replace(/ /g, "-")}` }, el("h3", { text: `${title} (${items.length})` }), items.length ? ul : el("p", { text: "none" })));
    };
    const links = (li, ids) => { ids.slice(0, 40).forEach((i) => li.append(nodeLink(i))); if (ids.length > 40) li.append(`… (${ids.length})`); return li; };
    list("Claims", L.claims, (c) => {
      const li = el("li", {}, el("b", { text: c.id + " " }), el("span", { class: `status-${c.status}`, text: `[${c.status}] ` }), c.statement, " ");
      if (c.metric) li.append(el("span", { class: "chip", text: `${c.metric} = ${C.nice(c.value)} (baseline ${c.baseline === null ? "—" : C.nice(c.baseline)})` }));
      if (c.n) li.append(el("span", { class: "chip", text: `n=${c.n}, mean ${C.nice(c.mean)}` + (c.interval ? `, interval [${C.nice(c.interval[0])}, ${C.nice(c.interval[1])}]` : "") }));
      if (c.heldout_record !== null && c.heldout_record !== undefined) li.append(el("span", { class: c.status === "refuted" ? "chip bad" : "chip good", text: `held-out ${c.heldout_value === null ? "failed" : C.nice(c.heldout_value)}, gap ${c.heldout_gap === null ? "—" : C.nice(c.heldout_gap)} (tolerance ${c.heldout_tolerance})` }));
      if (c.verified) li.append(el("div", { class: "cap", text: c.verified }));
      if (c.conditions) li.append(el("div", { class: "cap", text: c.conditions }));
      const ev = el("div", {}, "evidence: ");
      c.evidence.forEach((e) => ev.append(el("a", { class: "evidence-link", href: evidenceUrl(e.sha256), target: "_blank", text: e.name }), " "));
      li.append(ev);
      return links(li, c.node_ids);
    });
    list("Hypotheses", L.hypotheses, (h) => links(el("li", {}, el("b", { text: h.id + " " }), el("span", { class: `status-${h.status}`, text: `[${h.status}] ` }), h.statement, " ", h.source_node !== null ? nodeLink(h.source_node) : null), h.node_ids));
    list("Dead ends", L.dead_ends, (d) => links(el("li", {}, el("b", { text: d.id + " " }), d.idea, " "), d.node_ids));
    list("Decisions", L.decisions, (d) => el("li", {}, el("b", { text: `${d.id} (${d.kind}) ` }), d.statement, " ", d.node_id !== null ? nodeLink(d.node_id) : null));
  }

  async function loadCompare() {
    const c = await api("/api/compare"), t = $("compare-table");
    t.textContent = "";
    const cols = ["run_id", "task", "verified", "status", "proposer", "seed", "evaluations", "valid", "failures", "best_score", "best_node", "cost_usd"];
    t.append(el("tr", {}, ...cols.map((k) => el("th", { text: k.replace("_", " ") }))));
    for (const r of c.rows) t.append(el("tr", {}, ...cols.map((k) => el("td", { text: r[k] === null ? "—" : typeof r[k] === "number" && !Number.isInteger(r[k]) ? C.nice(r[k]) : String(r[k]) }))));
    C.comparePlot($("compare-plot"), c.curves);
  }

  // -- tabs, runs, live polling -----------------------------------------------------------------
  function showTab(tab) {
    S.tab = tab;
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
    document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `view-${tab}`));
    if (tab === "graph") requestDraw();
    if (tab === "charts") loadCharts(true);
    if (tab === "logic") loadLogic();
    if (tab === "compare") loadCompare();
  }

  // The run's badge in the header: verified (split mode) or not, with the reason on hover.
  function showProvenance(r) {
    const b = $("run-verified");
    b.textContent = r.verified ? "verified scores" : "unverified scores";
    b.className = r.verified ? "badge good" : "badge bad";
    b.title = r.verification_note;
    b.hidden = false;
  }

  async function openRun(id) {
    S.run = id; S.selected = null; S.selectedDetail = null; S.touched = false; S.matches = new Set();
    const r = S.runs.find((x) => x.run_id === id);
    if (r) showProvenance(r);
    $("panel").replaceChildren(el("p", { class: "hint", text: "Click a node to open its code, diff, metrics, logs and the LLM exchange that made it." }));
    setGraph(await api(runUrl("graph")));
    if (S.tab !== "graph") showTab(S.tab);
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
      const d = await api(runUrl(`delta?rev=${S.G.rev}&edge_seq=${S.G.edge_seq}`));
      if (run !== S.run) return;
      if (d.changed) {
        setGraph(d);
        if (S.tab === "charts") loadCharts(false);
        if (S.tab === "logic") loadLogic();
      } else if (d.status !== S.G.status) {
        S.G.status = d.status; $("live").textContent = d.status === "running" ? "● live" : "";
      }
    } catch (e) { $("live").textContent = "○ offline"; }
    schedulePoll();
  }

  async function main() {
    attachGraphEvents();
    document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
    S.runs = await api("/api/runs");
    const sel = $("run-select");
    for (const r of S.runs) sel.append(el("option", { value: r.run_id, text: `${r.run_id} (${r.task_name})` }));
    sel.addEventListener("change", () => openRun(sel.value));
    $("tab-compare").hidden = S.runs.length < 2;
    if (S.runs.length) await openRun(S.runs[0].run_id);
  }
  S.select = select;
  S.draw = draw;
  S.hit = hit;
  S.ready = main();
})();
