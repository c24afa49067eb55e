"""Evaluator for txn_scheduling: re-simulates each returned schedule and scores total makespan.

Score (leaderboard formula): 0 at the sequential order's makespan, 100 at an
effective optimum 10% of the way from the no-conflict lower bound (sum of the
longest transaction per workload) toward the sequential makespan; clamped.

Split evaluation: the program runs in its own process (adapter.py, on its side,
gives it the workloads it imports). Only its schedules come back, as plain
lists; the makespans are simulated here on this process's copy of the workloads,
and `candidate_time_s` is measured here, around the call.

Timeout as on the leaderboard: the program's `get_random_costs()` may run for
600 s (its submission_spec.json `timeout_seconds`), or more when the stage is
allowed more (`syslab reproduce adrs --leaderboard --timeout S`). Randomness differs: the
leaderboard does not seed the program's RNGs; the adapter seeds `random` and
numpy with 0 before the call, so a program scores the same every time (one
draw of a randomised program's distribution, not its mean).
"""

from __future__ import annotations

import time
from typing import Any

from syslab.adrs.common import linear_score
from syslab.adrs.lib.txn_simulator import Workload
from syslab.adrs.lib.workloads import read_texts
from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate

SHIFT = 0.10  # leaderboard OPTIMAL_SHIFT_FACTOR
PROGRAM_TIMEOUT_S = 600.0  # leaderboard submission_spec.json timeout_seconds, for get_random_costs()
HANDOVER_S = 60.0  # task.toml's stage limit (660 s) minus PROGRAM_TIMEOUT_S: start, hand-over, re-simulation


def program_timeout(candidate: Candidate) -> float:
    """The program's limit: the leaderboard's 600 s, or more when the stage is allowed more
    (`syslab reproduce adrs --leaderboard --timeout 1800`), keeping HANDOVER_S for the rest."""
    stage = candidate.stage_timeout_s
    return max(PROGRAM_TIMEOUT_S, stage - HANDOVER_S) if stage else PROGRAM_TIMEOUT_S


def anchors(workloads: list[Workload]) -> tuple[float, float]:
    """(sequential makespan, effective optimum) summed over the workloads."""
    sequential = sum(w.get_opt_seq_cost(list(range(w.num_txns))) for w in workloads)
    lower = sum(max(w.lengths) for w in workloads)
    return float(sequential), lower + SHIFT * (sequential - lower)


def check_schedule(schedule: Any, n: int, which: int) -> list[int]:
    """The schedule as transaction indices; InvalidOutput unless it is a permutation of 0..n-1."""
    if not isinstance(schedule, (list, tuple)):
        raise InvalidOutput(f"workload {which}: schedule is a {type(schedule).__name__}, expected a list")
    if len(schedule) != n:
        raise InvalidOutput(f"workload {which}: schedule has {len(schedule)} entries, expected {n}")
    # Decoded plain data: ints, or integral floats (a program may build indices with numpy floats).
    if not all(type(t) is int or (type(t) is float and t.is_integer()) for t in schedule):
        raise InvalidOutput(f"workload {which}: schedule entries must be transaction indices")
    items = [int(t) for t in schedule]
    if sorted(items) != list(range(n)):
        missing = sorted(set(range(n)) - set(items))[:5]
        raise InvalidOutput(f"workload {which}: not a permutation of 0..{n - 1} (missing e.g. {missing})")
    return items


def evaluate(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    texts = read_texts()
    workloads = [Workload(t) for t in texts]
    candidate.call("provide_workloads", texts)
    candidate.reload()  # the program imports the workloads it was just given
    start = time.perf_counter()
    limit, candidate.timeout_s = candidate.timeout_s, program_timeout(candidate)
    try:
        schedules = candidate.call("get_random_costs")
    finally:
        candidate.timeout_s = limit
    candidate_s = time.perf_counter() - start
    if not isinstance(schedules, (list, tuple)) or len(schedules) != len(workloads):
        got = len(schedules) if isinstance(schedules, (list, tuple)) else type(schedules).__name__
        raise InvalidOutput(f"expected {len(workloads)} schedules, got {got}")
    metrics: dict[str, Any] = {}
    total = 0
    for i, (w, s) in enumerate(zip(workloads, schedules, strict=True), start=1):
        m = w.get_opt_seq_cost(check_schedule(s, w.num_txns, i))
        metrics[f"makespan_w{i}"] = float(m)
        total += m
    baseline, target = anchors(workloads)
    metrics.update(
        score=linear_score(total, baseline, target),
        makespan=float(total),
        sequential_makespan=baseline,
        effective_optimal=target,
        candidate_time_s=candidate_s,
        eval_wall_s=time.perf_counter() - t0,
    )
    return metrics
