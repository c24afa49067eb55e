"""Evaluator for prism: max KV-cache pressure of model placements over 50 test cases, leaderboard score.

Cases: syslab.adrs.prism_sim.test_cases (the statement's generator, seed 42).
Per case: 100·sqrt(clamp((RR − KVPR)/(RR − ideal), 0, 1)) with RR the
round-robin placement's max KVPR and ideal = total pressure / total free
memory; score = mean over cases. Over-capacity or incomplete placements fail.

Split evaluation: the models cross to the candidate as plain rows (adapter.py
builds Model objects there) and the placement comes back as model indices per
GPU; capacity, completeness and KVPR are checked and computed here on this
process's original models.
"""

from __future__ import annotations

import time
from typing import Any

from syslab.adrs.prism_sim import (
    as_rows,
    case_score,
    check_placement,
    ideal_kvpr,
    max_kvpr,
    round_robin_kvpr,
    test_cases,
)
from syslab.evaluators.handle import Candidate


def evaluate(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    place = candidate.function("compute_model_placement")
    scores, kvprs, baselines, ideals = [], [], [], []
    for i, (gpus, models) in enumerate(test_cases()):
        groups = check_placement(place(gpus, as_rows(models)), gpus, models, i)
        kvpr = max_kvpr(groups)
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
