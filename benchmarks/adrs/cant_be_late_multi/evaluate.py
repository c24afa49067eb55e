"""Evaluator for cant_be_late_multi: average cost over 6 multi-region scenarios, leaderboard score.

Scenarios (as on the leaderboard; aligned traces `<region>/<i>.json`): 2 zones
of us-east-1 (traces 0-7), us-east-2a + us-west-2a (0-7), 3 diverse regions
(0-5), 3 zones of us-east-1 (0-5), 5 regions (0-3), all 9 (0-1). Job 48 h,
deadline 52 h, restart overhead 0.2 h. avg cost = mean over scenarios of the
scenario's mean cost; score = clip((OD − cost)/(OD − SPOT), 0, 1)·100 with
OD = 3.06·48 and SPOT = 0.9731·48. `evaluate_quick` (cascade stage 1) runs
the leaderboard's quick check: 2 zones, trace 0.

Billing and deadlines as on the leaderboard: a run's spot hours are billed at
the first price its trace records in the region the job ends in (not the flat
$0.9731/h of the anchors), and a run that ends after the deadline is billed
and scored; `deadline_misses` counts such runs (syslab's stricter reading).

Split evaluation: the traces and the simulator (syslab/adrs/spot_sim.py)
stay in this process. Per run the candidate's strategy is built in its own
process (`make_strategy`, adapter.py) and asked once per tick for a decision
and the region to run in, given only that tick's observation (every
region's spot now; syslab/adrs/spot_wire.py); progress, the deadline guard
and the bill are computed here.
"""

from __future__ import annotations

import time

from syslab.adrs.multi_spot_sim import region_spans, region_traces, spans_overlap
from syslab.adrs.spot_sim import SpotRun, replay_rounds, simulate
from syslab.data import data_path
from syslab.evaluators.handle import Candidate

DURATION, DEADLINE, OVERHEAD = 48.0, 52.0, 0.2
OD_ANCHOR, SPOT_ANCHOR = 3.06 * DURATION, 0.9731 * DURATION
E1A, E1C, E1D, E1F = "us-east-1a_v100_1", "us-east-1c_v100_1", "us-east-1d_v100_1", "us-east-1f_v100_1"
E2A, E2B, W2A, W2B, W2C = "us-east-2a_v100_1", "us-east-2b_v100_1", "us-west-2a_v100_1", "us-west-2b_v100_1", "us-west-2c_v100_1"  # fmt: skip
SCENARIOS = [
    ("2_zones_same_region", (E1A, E1C), 8),
    ("2_regions_east_west", (E2A, W2A), 8),
    ("3_regions_diverse", (E1A, E2B, W2C), 6),
    ("3_zones_same_region", (E1A, E1C, E1D), 6),
    ("5_regions_high_diversity", (E1A, E1F, W2A, W2B, E2B), 4),
    ("all_9_regions", (E2A, W2C, E1D, E2B, W2A, E1F, E1A, W2B, E1C), 2),
]
QUICK = [("stage_1_quick_check", (E1A, E1C), 1)]


def run(candidate: Candidate, scenarios: list[tuple[str, tuple[str, ...], int]]) -> dict:
    t0 = time.perf_counter()
    calls0, waited0 = candidate.calls, candidate.elapsed_s
    tar = data_path("adrs/cant_be_late_multi/real_traces.tar.gz")
    metrics, scenario_costs = {}, []
    runs_of = [
        (name, i, region_traces(tar, regions, f"{i}.json"), region_spans(tar, regions, f"{i}.json"))
        for name, regions, count in scenarios
        for i in range(count)
    ]
    cost_of: dict[tuple[str, int], float] = {}
    late = 0
    # Region traces recur across scenarios (and the quick stage's in the main one), and windows of
    # one region's history may overlap: a fresh candidate process per round, so none is shown a
    # trace it may remember, or one whose ticks it has seen in another window.
    for group in replay_rounds(runs_of, lambda r: r[2][0], overlap=lambda a, b: spans_overlap(a[3], b[3])):
        candidate.restart()
        for name, i, (traces, gap, prices), _spans in group:
            driver = candidate.new("make_strategy", DURATION, DEADLINE, OVERHEAD, gap, len(traces))
            outcome = simulate(driver.tick, SpotRun(traces, gap, DURATION, DEADLINE, OVERHEAD, prices))
            cost_of[name, i] = outcome.cost
            late += outcome.late
            driver.drop()
    for name, _regions, count in scenarios:  # summed in scenario order: the same float result
        costs = [cost_of[name, i] for i in range(count)]
        scenario_costs.append(sum(costs) / len(costs))
        metrics[f"cost_{name}"] = scenario_costs[-1]
    avg = sum(scenario_costs) / len(scenario_costs)
    score = max(0.0, min(1.0, (OD_ANCHOR - avg) / (OD_ANCHOR - SPOT_ANCHOR))) * 100
    runs = float(sum(c for _, _, c in scenarios))
    return {
        "score": score,
        "avg_cost": avg,
        **metrics,
        "runs": runs,
        "deadline_misses": float(late),
        "eval_wall_s": time.perf_counter() - t0,
        "artifacts": {
            "candidate_calls": candidate.calls - calls0,
            "candidate_wait_s": round(candidate.elapsed_s - waited0, 3),
        },
    }


def warm() -> None:
    """Called once by the trusted warm template: the region traces, parsed, are every evaluation's."""
    tar = data_path("adrs/cant_be_late_multi/real_traces.tar.gz")
    for _name, regions, count in QUICK + SCENARIOS:
        for i in range(count):
            region_traces(tar, regions, f"{i}.json")
            region_spans(tar, regions, f"{i}.json")


def evaluate_quick(candidate: Candidate) -> dict:
    return run(candidate, QUICK)


def evaluate(candidate: Candidate) -> dict:
    return run(candidate, SCENARIOS)
