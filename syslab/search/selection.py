"""Parent and inspiration selection: pure functions of scores and an explicit RNG.

Scores are direction-normalised (higher is better). Every function draws only from
the `random.Random` it is given, so the same RNG state gives the same choice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

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
    similarity: Callable[[int], Sequence[float]] | None = None,
    exclude: Sequence[int] = (),
) -> list[int]:
    """The n_top best ids, then n_diverse ids each least similar to those already chosen.

    `similarity(anchor)` gives the similarity in [0, 1] of every id in `ids` (same order) to
    one anchor id, e.g. MinHash Jaccard computed in one vectorised step; without it the
    diverse picks are uniform among the rest. `exclude` (the parent) is never returned but
    counts as chosen when measuring diversity. Greedy max-min distance; ties break by the RNG.
    """
    if len(ids) != len(scores):
        raise ValueError("ids and scores differ in length")
    banned = set(exclude)
    first: dict[int, int] = {}  # id -> its first position in ids
    for pos, i in enumerate(ids):
        if i not in banned and i not in first:
            first[i] = pos
    order = sorted(first, key=lambda i: (-scores[first[i]], i))
    chosen = order[:n_top]
    rest = order[n_top:]
    n_pick = min(n_diverse, len(rest))
    if n_pick == 0:
        return chosen
    if similarity is None:
        for _ in range(n_pick):
            chosen.append(rest.pop(rng.randrange(len(rest))))
        return chosen
    pos = np.fromiter((first[i] for i in rest), dtype=np.intp, count=len(rest))
    dist = np.ones(len(rest))  # distance of each candidate to its closest chosen anchor
    for a in [*exclude, *chosen]:
        dist = np.minimum(dist, 1.0 - np.asarray(similarity(a), dtype=float)[pos])
    for n in range(n_pick):
        tied = np.flatnonzero(dist >= dist.max() - 1e-12)
        k = int(tied[rng.randrange(len(tied))])
        chosen.append(rest[k])
        dist[k] = -np.inf  # taken
        if n + 1 < n_pick:
            dist = np.minimum(dist, 1.0 - np.asarray(similarity(rest[k]), dtype=float)[pos])
    return chosen
