"""Held-out evaluation for cant_be_late_multi: the same region sets on other aligned traces.

The search runs the leaderboard's six scenarios on aligned traces 0-7 (fewer for the larger
region sets). The held-out split runs the same region sets, job, deadline and overhead on traces
HELDOUT_FIRST onwards (the shipped data has 100 aligned traces per region), with the same
simulator, billing, replay rounds and score. A policy tuned to the search traces' availability
pattern (say, always running in one region) shows a gap here. syslab runs this after the search,
on the best candidates, never during it.
"""

from __future__ import annotations

import time

from evaluate import DEADLINE, DURATION, OD_ANCHOR, OVERHEAD, SCENARIOS, SPOT_ANCHOR

from syslab.adrs.multi_spot_sim import region_spans, region_traces, spans_overlap
from syslab.adrs.spot_sim import SpotRun, replay_rounds, simulate
from syslab.data import data_path
from syslab.evaluators.handle import Candidate

HELDOUT_FIRST = 50  # first aligned trace index of the held-out runs (the search uses 0-7)


def evaluate_heldout(candidate: Candidate) -> dict:
    t0 = time.perf_counter()
    tar = data_path("adrs/cant_be_late_multi/real_traces.tar.gz")
    runs_of = [
        (
            name,
            i,
            region_traces(tar, regions, f"{HELDOUT_FIRST + i}.json"),
            region_spans(tar, regions, f"{HELDOUT_FIRST + i}.json"),
        )
        for name, regions, count in SCENARIOS
        for i in range(count)
    ]
    cost_of: dict[tuple[str, int], float] = {}
    late = 0
    # A fresh candidate process per round of distinct traces, as in the search evaluation.
    for group in replay_rounds(runs_of, lambda r: r[2][0], overlap=lambda a, b: spans_overlap(a[3], b[3])):
        candidate.restart()
        for name, i, (traces, gap, prices), _spans in group:
            driver = candidate.new("make_strategy", DURATION, DEADLINE, OVERHEAD, gap, len(traces))
            outcome = simulate(driver.tick, SpotRun(traces, gap, DURATION, DEADLINE, OVERHEAD, prices))
            cost_of[name, i] = outcome.cost
            late += outcome.late
            driver.drop()
    scenario_costs = [sum(cost_of[name, i] for i in range(count)) / count for name, _, count in SCENARIOS]
    avg = sum(scenario_costs) / len(scenario_costs)
    return {
        "score": max(0.0, min(1.0, (OD_ANCHOR - avg) / (OD_ANCHOR - SPOT_ANCHOR))) * 100,
        "avg_cost": avg,
        "runs": float(sum(count for _, _, count in SCENARIOS)),
        "deadline_misses": float(late),
        "eval_wall_s": time.perf_counter() - t0,
    }
