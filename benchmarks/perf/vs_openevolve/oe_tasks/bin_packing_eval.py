"""OpenEvolve evaluator for examples/bin_packing (its contract: evaluate(program_path) -> metrics).

A port of examples/bin_packing/evaluate.py that computes the same metric (excess_pct: bins
used beyond the L1 bound, percent, mean of the same five 5,000-item Weibull instances) by
importing the program and calling its priority() in-process, as OpenEvolve evaluators do.
The instance constants are read from the syslab evaluator's source, so both frameworks
pack exactly the same items. The cascade matches the syslab task's: stage 1 packs the
500-item quick instance and must reach excess_pct <= 15 (combined_score >= 0.5, the first
of OpenEvolve's default cascade thresholds), stage 2 is the full evaluation.
"""

from __future__ import annotations

import ast
import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np

SYSLAB_EVALUATOR = Path(__file__).resolve().parents[4] / "examples" / "bin_packing" / "evaluate.py"
_NAMES = (
    "CAPACITY",
    "WEIBULL_SHAPE",
    "WEIBULL_SCALE",
    "INSTANCE_SEEDS",
    "QUICK_SEED",
    "ITEMS_PER_INSTANCE",
)


def _constants(path: Path) -> dict[str, Any]:
    """The module-level literal constants of the syslab evaluator (without importing syslab)."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in _NAMES:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    missing = [n for n in _NAMES if n not in found]
    if missing:
        raise RuntimeError(f"{path}: constants {missing} not found")
    return found


_C = _constants(SYSLAB_EVALUATOR)
CAPACITY = _C["CAPACITY"]
QUICK_THRESHOLD_PCT = 15.0  # examples/bin_packing/task.toml, [[stages]] quick threshold


def weibull_instance(seed: int, n_items: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sizes = rng.weibull(_C["WEIBULL_SHAPE"], n_items) * _C["WEIBULL_SCALE"]
    return np.clip(np.rint(sizes), 1, CAPACITY).astype(np.float64)


def pack(items: np.ndarray, priority: Any) -> int:
    """Online packing with the program's priority; the same rules and checks as the syslab evaluator."""
    remaining = np.full(len(items) + 1, float(CAPACITY))
    n_open = 0
    for item in items:
        candidates = np.flatnonzero(remaining[: n_open + 1] >= item)  # open bins that fit, then a fresh one
        scores = np.asarray(priority(float(item), remaining[candidates]), dtype=np.float64)
        if scores.shape != candidates.shape:
            raise ValueError(f"priority returned shape {scores.shape} for {len(candidates)} bins")
        if not np.isfinite(scores).all():
            raise ValueError("priority returned a NaN or infinite score")
        chosen = candidates[int(scores.argmax())]
        remaining[chosen] -= item
        if chosen == n_open:
            n_open += 1
    return n_open


def _priority(program_path: str) -> Any:
    spec = importlib.util.spec_from_file_location("candidate_program", program_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {program_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.priority


def _metrics(program_path: str, seeds: tuple[int, ...], n_items: int) -> dict[str, float]:
    priority = _priority(program_path)
    excess, used_all, bounds = [], [], []
    for seed in seeds:
        items = weibull_instance(seed, n_items)
        lower = math.ceil(items.sum() / CAPACITY)
        used = pack(items, priority)
        excess.append(100.0 * (used - lower) / lower)
        used_all.append(used)
        bounds.append(lower)
    excess_pct = float(np.mean(excess))
    return {
        "excess_pct": excess_pct,
        "bins_used": float(np.mean(used_all)),
        "l1_bound": float(np.mean(bounds)),
        # Higher is better for OpenEvolve; 0.5 is exactly the syslab quick stage's 15% threshold.
        "combined_score": 1.0 - excess_pct / (2 * QUICK_THRESHOLD_PCT),
    }


def evaluate_stage1(program_path: str) -> dict[str, float]:
    """The quick stage: one 500-item instance."""
    return _metrics(program_path, (_C["QUICK_SEED"],), 500)


def evaluate_stage2(program_path: str) -> dict[str, float]:
    """The full evaluation: five 5,000-item instances."""
    return _metrics(program_path, tuple(_C["INSTANCE_SEEDS"]), _C["ITEMS_PER_INSTANCE"])


def evaluate(program_path: str) -> dict[str, float]:
    """Direct (non-cascade) evaluation: the full one."""
    return evaluate_stage2(program_path)
