"""Held-out evaluation for cant_be_late: other real spot traces of the same zones and GPUs.

The search scores 30 traces per (restart overhead, zone/GPU set) picked evenly among those that
cover the 70 h deadline. The held-out split takes HELDOUT_PER_ENV other eligible traces of each
set (evenly spaced among the ones the search never uses), with the same deadlines, overheads,
simulator, lockstep passes and leaderboard score: 360 scenarios. syslab runs this after the search,
on the best candidates, never during it.
"""

from __future__ import annotations

import time
from functools import cache

from evaluate import (
    DEADLINES,
    ENVS,
    OD_ANCHOR,
    OVERHEADS,
    PER_ENV,
    SPOT_ANCHOR,
    run_scenarios,
    trace_file,
    trace_sets,
    traces,
)

from syslab.adrs.spot_lockstep import TimedTrace
from syslab.evaluators.handle import Candidate

HELDOUT_PER_ENV = 10


@cache
def heldout_timed_traces() -> tuple[tuple[float, str, TimedTrace], ...]:
    """(overhead, env, trace) of eligible traces the search does not use."""
    searched = {(o, env, avail) for o, env, avail, _ in traces(PER_ENV)}
    out = []
    for overhead in OVERHEADS:
        for env in ENVS:
            unused = []
            for name in trace_sets().get((overhead, env), []):
                trace = trace_file(name)
                covers = len(trace.avail) * trace.gap / 3600 + 1e-9 >= max(DEADLINES)
                if covers and (overhead, env, trace.avail) not in searched:
                    unused.append(trace)
            n, k = len(unused), min(HELDOUT_PER_ENV, len(unused))
            picks = sorted({round(j * (n - 1) / max(1, k - 1)) for j in range(k)}) if k else []
            out += [(overhead, env, unused[i]) for i in picks]
    return tuple(out)


def heldout_traces() -> tuple[tuple[float, str, tuple[int, ...], float], ...]:
    """(overhead, env, availability, gap) of eligible traces the search does not use."""
    return tuple((o, env, t.avail, t.gap) for o, env, t in heldout_timed_traces())


def warm() -> None:
    heldout_timed_traces()  # once, in the trusted warm template (evaluate.warm)


def evaluate_heldout(candidate: Candidate) -> dict:
    t0 = time.perf_counter()
    scenarios = heldout_timed_traces()
    cost_of, late = run_scenarios(candidate, scenarios)  # lockstep passes, as in the search
    costs = [cost_of[i, d] for i in range(len(scenarios)) for d in DEADLINES]
    avg = sum(costs) / len(costs)
    return {
        "score": max(0.0, min(1.0, (OD_ANCHOR - avg) / (OD_ANCHOR - SPOT_ANCHOR))) * 100,
        "avg_cost": avg,
        "scenarios": float(len(costs)),
        "deadline_misses": float(late),
        "eval_wall_s": time.perf_counter() - t0,
    }
