"""Pareto dominance and crowding, pure functions over objective vectors (higher is better)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """a Pareto-dominates b (all objectives maximised): no worse anywhere, better somewhere."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def crowding_distances(points: Sequence[Sequence[float]]) -> list[float]:
    """NSGA-II crowding distance; boundary points get infinity."""
    n = len(points)
    dist = [0.0] * n
    if n == 0:
        return dist
    for k in range(len(points[0])):
        order = sorted(range(n), key=lambda i: points[i][k])
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue
        for j in range(1, n - 1):
            dist[order[j]] += (points[order[j + 1]][k] - points[order[j - 1]][k]) / (hi - lo)
    return dist
