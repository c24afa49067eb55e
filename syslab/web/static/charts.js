// syslab browse: small Canvas-2D plots (no third-party code). Exposes window.SyslabCharts.
"use strict";
(function () {
  const PALETTE = ["#d2402f", "#e08a1e", "#8e5cc2", "#2d8fb8", "#c2478f", "#6b8e23", "#8c564b",
                   "#17becf", "#7f7f7f", "#bcbd22", "#1f77b4", "#ff7f0e"];

  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 500, h = canvas.clientHeight || 260;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx, w, h };
  }

  function nice(v) {
    if (v === 0 || !isFinite(v)) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
    return String(+v.toPrecision(4));
  }

  function extent(values, pad) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) { lo -= 1; hi += 1; }
    const p = (hi - lo) * (pad || 0.05);
    return [lo - p, hi + p];
  }

  // Axes box with ticks; returns the data->pixel mapping.
  function axes(ctx, w, h, xr, yr, xlabel, ylabel, opts) {
    const o = opts || {};
    const m = { l: 58, r: 12, t: o.top || 10, b: 34 };
    const X = (v) => m.l + (v - xr[0]) / (xr[1] - xr[0]) * (w - m.l - m.r);
    const Y = (v) => h - m.b - (v - yr[0]) / (yr[1] - yr[0]) * (h - m.t - m.b);
    ctx.strokeStyle = "#c9ccd6"; ctx.fillStyle = "#556"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, h - m.b); ctx.lineTo(w - m.r, h - m.b); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = yr[0] + (yr[1] - yr[0]) * i / 4;
      ctx.fillText(nice(v), m.l - 4, Y(v));
      ctx.strokeStyle = "#eef0f4"; ctx.beginPath(); ctx.moveTo(m.l + 1, Y(v)); ctx.lineTo(w - m.r, Y(v)); ctx.stroke();
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    // Integer axes (evaluation counts) get whole-number ticks.
    const step = o.intX ? Math.max(1, Math.ceil((xr[1] - xr[0]) / 6)) : (xr[1] - xr[0]) / 5;
    for (let v = xr[0]; v <= xr[1] + 1e-9; v += step) ctx.fillText(nice(v), X(v), h - m.b + 4);
    ctx.fillText(xlabel || "", (m.l + w - m.r) / 2, h - 14);
    ctx.save(); ctx.translate(12, (m.t + h - m.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle"; ctx.fillText(ylabel || "", 0, 0); ctx.restore();
    return { X, Y, m };
  }

  function emptyNote(ctx, w, h, text) {
    ctx.fillStyle = "#889"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, w / 2, h / 2);
  }

  // score: {points: [[i, score, id]], best: [[i, best|null]], invalid: [[i, id]], evaluations}
  function scorePlot(canvas, score) {
    const { ctx, w, h } = setup(canvas);
    canvas.dataset.points = String(score.points.length);
    if (!score.evaluations) { emptyNote(ctx, w, h, "no evaluations yet"); return; }
    const xr = [0, Math.max(1, score.evaluations) + 1];
    const yr = extent(score.points.map((p) => p[1]), 0.08);
    const { X, Y } = axes(ctx, w, h, xr, yr, "evaluation", "score (higher is better)", { intX: true });
    ctx.strokeStyle = "rgba(210,64,47,.7)";
    for (const [i] of score.invalid) { ctx.beginPath(); ctx.moveTo(X(i), Y(yr[0])); ctx.lineTo(X(i), Y(yr[0]) - 6); ctx.stroke(); }
    ctx.fillStyle = "rgba(45,143,184,.65)";
    for (const [i, s] of score.points) { ctx.beginPath(); ctx.arc(X(i), Y(s), 2.6, 0, 2 * Math.PI); ctx.fill(); }
    ctx.strokeStyle = "#e08a1e"; ctx.lineWidth = 2; ctx.beginPath();
    let started = false, prev = null;
    for (const [i, b] of score.best) {
      if (b === null) continue;
      if (!started) { ctx.moveTo(X(i), Y(b)); started = true; } else { ctx.lineTo(X(i), Y(prev)); ctx.lineTo(X(i), Y(b)); }
      prev = b;
    }
    if (started) ctx.lineTo(X(xr[1] - 1), Y(prev));
    ctx.stroke(); ctx.lineWidth = 1;
  }

  // failures: {kinds, counts[kind][bin], totals[bin], edges}
  function failurePlot(canvas, f) {
    const { ctx, w, h } = setup(canvas);
    const nb = f.totals.length;
    if (!f.totals.some((t) => t > 0)) { emptyNote(ctx, w, h, "no evaluations yet"); return; }
    const yr = [0, 1];
    const { X, Y } = axes(ctx, w, h, [0, f.edges[nb]], yr, "evaluation", "share of attempts failing", { intX: true, top: 26 });
    for (let b = 0; b < nb; b++) {
      if (!f.totals[b]) continue;
      let acc = 0;
      const x0 = X(f.edges[b]) + 1, x1 = X(f.edges[b + 1]) - 1;
      f.kinds.forEach((k, j) => {
        const share = f.counts[j][b] / f.totals[b];
        if (!share) return;
        ctx.fillStyle = PALETTE[j % PALETTE.length];
        ctx.fillRect(x0, Y(acc + share), Math.max(1, x1 - x0), Y(acc) - Y(acc + share));
        acc += share;
      });
    }
    let lx = 64;
    ctx.textAlign = "left"; ctx.textBaseline = "top";
    f.kinds.forEach((k, j) => {
      ctx.fillStyle = PALETTE[j % PALETTE.length]; ctx.fillRect(lx, 3, 9, 9);
      ctx.fillStyle = "#334"; ctx.fillText(k, lx + 12, 2); lx += ctx.measureText(k).width + 26;
    });
    if (!f.kinds.length) emptyNote(ctx, w, h, "no failures");
  }

  // Viridis-like ramp for t in [0, 1].
  function ramp(t) {
    const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  // grid: {dims, bins, cells: {"i,j": {count, id, score}}, notes}; onPick(id) on click.
  function mapPlot(canvas, grid, onPick) {
    const { ctx, w, h } = setup(canvas);
    canvas.onclick = null;
    if (!grid.dims || !grid.dims.length) { emptyNote(ctx, w, h, grid.notes || "no MAP-Elites grid"); return; }
    const bx = grid.bins[0], by = grid.bins.length > 1 ? grid.bins[1] : 1;
    const m = { l: 58, r: 12, t: 10, b: 34 };
    const cw = (w - m.l - m.r) / bx, ch = (h - m.t - m.b) / by;
    const scores = Object.values(grid.cells).map((c) => c.score);
    const [lo, hi] = extent(scores, 0);
    ctx.strokeStyle = "#eef0f4";
    for (let i = 0; i < bx; i++) for (let j = 0; j < by; j++) ctx.strokeRect(m.l + i * cw, h - m.b - (j + 1) * ch, cw, ch);
    for (const [key, c] of Object.entries(grid.cells)) {
      const [i, j] = key.split(",").map(Number);
      ctx.fillStyle = ramp((c.score - lo) / (hi - lo || 1));
      ctx.fillRect(m.l + i * cw + 1, h - m.b - ((j || 0) + 1) * ch + 1, cw - 2, ch - 2);
    }
    ctx.fillStyle = "#556"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    ctx.fillText(`${grid.dims[0]} (bins over ${grid.ranges[0].join("..")})`, (m.l + w - m.r) / 2, h - 24);
    if (grid.dims[1]) {
      ctx.save(); ctx.translate(14, (m.t + h - m.b) / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
      ctx.fillText(`${grid.dims[1]} (${grid.ranges[1].join("..")})`, 0, 0); ctx.restore();
    }
    canvas.dataset.cells = String(Object.keys(grid.cells).length);
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor((ev.clientX - r.left - m.l) / cw), j = Math.floor((h - m.b - (ev.clientY - r.top)) / ch);
      const c = grid.cells[grid.dims.length > 1 ? `${i},${j}` : `${i}`];
      if (c && onPick) onPick(c.id);
    };
  }

  // pareto: {metrics, directions, points: [[id, a, b]], front: [ids]}
  function paretoPlot(canvas, p, onPick) {
    const { ctx, w, h } = setup(canvas);
    if (!p) { emptyNote(ctx, w, h, "no pareto_metrics configured for this run"); return; }
    const xr = extent(p.points.map((q) => q[1])), yr = extent(p.points.map((q) => q[2]));
    const { X, Y } = axes(ctx, w, h, xr, yr, `${p.metrics[0]} (${p.directions[0]})`, `${p.metrics[1]} (${p.directions[1]})`);
    const front = new Set(p.front);
    for (const [id, a, b] of p.points) {
      ctx.fillStyle = front.has(id) ? "#d2402f" : "rgba(45,143,184,.5)";
      ctx.beginPath(); ctx.arc(X(a), Y(b), front.has(id) ? 4 : 2.5, 0, 2 * Math.PI); ctx.fill();
    }
    const fp = p.points.filter((q) => front.has(q[0])).sort((u, v) => u[1] - v[1]);
    ctx.strokeStyle = "#d2402f"; ctx.beginPath();
    fp.forEach((q, k) => (k ? ctx.lineTo(X(q[1]), Y(q[2])) : ctx.moveTo(X(q[1]), Y(q[2]))));
    ctx.stroke();
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
      let best = null, bd = 64;
      for (const [id, a, b] of p.points) {
        const d = (X(a) - mx) ** 2 + (Y(b) - my) ** 2;
        if (d < bd) { bd = d; best = id; }
      }
      if (best !== null && onPick) onPick(best);
    };
  }

  // curves: [{run_id, best: [[i, b]]}]
  function comparePlot(canvas, curves) {
    const { ctx, w, h } = setup(canvas);
    const all = curves.flatMap((c) => c.best.filter((p) => p[1] !== null));
    canvas.dataset.points = String(all.length);
    if (!all.length) { emptyNote(ctx, w, h, "no valid candidates yet"); return; }
    const xr = [0, Math.max(...all.map((p) => p[0])) + 1], yr = extent(all.map((p) => p[1]), 0.08);
    const { X, Y } = axes(ctx, w, h, xr, yr, "evaluation", "best score so far", { intX: true });
    curves.forEach((c, k) => {
      ctx.strokeStyle = PALETTE[(k + 3) % PALETTE.length]; ctx.lineWidth = 2; ctx.beginPath();
      let started = false, prev = null;
      for (const [i, b] of c.best) {
        if (b === null) continue;
        if (!started) { ctx.moveTo(X(i), Y(b)); started = true; } else { ctx.lineTo(X(i), Y(prev)); ctx.lineTo(X(i), Y(b)); }
        prev = b;
      }
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle; ctx.textAlign = "left"; ctx.textBaseline = "top";
      ctx.fillRect(70, 14 + k * 15, 10, 3); ctx.fillText(c.run_id, 86, 8 + k * 15);
    });
    ctx.lineWidth = 1;
  }

  window.SyslabCharts = { PALETTE, ramp, scorePlot, failurePlot, mapPlot, paretoPlot, comparePlot, nice };
})();
