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


def as_rows(models: list[Model]) -> list[tuple[str, int, int, int, int]]:
    """The models as plain rows (name, size, rate, slo, cur_gpu_id): what crosses to the candidate."""
    return [(m.model_name, m.model_size, m.req_rate, m.slo, m.cur_gpu_id) for m in models]


def check_placement(result: object, gpus: int, models: list[Model], case: int) -> list[list[Model]]:
    """The placement's per-GPU model lists, from {gpu: [model index]}; every model once, within memory.

    `result` is decoded plain data from the candidate; the models returned are the caller's
    originals, so sizes and rates are the ones given, whatever the candidate did to its copies.
    """
    where = f"case {case}"
    if not isinstance(result, dict):
        raise InvalidOutput(
            f"{where}: compute_model_placement returned {type(result).__name__}, expected dict"
        )
    groups: list[list[Model]] = []
    seen: set[int] = set()
    for gpu, assigned in result.items():
        if type(gpu) is not int or not 0 <= gpu < gpus:
            raise InvalidOutput(f"{where}: GPU id {gpu!r} is not in 0..{gpus - 1}")
        if not isinstance(assigned, list):
            raise InvalidOutput(f"{where}: GPU {gpu} maps to {type(assigned).__name__}, expected a list")
        group = []
        for index in assigned:
            if type(index) is not int or not 0 <= index < len(models):
                raise WrongAnswer(f"{where}: GPU {gpu} holds a model that was not given (foreign model)")
            if index in seen:
                raise WrongAnswer(f"{where}: a model is placed more than once")
            seen.add(index)
            group.append(models[index])
        used = sum(m.model_size for m in group)
        if used > GPU_MEM_SIZE:
            raise WrongAnswer(f"{where}: GPU {gpu} holds {used} GB > {GPU_MEM_SIZE} GB (over capacity)")
        groups.append(group)
    if len(seen) != len(models):
        raise WrongAnswer(f"{where}: {len(models) - len(seen)} input models not placed")
    return groups
