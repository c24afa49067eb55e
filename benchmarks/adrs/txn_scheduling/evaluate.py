"""Evaluator for txn_scheduling: re-simulates each returned schedule and scores total makespan.

Score (leaderboard formula): 0 at the sequential order's makespan, 100 at an
effective optimum 10% of the way from the no-conflict lower bound (sum of the
longest transaction per workload) toward the sequential makespan; clamped.
"""

from __future__ import annotations

import time
from pathlib import Path

from syslab.adrs.common import linear_score, load_candidate, seed_everything, use_lib
from syslab.evaluators import InvalidOutput

SHIFT = 0.10  # leaderboard OPTIMAL_SHIFT_FACTOR


def _workloads():
    use_lib()
    from txn_simulator import Workload
    from workloads import WORKLOADS

    return [Workload(w) for w in WORKLOADS]


def anchors(workloads) -> tuple[float, float]:
    """(sequential makespan, effective optimum) summed over the workloads."""
    sequential = sum(w.get_opt_seq_cost(list(range(w.num_txns))) for w in workloads)
    lower = sum(max(w.lengths) for w in workloads)
    return float(sequential), lower + SHIFT * (sequential - lower)


def check_schedule(schedule, n: int, which: int) -> list[int]:
    if not isinstance(schedule, (list, tuple)):
        raise InvalidOutput(f"workload {which}: schedule is a {type(schedule).__name__}, expected a list")
    if len(schedule) != n:
        raise InvalidOutput(f"workload {which}: schedule has {len(schedule)} entries, expected {n}")
    try:
        items = [int(t) for t in schedule]
    except (TypeError, ValueError):
        raise InvalidOutput(f"workload {which}: schedule entries must be transaction indices") from None
    if sorted(items) != list(range(n)):
        missing = sorted(set(range(n)) - set(items))[:5]
        raise InvalidOutput(f"workload {which}: not a permutation of 0..{n - 1} (missing e.g. {missing})")
    return items


def evaluate(program_path: str) -> dict:
    t0 = time.perf_counter()
    workloads = _workloads()
    program = load_candidate(program_path, "get_random_costs", str(Path(__file__).parent / "task.toml"))
    seed_everything(0)
    out = program.get_random_costs()
    if not isinstance(out, (list, tuple)) or len(out) != 3:
        raise InvalidOutput("get_random_costs() must return (total_makespan, schedules, seconds)")
    _, schedules, seconds = out
    if not isinstance(schedules, (list, tuple)) or len(schedules) != len(workloads):
        raise InvalidOutput(f"expected {len(workloads)} schedules, got {len(schedules or [])}")
    metrics: dict[str, float] = {}
    total = 0
    for i, (w, s) in enumerate(zip(workloads, schedules, strict=True), start=1):
        # Recompute: the candidate's own makespan claim is not trusted.
        m = w.get_opt_seq_cost(check_schedule(s, w.num_txns, i))
        metrics[f"makespan_w{i}"] = float(m)
        total += m
    baseline, target = anchors(workloads)
    metrics.update(
        score=linear_score(total, baseline, target),
        makespan=float(total),
        sequential_makespan=baseline,
        effective_optimal=target,
        candidate_time_s=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
        eval_wall_s=time.perf_counter() - t0,
    )
    return metrics
