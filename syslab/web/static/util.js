// syslab browse: shared helpers (DOM, fetching, metric text) and the page's state, window.syslab.
// Metric text follows syslab/metric_text.py: 4 significant digits, the metric's own unit, and its
// direction in words; a minimised metric is never shown as its negated score.
"use strict";
(function () {
  const S = {
    runs: [], run: null, G: null, idx: new Map(), selected: null, matches: new Set(),
    view: { kx: 1, ky: 1, tx: 0, ty: 0 }, touched: false, colour: "score", scale: "robust", grid: null, tab: "graph",
    firstPaint: false, pollTimer: null, chartsRev: -1, logicRev: -1, fillCache: null, summary: null,
  };
  window.syslab = S;  // for tests and the curious: state, plus the modules' functions

  S.$ = (id) => document.getElementById(id);

  S.api = async function (path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  };
  S.runUrl = (p) => `/api/runs/${encodeURIComponent(S.run)}/${p}`;
  S.evidenceUrl = (sha) => S.runUrl(`evidence/${sha}`);

  // Elements from text only: run data (candidate- or LLM-written) never becomes HTML.
  S.el = function (tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
      else if (k === "bg") e.style.background = v;  // CSSOM: allowed by the page's CSP, inline style="" is not
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };

  // Python's "%.4g": 4.076, 98, -4.5, 1.234e+06.
  function sig(v, digits) {
    const d = digits || 4;
    if (v === 0) return "0";
    if (!isFinite(v)) return String(v);
    const exp = Math.floor(Math.log10(Math.abs(+v.toPrecision(d))));
    if (exp < -4 || exp >= d) {
      const [m, e] = v.toExponential(d - 1).split("e");
      const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
      const n = Math.abs(+e);
      return `${mant}e${+e < 0 ? "-" : "+"}${n < 10 ? "0" + n : n}`;
    }
    return String(+v.toPrecision(d));
  }
  S.sig = sig;

  // `4.076 %`, `64.58 $/h`; "none" for a missing value (as metric_text.fmt).
  S.fmt = function (v, unit) {
    if (v === null || v === undefined || Number.isNaN(v)) return "none";
    const t = sig(+v);
    if (!unit) return t;
    return unit === "%" ? t + unit : `${t} ${unit}`;
  };
  S.better = (direction) => (direction === "minimize" ? "lower is better" : "higher is better");

  // What a metric key means on this run: "score" (the direction-normalised search score, shown
  // only when the task is unknown) or a metric name; its unit, direction and a label in words.
  S.metricInfo = function (key) {
    const G = S.G, specs = (G && G.metric_specs) || {};
    if (key === "score" || !key) return { key: "score", name: "score", unit: "", direction: "maximize", way: "higher is better", label: "score, higher is better" };
    const sp = specs[key];
    // A metric of a task that moved: its direction is unknown, and the page says so.
    const direction = sp ? sp.direction : "maximize", unit = sp ? sp.unit : "", way = sp ? S.better(direction) : "direction unknown";
    return { key, name: key, unit, direction, way, label: `${key}${unit ? " (" + unit + ")" : ""}, ${way}` };
  };
  // Values of a metric key, one per graph node (null where none).
  S.metricValues = (key) => (key === "score" ? S.G.score : (S.G.metrics && S.G.metrics[key]) || S.G.id.map(() => null));
  // The keys a person can choose: the task's metrics (primary first); without the task, the
  // direction-normalised score first, then the metrics as recorded.
  S.metricKeys = function () {
    const G = S.G; if (!G) return ["score"];
    const names = Object.keys(G.metrics || {});
    if (!G.primary_metric || !names.includes(G.primary_metric)) return ["score", ...names];
    return [G.primary_metric, ...names.filter((k) => k !== G.primary_metric)];
  };
  S.defaultMetric = () => S.metricKeys()[0];

  S.section = function (id, title, open, ...body) {
    const d = S.el("details", { id }, S.el("summary", { text: title }), ...body);
    d.open = !!open;
    return d;
  };
  S.nodeLink = (id) => S.el("a", { class: "node-link", text: `#${id}`, onclick: () => S.pick(id) });
})();
