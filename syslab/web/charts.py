"""Run-level views for the browse page: score over evaluations, failures over time, cost by
model, the MAP-Elites grid, the Pareto front and the several-run comparison. Pure functions of a
`RunView` (no I/O besides reading the store), each returning a JSON-able dict."""

from __future__ import annotations

from typing import Any

from syslab.artifacts.heldout_rows import latest_heldout
from syslab.artifacts.schema import Node, NodeKind
from syslab.cli.progress import NOT_COUNTED, NOT_EVALUATED
from syslab.metric_text import from_score
from syslab.web.data import RunView, _finite

FAILURE_BINS = 20


def _attempts(view: RunView) -> list[Node]:
    """Candidate attempts (seed included, analyst notes excluded) in the order they finished."""
    nodes = [n for n in view.nodes.values() if n.kind != NodeKind.analysis]
    return sorted(nodes, key=lambda n: (n.finished_at or n.created_at or 0.0, n.id))


def score_series(view: RunView) -> dict[str, Any]:
    """Every finished attempt in order: its score (None when invalid) and the best so far."""
    points, best_line, fails = [], [], []
    best: float | None = None
    i = 0
    for n in _attempts(view):
        if n.status.value not in ("evaluated", "failed"):
            continue
        i += 1
        s = _finite(n.score) if n.valid else None
        if s is not None:
            points.append([i, s, n.id])
            if best is None or s > best:
                best = s
        else:
            fails.append([i, n.id])
        best_line.append([i, best])
    # `evaluations` is kept for old clients: it counts finished attempts (see evaluation_count).
    return {"points": points, "best": best_line, "invalid": fails, "attempts": i, "evaluations": i}


def failures_over_time(view: RunView, bins: int = FAILURE_BINS) -> dict[str, Any]:
    attempts = [n for n in _attempts(view) if n.status.value in ("evaluated", "failed")]
    kinds = sorted({n.failure_kind for n in attempts if n.failure_kind})
    n = len(attempts)
    nb = max(1, min(bins, n))
    counts = [[0] * nb for _ in kinds]
    totals = [0] * nb
    kidx = {k: j for j, k in enumerate(kinds)}
    for i, a in enumerate(attempts):
        b = min(nb - 1, i * nb // max(1, n))
        totals[b] += 1
        if a.failure_kind:
            counts[kidx[a.failure_kind]][b] += 1
    edges = [round(b * n / nb) for b in range(nb + 1)]
    return {"kinds": kinds, "counts": counts, "totals": totals, "edges": edges}


def cost_by_model(view: RunView) -> dict[str, Any]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for c in view.store.llm_calls():
        r = rows.setdefault(
            (c.model, c.role),
            {
                "model": c.model,
                "role": c.role,
                "calls": 0,
                "errors": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost_usd": 0.0,
                "latency_s": 0.0,
            },
        )
        r["calls"] += 1
        r["errors"] += 1 if c.error else 0
        r["prompt_tokens"] += c.prompt_tokens
        r["completion_tokens"] += c.completion_tokens
        r["cost_usd"] += c.cost_usd
        r["latency_s"] += c.latency_s
    return {"rows": sorted(rows.values(), key=lambda r: (-r["cost_usd"], r["model"], r["role"]))}


def _directions(view: RunView) -> dict[str, str]:
    """Metric directions from the task (when its directory is still there); else maximize."""
    return {k: m["direction"] for k, m in view.metric_specs.items()}


def evaluation_count(view: RunView) -> int:
    """Programs run through the evaluator, passed or failed (what --budget counts): attempts that
    yielded no program (unparsable, failed patch, duplicate, LLM error) or were cut off are not."""
    return sum(
        1
        for n in view.nodes.values()
        if n.kind != NodeKind.analysis
        and n.status.value in ("evaluated", "failed")
        and (n.failure_kind or "") not in NOT_EVALUATED | NOT_COUNTED
    )


def map_elites(view: RunView) -> dict[str, Any]:
    """The configured MAP-Elites grid rebuilt from node metrics and code: the elite (best score)
    of each cell. `diversity` depends on the archive at insertion time, which is not recorded, so
    it is recomputed against the final top-10 candidates (said so in `notes`)."""
    cached = view.cache.get("map_elites")
    if cached and cached[0] == view.rev:
        return cached[1]
    from syslab.search.settings import SearchSettings

    try:
        settings = SearchSettings.model_validate(view.store.manifest.config.get("search", {}))
    except Exception as e:  # an unreadable config is shown, not fatal
        return {"dims": [], "notes": f"search settings unreadable: {e}"}
    dims = list(settings.feature_dimensions)[:2]
    if not dims:
        return {"dims": [], "notes": "no feature dimensions configured"}
    from syslab.search.features import bin_index

    valid = [n for n in _attempts(view) if n.valid and _finite(n.score) is not None and n.commit]
    sigs: dict[int, Any] = {}
    refs: list[Any] = []
    notes = ""
    if "diversity" in dims and valid:
        from syslab.search.novelty import jaccard_estimate, signature

        top = sorted(valid, key=lambda n: -n.score)[:10]
        for n in valid:
            sigs[n.id] = signature(
                view.store.get_code(n.id) or "", settings.minhash_perms, settings.shingle_size
            )
        refs = [sigs[n.id] for n in top]
        notes = "diversity recomputed against the run's final top-10 candidates"

    def value(n: Node, dim: str) -> float | None:
        if dim == "code_length":
            return float(view.code_length(n.id))
        if dim == "diversity":
            others = [r for r in refs if r is not sigs[n.id]]
            return sum(1.0 - jaccard_estimate(sigs[n.id], r) for r in others) / len(others) if others else 0.0
        return n.metrics.get(dim)

    cells: dict[str, dict[str, Any]] = {}
    for n in valid:
        idx = []
        for d in dims:
            v = value(n, d)
            if v is None:
                break
            idx.append(bin_index(v, *settings.feature_range(d), settings.bins(d)))
        else:
            key = ",".join(map(str, idx))
            c = cells.setdefault(key, {"count": 0, "id": n.id, "score": n.score})
            c["count"] += 1
            if n.score > c["score"]:
                c["id"], c["score"] = n.id, n.score
    out = {
        "dims": dims,
        "bins": [settings.bins(d) for d in dims],
        "ranges": [list(settings.feature_range(d)) for d in dims],
        "cells": cells,
        "notes": notes,
    }
    view.cache["map_elites"] = (view.rev, out)
    return out


def pareto(view: RunView) -> dict[str, Any] | None:
    """Scatter of the first two configured Pareto metrics and the non-dominated set."""
    metrics = list(view.store.manifest.config.get("search", {}).get("pareto_metrics", []))[:2]
    if len(metrics) < 2:
        return None
    dirs = _directions(view)
    sign = [1.0 if dirs.get(m, "maximize") == "maximize" else -1.0 for m in metrics]
    pts = [
        (n.id, n.metrics[metrics[0]], n.metrics[metrics[1]])
        for n in _attempts(view)
        if n.valid and metrics[0] in n.metrics and metrics[1] in n.metrics
    ]
    # Sort by the first objective (better first); a point is on the front when it beats the best
    # second objective seen so far: O(n log n).
    order = sorted(pts, key=lambda p: (-sign[0] * p[1], -sign[1] * p[2]))
    front, best2 = [], None
    for nid, _, b in order:
        if best2 is None or sign[1] * b > best2:
            front.append(nid)
            best2 = sign[1] * b
    return {
        "metrics": metrics,
        "directions": [dirs.get(m, "maximize") for m in metrics],
        "points": [list(p) for p in pts],
        "front": front,
    }


def summary(view: RunView) -> dict[str, Any]:
    view.refresh()
    attempts = [n for n in view.nodes.values() if n.kind != NodeKind.analysis]
    best_id = view._best_id()
    return {
        "manifest": view.manifest,
        "rev": view.rev,
        "nodes": len(view.nodes),
        "attempts": len(attempts),
        "analyses": len(view.nodes) - len(attempts),
        "best": None if best_id is None else view.nodes[best_id].model_dump(mode="json"),
        "failure_counts": view.store.failure_counts(),
        "score": score_series(view),
        "failures": failures_over_time(view),
        "cost": cost_by_model(view),
        "pareto": pareto(view),
        # The latest held-out verdict per node, best search rank first (empty without a split).
        "heldout": [
            r.model_dump(mode="json")
            for r in sorted(
                latest_heldout(view.store.heldout()).values(),
                key=lambda r: (r.rank is None, r.rank or 0, r.node_id),
            )
        ],
    }


def compare(views: list[RunView]) -> dict[str, Any]:
    rows, curves = [], []
    for v in views:
        v.refresh()
        s = score_series(v)
        best_id = v._best_id()
        best = v.nodes[best_id] if best_id is not None else None
        cost = sum(r["cost_usd"] for r in cost_by_model(v)["rows"])
        m = v.manifest
        # The best in the primary metric's own value and unit, never a minimised metric's negation.
        spec = v.metric_specs.get(v.primary_metric or "", {})
        direction = spec.get("direction", "maximize")
        best_value = None
        if best is not None:
            best_value = best.metrics.get(v.primary_metric) if v.primary_metric else best.score
        rows.append(
            {
                "run_id": v.run_id,
                "task": m["task_name"],
                "status": m["status"],
                "proposer": m["proposer"],
                "seed": m["seed"],
                "attempts": s["evaluations"],
                "evaluations": evaluation_count(v),
                "valid": len(s["points"]),
                "failures": sum(v.store.failure_counts().values()),
                "metric": v.primary_metric or "score",
                "unit": spec.get("unit", ""),
                "direction": direction,
                "best_value": best_value,
                "best_score": None if best is None else best.score,
                "best_node": best_id,
                "cost_usd": cost,
                "verified": m["verified"],
            }
        )
        own = [[i, from_score(b, direction) if v.primary_metric else b] for i, b in s["best"]]
        curves.append(
            {"run_id": v.run_id, "best": own, "metric": v.primary_metric or "score", "direction": direction}
        )
    return {"rows": rows, "curves": curves}
