"""Held-out evaluation for txn_scheduling: other instances drawn from the three shipped workloads.

Each held-out workload keeps a secret-seeded random 90% of one shipped workload's transactions,
renumbered in a shuffled order, so a schedule that remembers the search workloads' transaction
indices (rather than scheduling by conflicts) does not carry over. Scored like evaluate.py
(re-simulated makespans, the leaderboard's 0-100 formula with its anchors on these workloads).
syslab runs this after the search, on the best candidates, never during it.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from evaluate import anchors, check_schedule, program_timeout

from syslab.adrs.common import linear_score
from syslab.adrs.lib.txn_simulator import Workload
from syslab.adrs.lib.workloads import read_texts
from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate

HELDOUT_SEED = 0x91D81BE54107A3D0435100B74061E4CD  # secret
KEEP = 0.9  # share of each workload's transactions in its held-out instance


def heldout_texts() -> list[str]:
    rng = random.Random(HELDOUT_SEED)
    texts = []
    for text in read_texts():
        txns = list(json.loads(text).values())
        picked = rng.sample(txns, round(KEEP * len(txns)))  # a random subset, in random order
        texts.append(json.dumps({f"txn{i}": t for i, t in enumerate(picked)}))
    return texts


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    texts = heldout_texts()
    workloads = [Workload(t) for t in texts]
    candidate.call("provide_workloads", texts)
    candidate.reload()  # the program imports the workloads it was just given
    limit, candidate.timeout_s = candidate.timeout_s, program_timeout(candidate)
    try:
        schedules = candidate.call("get_random_costs")
    finally:
        candidate.timeout_s = limit
    if not isinstance(schedules, (list, tuple)) or len(schedules) != len(workloads):
        raise InvalidOutput(f"expected {len(workloads)} schedules")
    total = sum(
        w.get_opt_seq_cost(check_schedule(s, w.num_txns, i))
        for i, (w, s) in enumerate(zip(workloads, schedules, strict=True), start=1)
    )
    baseline, target = anchors(workloads)
    return {
        "score": linear_score(total, baseline, target),
        "makespan": float(total),
        "sequential_makespan": baseline,
        "effective_optimal": target,
        "eval_wall_s": time.perf_counter() - t0,
    }
