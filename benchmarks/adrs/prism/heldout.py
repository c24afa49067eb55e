"""Held-out evaluation for prism: 50 other placement cases from the same generator, another seed.

The search scores the leaderboard's 50 cases (seed 42); these come from the same generator
(syslab.adrs.prism_sim.test_cases) with a seed kept here, with the same checks and per-case score.
syslab runs this after the search, on the best candidates, never during it.
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

HELDOUT_SEED = 450579705  # secret (numpy's legacy generator takes a 32-bit seed)
CASES = 50


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    place = candidate.function("compute_model_placement")
    scores, kvprs = [], []
    for i, (gpus, models) in enumerate(test_cases(CASES, HELDOUT_SEED)):
        groups = check_placement(place(gpus, as_rows(models)), gpus, models, i)
        kvpr = max_kvpr(groups)
        scores.append(case_score(kvpr, round_robin_kvpr(gpus, models), ideal_kvpr(gpus, models)))
        kvprs.append(kvpr)
    return {
        "score": sum(scores) / len(scores),
        "avg_kvpr": sum(kvprs) / len(kvprs),
        "cases": float(len(scores)),
        "eval_wall_s": time.perf_counter() - t0,
    }
