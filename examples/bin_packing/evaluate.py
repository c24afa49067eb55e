"""Evaluator for online bin packing (FunSearch's Weibull setting).

Items arrive one at a time and must be placed at once, never moved: the
setting of placing VMs on hosts as requests arrive. For each item the
candidate's `priority(item, bins)` scores every bin that can take it
(remaining capacities, plus one fresh empty bin at the end) and the item
goes into the highest-scoring one. The metric is how many bins the
packing uses beyond the L1 lower bound ceil(sum(items) / capacity).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from syslab.evaluators import InvalidOutput

CAPACITY = 100
WEIBULL_SHAPE = 3.0
WEIBULL_SCALE = 45.0
INSTANCE_SEEDS = (0, 1, 2, 3, 4)  # fixed: every candidate sees the same five instances
ITEMS_PER_INSTANCE = 5000


def load_program(program_path: str | Path) -> ModuleType:
    """Import the candidate file as a fresh module."""
    path = Path(program_path)
    spec = importlib.util.spec_from_file_location(f"candidate_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise InvalidOutput(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def weibull_instance(seed: int, n_items: int) -> np.ndarray:
    """Integer item sizes ~ Weibull(shape 3, scale 45), clipped to [1, capacity]."""
    rng = np.random.default_rng(seed)
    sizes = rng.weibull(WEIBULL_SHAPE, n_items) * WEIBULL_SCALE
    return np.clip(np.rint(sizes), 1, CAPACITY).astype(np.float64)


def pack(items: np.ndarray, priority: Any) -> int:
    """Pack items online with the candidate's priority; return the number of bins used."""
    remaining = np.full(len(items) + 1, float(CAPACITY))
    n_open = 0
    for item in items:
        fits = np.flatnonzero(remaining[:n_open] >= item)
        candidates = np.append(fits, n_open)  # the open bins that fit, then one fresh bin
        scores = priority(float(item), remaining[candidates].copy())
        scores = np.asarray(scores, dtype=np.float64) if not isinstance(scores, np.ndarray) else scores
        if scores.shape != candidates.shape:
            raise InvalidOutput(
                f"priority returned shape {scores.shape} for {len(candidates)} bins (expected one score per bin)"
            )
        if not np.all(np.isfinite(scores)):
            raise InvalidOutput("priority returned a NaN or infinite score")
        chosen = candidates[int(np.argmax(scores))]
        remaining[chosen] -= item
        if chosen == n_open:
            n_open += 1
    return n_open


def evaluate(
    program_path: str, seeds: tuple[int, ...] = INSTANCE_SEEDS, n_items: int = ITEMS_PER_INSTANCE
) -> dict[str, Any]:
    """Mean excess bins over the L1 bound, in percent, over seeded Weibull instances."""
    module = load_program(program_path)
    priority = getattr(module, "priority", None)
    if not callable(priority):
        raise InvalidOutput("the program defines no function priority(item, bins)")
    excess, bins_used, bounds = [], [], []
    for seed in seeds:
        items = weibull_instance(seed, n_items)
        lower = math.ceil(items.sum() / CAPACITY)
        used = pack(items, priority)
        excess.append(100.0 * (used - lower) / lower)
        bins_used.append(used)
        bounds.append(lower)
    return {
        "excess_pct": float(np.mean(excess)),
        "bins_used": float(np.mean(bins_used)),
        "l1_bound": float(np.mean(bounds)),
        "artifacts": {"per_instance_excess_pct": excess, "n_items": n_items, "seeds": list(seeds)},
    }


def evaluate_quick(program_path: str) -> dict[str, Any]:
    """Cascade stage 1: one small instance, to reject broken or wildly bad candidates cheaply."""
    return evaluate(program_path, seeds=(100,), n_items=500)


if __name__ == "__main__":
    print(evaluate(sys.argv[1]))
