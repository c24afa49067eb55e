"""Evaluator for prism: max KV-cache pressure of model placements over 50 test cases, leaderboard score.

Cases: syslab.adrs.prism_sim.test_cases (the statement's generator, seed 42).
Per case: 100·sqrt(clamp((RR − KVPR)/(RR − ideal), 0, 1)) with RR the
round-robin placement's max KVPR and ideal = total pressure / total free
memory; score = mean over cases. Over-capacity or incomplete placements fail.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from syslab.adrs.common import load_candidate, seed_everything
from syslab.adrs.prism_sim import (
    case_score,
    check_placement,
    ideal_kvpr,
    max_kvpr,
    round_robin_kvpr,
    test_cases,
)


def evaluate(program_path: str) -> dict:
    t0 = time.perf_counter()
    program = load_candidate(
        program_path, "compute_model_placement", str(Path(__file__).parent / "task.toml")
    )
    scores, kvprs, baselines, ideals = [], [], [], []
    for i, (gpus, models) in enumerate(test_cases()):
        seed_everything(0)
        # The candidate gets copies: whatever it does to them, KVPR is computed on the originals.
        copies = [replace(m) for m in models]
        result = program.compute_model_placement(gpu_num=gpus, models=copies)
        original = {id(c): m for c, m in zip(copies, models, strict=True)}
        groups = check_placement(result, gpus, copies, i)
        kvpr = max_kvpr([[original[id(c)] for c in g] for g in groups])
        base, ideal = round_robin_kvpr(gpus, models), ideal_kvpr(gpus, models)
        scores.append(case_score(kvpr, base, ideal))
        kvprs.append(kvpr)
        baselines.append(base)
        ideals.append(ideal)
    n = len(scores)
    return {
        "score": sum(scores) / n,
        "avg_kvpr": sum(kvprs) / n,
        "baseline_kvpr": sum(baselines) / n,
        "optimal_kvpr": sum(ideals) / n,
        "cases": float(n),
        "eval_wall_s": time.perf_counter() - t0,
    }
