"""Parent and inspiration selection: pure functions of scores and an explicit RNG.

Scores are direction-normalised (higher is better). Every function draws only from
the `random.Random` it is given, so the same RNG state gives the same choice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def _weighted_index(weights: Sequence[float], rng: random.Random) -> int:
    total = math.fsum(weights)
    if not total > 0.0:  # all zero (or NaN): fall back to uniform
        return rng.randrange(len(weights))
    x = rng.random() * total
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1  # rounding at the top end


def _ranked(scores: Sequence[float]) -> list[int]:
    """Indices from best to worst; ties keep the earlier index first."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def _need(scores: Sequence[float]) -> None:
    if not scores:
        raise ValueError("cannot select from an empty pool")


def power_law_rank(scores: Sequence[float], alpha: float, rng: random.Random) -> int:
    """Pick an index with probability proportional to rank ** -alpha (rank 1 = best).

    alpha = 0 is uniform; larger alpha concentrates on the best.
    """
    _need(scores)
    order = _ranked(scores)
    weights = [(r + 1) ** -alpha for r in range(len(order))]
    return order[_weighted_index(weights, rng)]


def weighted_sigmoid(
    scores: Sequence[float],
    lam: float,
    midpoint: float | None,
    rng: random.Random,
    children_counts: Sequence[int] | None = None,
) -> int:
    """Sigmoid of the score around a midpoint, divided by (1 + children) when counts are given.

    Scores are normalised by the pool's range first so that lam means the same thing
    whatever the metric's units. The children term favours members not yet explored.
    """
    _need(scores)
    mid = statistics_median(scores) if midpoint is None else midpoint
    spread = max(scores) - min(scores)
    spread = spread if spread > 0 else 1.0
    weights = []
    for i, s in enumerate(scores):
        z = max(-60.0, min(60.0, lam * (s - mid) / spread))
        w = 1.0 / (1.0 + math.exp(-z))
        if children_counts is not None:
            w /= 1.0 + children_counts[i]
        weights.append(w)
    return _weighted_index(weights, rng)


def statistics_median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def tournament(scores: Sequence[float], k: int, rng: random.Random) -> int:
    """Best of k distinct indices drawn uniformly (k >= len(scores): always the best)."""
    _need(scores)
    k = max(1, min(k, len(scores)))
    entrants = rng.sample(range(len(scores)), k)
    return min(entrants, key=lambda i: (-scores[i], i))


def uniform_from_front(front_ids: Sequence[T], rng: random.Random) -> T:
    """A uniformly random member of the Pareto front."""
    if not front_ids:
        raise ValueError("cannot select from an empty Pareto front")
    return front_ids[rng.randrange(len(front_ids))]


def pick_inspirations(
    ids: Sequence[int],
    scores: Sequence[float],
    n_top: int,
    n_diverse: int,
    rng: random.Random,
    similarity: Callable[[Sequence[int], int], Sequence[float]] | None = None,
    exclude: Sequence[int] = (),
) -> list[int]:
    """The n_top best ids, then n_diverse ids each least similar to those already chosen.

    `similarity(candidates, anchor)` gives each candidate's similarity in [0, 1] to one
    anchor id (batched so callers can vectorise, e.g. MinHash Jaccard); without it the
    diverse picks are uniform among the rest. `exclude` (the parent) is never returned but
    counts as chosen when measuring diversity. Greedy max-min distance; ties break by the RNG.
    """
    if len(ids) != len(scores):
        raise ValueError("ids and scores differ in length")
    banned = set(exclude)
    seen: set[int] = set()
    pool: list[tuple[int, float]] = []
    for i, s in zip(ids, scores, strict=True):
        if i not in banned and i not in seen:
            seen.add(i)
            pool.append((i, s))
    pool.sort(key=lambda p: (-p[1], p[0]))
    chosen = [i for i, _ in pool[:n_top]]
    rest = [i for i, _ in pool[n_top:]]
    anchors = [*exclude, *chosen]
    dist: list[float] | None = None
    if similarity is not None and anchors and rest:
        # distance of each candidate to its closest anchor, updated as picks are added
        dist = [1.0] * len(rest)
        for a in anchors:
            dist = [min(d, 1.0 - s) for d, s in zip(dist, similarity(rest, a), strict=True)]
    for _ in range(min(n_diverse, len(rest))):
        if dist is None:
            k = rng.randrange(len(rest))
        else:
            best = max(dist)
            tied = [j for j, d in enumerate(dist) if d >= best - 1e-12]
            k = tied[rng.randrange(len(tied))]
        pick = rest.pop(k)
        chosen.append(pick)
        if dist is not None:
            dist.pop(k)
            if rest:
                dist = [min(d, 1.0 - s) for d, s in zip(dist, similarity(rest, pick), strict=True)]  # type: ignore[misc]
    return chosen
