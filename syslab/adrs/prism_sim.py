"""PRISM model placement: test cases, KV-cache pressure (KVPR) and the leaderboard's per-case score.

A GPU holding models M has KVPR = Σ_{m∈M} req_rate/slo / (GPU_MEM − Σ size):
the request pressure per GB left for the KV cache. A placement's cost is the
largest KVPR over its GPUs. Test cases follow the problem statement: 50 cases,
5-9 GPUs, 2 models per GPU, sizes 10-29 GB, rates 1-9 req/s, SLOs 5-9, drawn
in that order from numpy's legacy generator seeded with 42 (so they are the
leaderboard's cases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from syslab.evaluators import InvalidOutput, WrongAnswer

GPU_MEM_SIZE = 80  # GB


@dataclass
class Model:
    model_name: str
    model_size: int  # GB
    req_rate: int  # requests per second
    slo: int  # latency target
    cur_gpu_id: int


def test_cases(count: int = 50, seed: int = 42) -> list[tuple[int, list[Model]]]:
    rng = np.random.RandomState(seed)
    cases = []
    for _ in range(count):
        gpus = int(rng.randint(5, 10))
        models = []
        for j in range(2 * gpus):
            size, rate, slo = int(rng.randint(10, 30)), int(rng.randint(1, 10)), int(rng.randint(5, 10))
            models.append(Model(f"model_{j}", size, rate, slo, j))
        cases.append((gpus, models))
    return cases


def max_kvpr(groups: list[list[Model]]) -> float:
    """Largest KVPR over the GPUs; a full GPU (no KV memory left) counts as pressure 1e6."""
    worst = 0.0
    for models in groups:
        free = GPU_MEM_SIZE - sum(m.model_size for m in models)
        load = sum(m.req_rate / m.slo for m in models)
        worst = max(worst, load / free if free > 0 else 1e6)
    return worst


def round_robin_kvpr(gpus: int, models: list[Model]) -> float:
    """The 0-point anchor: model i on GPU i mod gpus."""
    return max_kvpr([models[g::gpus] for g in range(gpus)])


def ideal_kvpr(gpus: int, models: list[Model]) -> float:
    """The 100-point anchor: all request pressure spread evenly over all free memory (a lower bound)."""
    free = gpus * GPU_MEM_SIZE - sum(m.model_size for m in models)
    return sum(m.req_rate / m.slo for m in models) / free if free > 0 else 0.0


def case_score(solution: float, baseline: float, ideal: float) -> float:
    """100·sqrt(clamped fraction of the way from the round-robin KVPR to the ideal one)."""
    if baseline <= ideal:
        return 100.0 if solution <= ideal else 0.0
    frac = max(0.0, min(1.0, (baseline - solution) / (baseline - ideal)))
    return 100.0 * math.sqrt(frac)


def check_placement(result, gpus: int, models: list[Model], case: int) -> list[list[Model]]:
    """The placement's per-GPU model lists; every input model exactly once, within memory."""
    where = f"case {case}"
    if not isinstance(result, dict):
        raise InvalidOutput(
            f"{where}: compute_model_placement returned {type(result).__name__}, expected dict"
        )
    groups = []
    for gpu, assigned in result.items():
        if isinstance(gpu, bool) or not isinstance(gpu, (int, np.integer)) or not 0 <= gpu < gpus:
            raise InvalidOutput(f"{where}: GPU id {gpu!r} is not in 0..{gpus - 1}")
        if not isinstance(assigned, list):
            raise InvalidOutput(f"{where}: GPU {gpu} maps to {type(assigned).__name__}, expected a list")
        groups.append(assigned)
    placed = [id(m) for g in groups for m in g]
    wanted = {id(m) for m in models}
    if len(placed) != len(set(placed)):
        raise WrongAnswer(f"{where}: a model is placed more than once")
    if set(placed) != wanted:
        missing = len(wanted - set(placed))
        raise WrongAnswer(f"{where}: {missing} input models not placed (or foreign models returned)")
    sizes = {id(m): m.model_size for m in models}  # as given, not as the candidate may have changed them
    for gpu, assigned in result.items():
        used = sum(sizes[id(m)] for m in assigned)
        if used > GPU_MEM_SIZE:
            raise WrongAnswer(f"{where}: GPU {gpu} holds {used} GB > {GPU_MEM_SIZE} GB (over capacity)")
    return groups
