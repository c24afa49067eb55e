"""Held-out evaluation for cant_be_late: other real spot traces of the same zones and GPUs.

The search scores 30 traces per (restart overhead, zone/GPU set) picked evenly among those that
cover the 70 h deadline. The held-out split takes HELDOUT_PER_ENV other eligible traces of each
set (evenly spaced among the ones the search never uses), with the same deadlines, overheads,
simulator, replay rounds and leaderboard score: 360 scenarios. syslab runs this after the search,
on the best candidates, never during it.
"""

from __future__ import annotations

import re
import time
from functools import cache

from evaluate import DEADLINES, DURATION, ENVS, OD_ANCHOR, OVERHEADS, PER_ENV, SPOT_ANCHOR, traces

from syslab.adrs.spot_sim import SpotRun, load_trace, replay_rounds, simulate, tar_members
from syslab.data import data_path
from syslab.evaluators.handle import Candidate

HELDOUT_PER_ENV = 10


@cache
def heldout_traces() -> tuple[tuple[float, str, tuple[int, ...], float], ...]:
    """(overhead, env, availability, gap) of eligible traces the search does not use."""
    members = tar_members(data_path("adrs/cant_be_late/real_traces.tar.gz"))
    searched = {(o, env, avail) for o, env, avail, _ in traces(PER_ENV)}
    out = []
    for overhead in OVERHEADS:
        for env in ENVS:
            pat = re.compile(
                rf"real/ddl=search\+task=48\+overhead={overhead:.2f}/real/{env}/traces/random_start/[^/]+\.json$"
            )
            unused = []
            for name in sorted(n for n in members if pat.search(n)):
                avail, gap = load_trace(members[name])
                covers = len(avail) * gap / 3600 + 1e-9 >= max(DEADLINES)
                if covers and (overhead, env, tuple(avail)) not in searched:
                    unused.append((tuple(avail), gap))
            n, k = len(unused), min(HELDOUT_PER_ENV, len(unused))
            picks = sorted({round(j * (n - 1) / max(1, k - 1)) for j in range(k)}) if k else []
            out += [(overhead, env, unused[i][0], unused[i][1]) for i in picks]
    return tuple(out)


def evaluate_heldout(candidate: Candidate) -> dict:
    t0 = time.perf_counter()
    scenarios = heldout_traces()
    cost_of: dict[tuple[int, float], float] = {}
    late = 0
    pairs = [(i, deadline) for deadline in DEADLINES for i in range(len(scenarios))]
    # A fresh candidate process per round of distinct traces, as in the search evaluation.
    for group in replay_rounds(pairs, lambda s: [scenarios[s[0]][2]]):
        candidate.restart()
        for index, deadline in group:
            overhead, _env, avail, gap = scenarios[index]
            driver = candidate.new("make_strategy", DURATION, deadline, overhead, gap)
            outcome = simulate(driver.tick, SpotRun((avail,), gap, DURATION, deadline, overhead))
            cost_of[index, deadline] = outcome.cost
            late += outcome.late
            driver.drop()
    costs = [cost_of[i, d] for i in range(len(scenarios)) for d in DEADLINES]
    avg = sum(costs) / len(costs)
    return {
        "score": max(0.0, min(1.0, (OD_ANCHOR - avg) / (OD_ANCHOR - SPOT_ANCHOR))) * 100,
        "avg_cost": avg,
        "scenarios": float(len(costs)),
        "deadline_misses": float(late),
        "eval_wall_s": time.perf_counter() - t0,
    }
