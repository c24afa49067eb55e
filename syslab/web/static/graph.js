// syslab browse: the exploration graph (Canvas 2D over the server's layout): colour by any metric
// on a robust scale, hit testing, pan/zoom, search. Registers setGraph/draw/hit/reveal/... on window.syslab.
"use strict";
(function () {
  const S = window.syslab, C = window.SyslabCharts, $ = S.$, el = S.el;
  const XS = 12, YS = 46;  // world pixels per layout slot / per generation at zoom 1
  const SHAPES = ["circle", "square", "diamond", "triangle", "hexagon"];
  const FAIL_OK = "#4a9d5b", PENDING = "#ffffff", INVALID = "#b9bdc7", ANALYSIS = "#7b4fc9";

  // -- graph state ------------------------------------------------------------------------------
  function setGraph(G) {
    S.G = G;
    S.idx = new Map(G.id.map((id, i) => [id, i]));
    S.fillCache = null;
    G.onBest = new Set(G.best_path);
    colourOptions();
    S.colourScale();
    $("node-count").textContent = `${G.id.length} nodes`;
    $("node-count").dataset.count = String(G.id.length);
    $("live").textContent = G.status === "running" ? "● live" : "";
    buildLegend();
    if (!S.touched) fit();
    draw();
    buildGrid();
  }

  // Node colours, computed once per graph, colour choice and scale (a redraw only reads them).
  function fill(i) {
    if (!S.fillCache) S.fillCache = S.G.id.map((_, j) => computeFill(j));
    return S.fillCache[i];
  }

  function computeFill(i) {
    const G = S.G;
    if (G.kind[i] === 2) return ANALYSIS;
    const st = G.status_code[i];
    if (st === 0 || st === 1) return PENDING;
    if (S.colour === "failure") {
      if (G.fail[i] >= 0) return C.PALETTE[G.fail[i] % C.PALETTE.length];
      return G.valid[i] ? FAIL_OK : INVALID;
    }
    const s = S.cscale.values[i];
    if (s === null || s === undefined || !G.valid[i]) return INVALID;
    // Yellow is better whichever way the metric goes.
    // 64 levels: indistinguishable from a continuous ramp, and a redraw fills at most 64 colour batches.
    const t = Math.round(S.cscale.norm(s) * 63) / 63;
    return C.ramp(S.cscale.info.direction === "minimize" ? 1 - t : t);
  }

  // The colour menu: every metric of the task (primary first) and failure kind; keeps the choice.
  function colourOptions() {
    const sel = $("colour-mode"), keys = S.metricKeys();
    const want = ["failure", ...keys].map((k) => (k === "failure" ? k : "m:" + k));
    const have = [...sel.options].map((o) => o.value);
    if (want.join("|") !== have.join("|")) {
      sel.textContent = "";
      for (const k of keys) sel.append(el("option", { value: "m:" + k, text: `by ${k}` }));
      sel.append(el("option", { value: "failure", text: "by failure kind" }));
    }
    if (S.colour !== "failure" && !keys.includes(S.colour.replace(/^m:/, ""))) S.colour = "m:" + keys[0];
    sel.value = S.colour;
  }

  // The scale of the chosen colour metric over the valid candidates (robust by default).
  function colourScale() {
    const G = S.G, key = S.colour === "failure" ? S.defaultMetric() : S.colour.replace(/^m:/, "");
    const values = S.metricValues(key);
    const valid = values.filter((v, i) => v !== null && G.valid[i] && G.kind[i] !== 2);
    S.cscale = { ...C.makeScale(valid, S.scale), values, info: S.metricInfo(key) };
    S.fillCache = null;
    return S.cscale;
  }

  function buildLegend() {
    const L = $("legend"); L.textContent = "";
    const sw = (c, t) => el("span", {}, el("span", { class: "sw", bg: c }), t);
    if (S.colour === "failure") {
      L.append(sw(FAIL_OK, "valid"));
      S.G.failure_kinds.forEach((k, j) => L.append(sw(C.PALETTE[j % C.PALETTE.length], k)));
      L.append(sw(INVALID, "invalid, no failure kind"));
    } else {
      const cs = S.cscale, info = cs.info, min = info.direction === "minimize";
      const lo = (cs.below ? "≤ " : "") + S.fmt(cs.inv(cs.u0), info.unit), hi = (cs.above ? "≥ " : "") + S.fmt(cs.inv(cs.u1), info.unit);
      const worst = min ? hi : lo, best = min ? lo : hi;
      L.append(sw(C.ramp(0), worst), sw(C.ramp(0.5), `${info.name}, ${info.way}`), sw(C.ramp(1), best), sw(INVALID, "failed/invalid"));
      if (cs.clipped) L.append(el("span", { id: "legend-clipped", text: `${cs.clipped} outside the scale, shown at its ends` }));
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
    if (sx(i) < 20 || sx(i) > w - 20 || sy(i) < 20 || sy(i) > h - 20) { reveal(i); draw(); }
    const r = $("graph").getBoundingClientRect();
    return { x: r.left + sx(i), y: r.top + sy(i) };
  };

  // Where a node is drawn on the canvas, without moving the view (for tests).
  S.nodeXY = (id) => { const i = S.idx.get(id); if (i === undefined) return null; const { w, h } = canvasSize(); return { x: sx(i), y: sy(i), w, h }; };

  // Bring a node into view by the least pan that leaves a margin round it; a node already in view
  // does not move (centring it used to push the rest of a fitted graph off screen).
  function reveal(i) {
    const { w, h } = canvasSize(), mx = Math.min(60, w / 4), my = Math.min(60, h / 4);
    const dx = sx(i) < mx ? mx - sx(i) : sx(i) > w - mx ? w - mx - sx(i) : 0;
    const dy = sy(i) < my ? my - sy(i) : sy(i) > h - my ? h - my - sy(i) : 0;
    if (dx || dy) { S.view.tx += dx; S.view.ty += dy; S.touched = true; }
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
        // Shift+click: the second node for side-by-side code.
        if (i !== null) { if (e.shiftKey && S.selected !== null) S.sideBySide(S.selected, S.G.id[i]); else S.select(S.G.id[i]); }
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
      tip.textContent = `#${G.id[i]} ${G.operators[G.op[i]]} · island ${G.island[i]} · ${G.score[i] === null ? G.statuses[G.status_code[i]] : S.cscale.info.name + " " + S.fmt(S.cscale.values[i], S.cscale.info.unit)}${fk}`;
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
    $("goto-best").addEventListener("click", () => { if (S.G.best !== null) S.pick(S.G.best); });
    $("colour-mode").addEventListener("change", (e) => { S.colour = e.target.value; S.colourScale(); buildLegend(); draw(); });
    $("colour-scale").addEventListener("change", (e) => { S.scale = e.target.value; S.colourScale(); buildLegend(); draw(); if (S.tab === "charts") S.loadCharts(true); });
    let searchTimer = null;
    $("search").addEventListener("input", (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => runSearch(e.target.value), 150);
    });
    $("search").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && S.matches.size) S.pick([...S.matches][0]);
    });
  }

  async function runSearch(q) {
    if (!q.trim()) { S.matches = new Set(); $("search-count").textContent = ""; draw(); return; }
    const res = await S.api(S.runUrl(`search?q=${encodeURIComponent(q)}`));
    S.matches = new Set(res.ids);
    $("search-count").textContent = `${res.ids.length} match${res.ids.length === 1 ? "" : "es"}`;
    draw();
  }
  S.fill = fill; S.setGraph = setGraph; S.draw = draw; S.requestDraw = requestDraw; S.hit = hit; S.fit = fit;
  S.reveal = reveal; S.attachGraphEvents = attachGraphEvents; S.colourScale = colourScale;
})();
