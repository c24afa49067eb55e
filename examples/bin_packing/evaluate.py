"""Evaluator for online bin packing (FunSearch's Weibull setting).

Items arrive one at a time and must be placed at once, never moved: the
setting of placing VMs on hosts as requests arrive. For each item the
candidate's `priority(item, bins)` scores every bin that can take it
(remaining capacities, plus one fresh empty bin at the end) and the item
goes into the highest-scoring one. The metric is how many bins the
packing uses beyond the L1 lower bound ceil(sum(items) / capacity).

Split evaluation: the candidate runs in its own sandboxed process and this
evaluator reaches `priority` through the `candidate` handle; it sends a copy
of the remaining capacities and gets plain numbers back, and does all the
packing and counting itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate

CAPACITY = 100
WEIBULL_SHAPE = 3.0
WEIBULL_SCALE = 45.0
# Fixed, so every candidate sees the same five instances, and secret: they live here, on the trusted
# side, which the candidate cannot read; with public seeds a candidate could regenerate the instance
# (the generator is no secret) and know every future item: offline packing posing as online.
INSTANCE_SEEDS = (
    0x197790C1188CD9936BF9AEABE6EB7982,
    0xE4AB61A9F68A77704EEBF3A83FBBC004,
    0xAAD35A63633065AD03AD2D003E27293F,
    0x7619C56B57856F5C24F0A1BBDEFCEDF5,
    0x3CBC22B370A6825F5EE8E305C4F54EAC,
)
QUICK_SEED = 0x080EB1D8700988BFBF92A3DDB55A441D
ITEMS_PER_INSTANCE = 5000


def weibull_instance(seed: int, n_items: int) -> np.ndarray:
    """Integer item sizes ~ Weibull(shape 3, scale 45), clipped to [1, capacity]."""
    rng = np.random.default_rng(seed)
    sizes = rng.weibull(WEIBULL_SHAPE, n_items) * WEIBULL_SCALE
    return np.clip(np.rint(sizes), 1, CAPACITY).astype(np.float64)


def _scores(raw: Any, n_bins: int) -> np.ndarray:
    try:
        scores = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InvalidOutput(f"priority returned {type(raw).__name__}, not one number per bin") from None
    if scores.shape != (n_bins,):
        raise InvalidOutput(
            f"priority returned shape {scores.shape} for {n_bins} bins (expected one score per bin)"
        )
    if not np.isfinite(scores).all():
        raise InvalidOutput("priority returned a NaN or infinite score")
    return scores


def pack_all(instances: list[np.ndarray], priority: Any) -> list[int]:
    """Pack every instance online with the candidate's priority; the number of bins each uses.

    The instances are independent, so step i asks for the i-th item's scores of all of them in
    one request (`priority.map`): the same calls as packing them one after the other, in a fifth
    of the round trips to the candidate's process."""
    remaining = [np.full(len(items) + 1, float(CAPACITY)) for items in instances]
    n_open = [0] * len(instances)
    for i in range(max(len(items) for items in instances)):
        live = [k for k, items in enumerate(instances) if i < len(items)]
        candidates, calls = {}, []
        for k in live:
            item = instances[k][i]
            # The open bins that fit, then one fresh bin: bin n_open is still empty and every item
            # fits an empty bin (sizes are clipped to the capacity), so it is always the last match.
            candidates[k] = np.flatnonzero(remaining[k][: n_open[k] + 1] >= item)
            calls.append((float(item), remaining[k][candidates[k]]))
        for k, raw in zip(live, priority.map(calls), strict=True):
            chosen = candidates[k][int(_scores(raw, len(candidates[k])).argmax())]
            remaining[k][chosen] -= instances[k][i]
            if chosen == n_open[k]:
                n_open[k] += 1
    return n_open


def evaluate(
    candidate: Candidate, seeds: tuple[int, ...] = INSTANCE_SEEDS, n_items: int = ITEMS_PER_INSTANCE
) -> dict[str, Any]:
    """Mean excess bins over the L1 bound, in percent, over seeded Weibull instances."""
    priority = candidate.function("priority")
    excess, bins_used, bounds = [], [], []
    instances = [weibull_instance(seed, n_items) for seed in seeds]
    for items, used in zip(instances, pack_all(instances, priority), strict=True):
        lower = math.ceil(items.sum() / CAPACITY)
        excess.append(100.0 * (used - lower) / lower)
        bins_used.append(used)
        bounds.append(lower)
    return {
        "excess_pct": float(np.mean(excess)),
        "bins_used": float(np.mean(bins_used)),
        "l1_bound": float(np.mean(bounds)),
        "artifacts": {"per_instance_excess_pct": excess, "n_items": n_items, "seeds": list(seeds)},
    }


def evaluate_quick(candidate: Candidate) -> dict[str, Any]:
    """Cascade stage 1: one small instance, to reject broken or wildly bad candidates cheaply."""
    return evaluate(candidate, seeds=(QUICK_SEED,), n_items=500)
