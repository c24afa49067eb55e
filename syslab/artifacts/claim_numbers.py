"""The numbers behind a claim: how many measurements, their mean and interval, and the held-out score.

A node measured once has n = 1 and no interval. A node re-measured for noise (syslab.engine.contest:
`node.data["repeats"]["metrics"][metric]` = {"n", "mean", "ci95", "values"}) has n, the mean and
the 95% interval recorded there, read as recorded, not re-derived. Other shapes are read too:
one summary ({"n", "mean", "ci" | "interval" | "low"/"high", "values"}), one per metric
({metric: summary}), or a plain list of values.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from pydantic import BaseModel

from syslab.artifacts.schema import Node

REPEATS_KEY = "repeats"


class Measured(BaseModel):
    n: int
    mean: float
    interval: list[float] | None = None  # [low, high]; None with one measurement


def _interval(summary: dict[str, Any]) -> list[float] | None:
    ci = summary.get("ci95", summary.get("ci", summary.get("interval")))
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        return [float(ci[0]), float(ci[1])]
    if isinstance(ci, dict) and "low" in ci and "high" in ci:
        return [float(ci["low"]), float(ci["high"])]
    if "low" in summary and "high" in summary:
        return [float(summary["low"]), float(summary["high"])]
    return None


def _from_values(values: list[float]) -> Measured:
    n, mean = len(values), statistics.fmean(values)
    if n < 2:
        return Measured(n=n, mean=mean)
    # A normal-approximation 95% interval of the mean: a stated number a reviewer can recompute.
    half = 1.96 * statistics.stdev(values) / math.sqrt(n)
    return Measured(n=n, mean=mean, interval=[mean - half, mean + half])


def measured(node: Node, metric: str) -> Measured | None:
    """The node's measurement of `metric`: repeated (n > 1) where recorded, else its one value."""
    rep = node.data.get(REPEATS_KEY)
    if isinstance(rep, dict) and isinstance(rep.get("metrics"), dict):  # syslab.engine.contest's record
        rep = rep["metrics"].get(metric)
    elif isinstance(rep, dict) and isinstance(rep.get(metric), (dict, list)):
        rep = rep[metric]
    if isinstance(rep, list) and rep and all(isinstance(v, (int, float)) for v in rep):
        return _from_values([float(v) for v in rep])
    if isinstance(rep, dict):
        values = rep.get("values")
        if rep.get("n") is not None and rep.get("mean") is not None:
            return Measured(n=int(rep["n"]), mean=float(rep["mean"]), interval=_interval(rep))
        if isinstance(values, list) and values:
            return _from_values([float(v) for v in values])
    value = node.metrics.get(metric)
    return None if value is None else Measured(n=1, mean=float(value))


def same_number(stated: float | None, actual: float | None, rel: float = 1e-9) -> bool:
    """Do a stated and a recorded number agree (to float precision; both missing agrees)?"""
    if stated is None or actual is None:
        return stated is None and actual is None
    if math.isinf(stated) or math.isinf(actual):
        return stated == actual
    return abs(stated - actual) <= rel * max(1.0, abs(stated), abs(actual))
