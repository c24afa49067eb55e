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

  function quantile(sorted, q) {
    const p = (sorted.length - 1) * q, i = Math.floor(p), f = p - i;
    return i + 1 < sorted.length ? sorted[i] + (sorted[i + 1] - sorted[i]) * f : sorted[i];
  }

  // A scale for colour and axes that one outlier cannot flatten. Modes:
  //   robust: linear between Tukey's fences (quartiles -/+ 1.5 IQR); values beyond are clipped;
  //   rank:   by quantile, so every node differs from its neighbours in colour;
  //   log:    symmetric log (sign-preserving, fine for negative scores and for costs over decades);
  //   linear: min to max, as before.
  // Returns {tr, inv, u0, u1, lo, hi, clipped (below + above), norm(v) in [0, 1], outside(v) -1/0/1}.
  function makeScale(values, mode) {
    const v = values.filter((x) => x !== null && x !== undefined && isFinite(x)).sort((a, b) => a - b);
    let tr = (x) => x, inv = (u) => u, lo = v.length ? v[0] : 0, hi = v.length ? v[v.length - 1] : 1;
    if (mode === "robust" && v.length >= 4) {
      const q1 = quantile(v, 0.25), q3 = quantile(v, 0.75), k = 1.5 * (q3 - q1);
      lo = Math.max(lo, q1 - k); hi = Math.min(hi, q3 + k);
    } else if (mode === "log" && v.length) {
      const mags = v.map(Math.abs).filter((x) => x > 0).sort((a, b) => a - b);
      const c = mags.length ? Math.max(mags[0], quantile(mags, 0.5) / 100) : 1;
      tr = (x) => Math.sign(x) * Math.log10(1 + Math.abs(x) / c);
      inv = (u) => Math.sign(u) * c * (10 ** Math.abs(u) - 1);
    } else if (mode === "rank" && v.length > 1) {
      tr = (x) => {  // interpolated empirical CDF
        let a = 0, b = v.length - 1;
        if (x <= v[0]) return 0; if (x >= v[b]) return 1;
        while (b - a > 1) { const m = (a + b) >> 1; if (v[m] <= x) a = m; else b = m; }
        return (a + (v[b] > v[a] ? (x - v[a]) / (v[b] - v[a]) : 0)) / (v.length - 1);
      };
      inv = (u) => quantile(v, Math.max(0, Math.min(1, u)));
    }
    let u0 = tr(lo), u1 = tr(hi);
    if (!(u1 - u0 > 1e-12)) { u0 -= 0.5; u1 += 0.5; }
    const outside = (x) => (x < lo ? -1 : x > hi ? 1 : 0);
    const below = v.filter((x) => x < lo).length, above = v.filter((x) => x > hi).length, clipped = below + above;
    const norm = (x) => Math.max(0, Math.min(1, (tr(x) - u0) / (u1 - u0)));
    return { mode: mode || "linear", tr, inv, u0, u1, lo, hi, clipped, below, above, outside, norm };
  }
  const linear = (r) => makeScale(r, "linear");

  // Axes box with ticks; xs/ys are scales (makeScale) or [lo, hi]; returns the data->pixel mapping.
  // A value outside a scale's domain is drawn at the edge (callers mark it as clipped).
  function axes(ctx, w, h, xs, ys, xlabel, ylabel, opts) {
    const o = opts || {};
    if (Array.isArray(xs)) xs = linear(xs);
    if (Array.isArray(ys)) ys = linear(ys);
    const m = { l: 58, r: 12, t: o.top || 10, b: 34 };
    const px = o.pad === undefined ? 0.05 : o.pad;
    const span = (s) => { const p = (s.u1 - s.u0) * px; return [s.u0 - p, s.u1 + p]; };
    const [xa, xb] = span(xs), [ya, yb] = span(ys);
    const clampU = (u, a, b) => Math.max(a, Math.min(b, u));
    const X = (v) => m.l + (clampU(xs.tr(v), xa, xb) - xa) / (xb - xa) * (w - m.l - m.r);
    const Y = (v) => h - m.b - (clampU(ys.tr(v), ya, yb) - ya) / (yb - ya) * (h - m.t - m.b);
    ctx.strokeStyle = "#c9ccd6"; ctx.fillStyle = "#556"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, h - m.b); ctx.lineTo(w - m.r, h - m.b); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = ys.inv(ys.u0 + (ys.u1 - ys.u0) * i / 4);
      ctx.fillText(nice(v), m.l - 4, Y(v));
      ctx.strokeStyle = "#eef0f4"; ctx.beginPath(); ctx.moveTo(m.l + 1, Y(v)); ctx.lineTo(w - m.r, Y(v)); ctx.stroke();
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    if (o.intX) {  // integer axes (attempt counts) get whole-number ticks
      const step = Math.max(1, Math.ceil((xs.hi - xs.lo) / 6));
      for (let v = xs.lo; v <= xs.hi + 1e-9; v += step) ctx.fillText(nice(v), X(v), h - m.b + 4);
    } else for (let i = 0; i <= 4; i++) { const v = xs.inv(xs.u0 + (xs.u1 - xs.u0) * i / 4); ctx.fillText(nice(v), X(v), h - m.b + 4); }
    ctx.fillText(xlabel || "", (m.l + w - m.r) / 2, h - 14);
    ctx.save(); ctx.translate(12, (m.t + h - m.b) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle"; ctx.fillText(ylabel || "", 0, 0); ctx.restore();
    return { X, Y, m };
  }

  // A clipped value: a hollow triangle at the plot's edge, pointing the way it went.
  function clippedMark(ctx, x, y, dir) {
    const tip = dir < 0 ? 5 : -5;
    ctx.strokeStyle = "#d2402f"; ctx.beginPath();
    ctx.moveTo(x - 4, y - tip); ctx.lineTo(x + 4, y - tip); ctx.lineTo(x, y + tip); ctx.closePath(); ctx.stroke();
  }

  function emptyNote(ctx, w, h, text) {
    ctx.fillStyle = "#889"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, w / 2, h / 2);
  }

  // series: {points: [[i, value, id]], invalid: [[i, id]], attempts}; info: {label, direction}.
  // The line is the best so far in the metric's own direction; the y scale is `mode` (makeScale).
  function metricPlot(canvas, series, info, mode, onPick) {
    const { ctx, w, h } = setup(canvas);
    canvas.dataset.points = String(series.points.length);
    canvas.onclick = null;
    if (!series.attempts) { emptyNote(ctx, w, h, "no evaluations yet"); return; }
    const xs = linear([0, Math.max(1, series.attempts) + 1]);
    const ys = makeScale(series.points.map((p) => p[1]), mode);
    canvas.dataset.clipped = String(ys.clipped);
    const { X, Y, m } = axes(ctx, w, h, xs, ys, "attempt (in the order they finished)", info.label + (ys.clipped ? ` · ${ys.clipped} clipped` : ""), { intX: true, pad: 0.08 });
    ctx.strokeStyle = "rgba(210,64,47,.7)";
    for (const [i] of series.invalid) { ctx.beginPath(); ctx.moveTo(X(i), h - m.b); ctx.lineTo(X(i), h - m.b - 6); ctx.stroke(); }
    ctx.fillStyle = "rgba(45,143,184,.65)";
    for (const [i, v] of series.points) {
      if (ys.outside(v)) { clippedMark(ctx, X(i), Y(v), ys.outside(v)); continue; }
      ctx.beginPath(); ctx.arc(X(i), Y(v), 2.6, 0, 2 * Math.PI); ctx.fill();
    }
    const sign = info.direction === "minimize" ? -1 : 1;
    ctx.strokeStyle = "#e08a1e"; ctx.lineWidth = 2; ctx.beginPath();
    let best = null;
    for (const [i, v] of series.points) {
      if (best !== null && sign * v <= sign * best) continue;
      if (best === null) ctx.moveTo(X(i), Y(v)); else { ctx.lineTo(X(i), Y(best)); ctx.lineTo(X(i), Y(v)); }
      best = v;
    }
    if (best !== null) ctx.lineTo(X(series.attempts), Y(best));
    ctx.stroke(); ctx.lineWidth = 1;
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect(), id = nearest(series.points.map((p) => [p[2], X(p[0]), Y(p[1])]), ev.clientX - r.left, ev.clientY - r.top);
      if (id !== null && onPick) onPick(id);
    };
  }

  function nearest(pts, mx, my) {
    let best = null, bd = 64;
    for (const [id, x, y] of pts) { const d = (x - mx) ** 2 + (y - my) ** 2; if (d < bd) { bd = d; best = id; } }
    return best;
  }

  // The non-dominated points of [[id, a, b]] for directions da, db ("minimize"/"maximize").
  function paretoFront(pts, da, db) {
    const sa = da === "minimize" ? -1 : 1, sb = db === "minimize" ? -1 : 1;
    const order = [...pts].sort((p, q) => sa * q[1] - sa * p[1] || sb * q[2] - sb * p[2]);
    const front = [];
    let best = -Infinity;
    for (const [id, , b] of order) if (sb * b > best) { front.push(id); best = sb * b; }
    return front;
  }

  // Metric against metric, the Pareto front (under both metrics' directions) in red.
  function scatterPlot(canvas, pts, xi, yi, mode, onPick) {
    const { ctx, w, h } = setup(canvas);
    canvas.onclick = null;
    canvas.dataset.points = String(pts.length);
    if (!pts.length) { canvas.dataset.front = ""; emptyNote(ctx, w, h, "no candidate has both metrics"); return; }
    const xs = makeScale(pts.map((p) => p[1]), mode), ys = makeScale(pts.map((p) => p[2]), mode);
    const { X, Y } = axes(ctx, w, h, xs, ys, xi.label, yi.label);
    const front = paretoFront(pts, xi.direction, yi.direction), on = new Set(front);
    canvas.dataset.front = front.join(",");
    for (const [id, a, b] of pts) {
      if (xs.outside(a) || ys.outside(b)) { clippedMark(ctx, X(a), Y(b), ys.outside(b) || 1); continue; }
      ctx.fillStyle = on.has(id) ? "#d2402f" : "rgba(45,143,184,.5)";
      ctx.beginPath(); ctx.arc(X(a), Y(b), on.has(id) ? 4 : 2.5, 0, 2 * Math.PI); ctx.fill();
    }
    const fp = pts.filter((q) => on.has(q[0])).sort((u, v) => u[1] - v[1]);
    ctx.strokeStyle = "#d2402f"; ctx.beginPath();
    fp.forEach((q, k) => (k ? ctx.lineTo(X(q[1]), Y(q[2])) : ctx.moveTo(X(q[1]), Y(q[2]))));
    ctx.stroke();
    canvas.onclick = (ev) => {
      const r = canvas.getBoundingClientRect(), id = nearest(pts.map((p) => [p[0], X(p[1]), Y(p[2])]), ev.clientX - r.left, ev.clientY - r.top);
      if (id !== null && onPick) onPick(id);
    };
    return front;
  }

  // failures: {kinds, counts[kind][bin], totals[bin], edges}
  function failurePlot(canvas, f) {
    const { ctx, w, h } = setup(canvas);
    const nb = f.totals.length;
    if (!f.totals.some((t) => t > 0)) { emptyNote(ctx, w, h, "no evaluations yet"); return; }
    const yr = [0, 1];
    const { X, Y } = axes(ctx, w, h, [0, f.edges[nb]], yr, "attempt", "share of attempts failing", { intX: true, top: 26, pad: 0 });
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
  function mapPlot(canvas, grid, onPick, mode) {
    const { ctx, w, h } = setup(canvas);
    canvas.onclick = null;
    if (!grid.dims || !grid.dims.length) { emptyNote(ctx, w, h, grid.notes || "no MAP-Elites grid"); return; }
    const bx = grid.bins[0], by = grid.bins.length > 1 ? grid.bins[1] : 1;
    const m = { l: 58, r: 12, t: 10, b: 34 };
    const cw = (w - m.l - m.r) / bx, ch = (h - m.t - m.b) / by;
    const scores = Object.values(grid.cells).map((c) => c.score);
    const sc = makeScale(scores, mode || "robust");
    ctx.strokeStyle = "#eef0f4";
    for (let i = 0; i < bx; i++) for (let j = 0; j < by; j++) ctx.strokeRect(m.l + i * cw, h - m.b - (j + 1) * ch, cw, ch);
    for (const [key, c] of Object.entries(grid.cells)) {
      const [i, j] = key.split(",").map(Number);
      ctx.fillStyle = ramp(sc.norm(c.score));
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

  // curves: [{run_id, best: [[i, b]]}]
  function comparePlot(canvas, curves) {
    const { ctx, w, h } = setup(canvas);
    const all = curves.flatMap((c) => c.best.filter((p) => p[1] !== null));
    canvas.dataset.points = String(all.length);
    if (!all.length) { emptyNote(ctx, w, h, "no valid candidates yet"); return; }
    const xr = [0, Math.max(...all.map((p) => p[0])) + 1], yr = extent(all.map((p) => p[1]), 0.08);
    const metrics = [...new Set(curves.map((c) => c.metric))];
    const ylabel = metrics.length === 1 ? `best ${metrics[0]} so far (${curves[0].direction === "minimize" ? "lower" : "higher"} is better)` : "best so far (each run's primary metric)";
    const { X, Y } = axes(ctx, w, h, xr, yr, "attempt", ylabel, { intX: true, pad: 0 });
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

  window.SyslabCharts = { PALETTE, ramp, makeScale, paretoFront, metricPlot, scatterPlot, failurePlot, mapPlot, comparePlot, nice };
})();
