"""Held-out evaluation for eplb: 16 other drifting load windows, from another secret seed.

The same generator, placement checks, balancedness and leaderboard score as evaluate.py; only the
load windows differ. syslab runs this after the search, on the best candidates, never during it.
"""

from __future__ import annotations

import statistics
import time
from functools import cache
from typing import Any

import numpy as np
from evaluate import NUM_GPUS, NUM_GROUPS, NUM_NODES, NUM_REPLICAS, WINDOWS

from syslab.adrs.eplb_sim import (
    EXPERTS,
    LAYERS,
    balancedness,
    check_placement,
    generate_windows,
    speed_points,
)
from syslab.evaluators.handle import Candidate

HELDOUT_SEED = 0x37E1850112398011945F4F11D7959E9A  # secret, like the search seed


@cache
def heldout_windows() -> tuple[np.ndarray, ...]:
    return tuple(generate_windows(HELDOUT_SEED, WINDOWS))


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    rebalance = candidate.function("rebalance_experts")
    loads = heldout_windows()
    gpu_bal, times = [], []
    for i in range(len(loads) - 1):  # the placement from window i is scored on window i + 1
        start = time.perf_counter()
        out = rebalance(loads[i], NUM_REPLICAS, NUM_GROUPS, NUM_NODES, NUM_GPUS)
        times.append(time.perf_counter() - start)
        phy2log, logcnt = check_placement(out, LAYERS, EXPERTS, NUM_REPLICAS, loads[i + 1])
        gpu_bal.append(balancedness(phy2log, logcnt, loads[i + 1], NUM_GPUS)[0])
    bal = sum(gpu_bal) / len(gpu_bal)
    speed, penalty = speed_points(round(statistics.mean(times), 3))
    return {
        "score": 90.0 * bal + speed - penalty,
        "balancedness_gpu": bal,
        "time_algorithm_s": sum(times) / len(times),
        "eval_wall_s": time.perf_counter() - t0,
    }
