"""Evaluator for cant_be_late: average cost over 1,080 trace scenarios, leaderboard score.

Scenarios (as on the leaderboard): 6 AWS zone/GPU traces sets × 30 traces
(evenly spaced among those covering ≥ 70 h) × restart overheads {0.02, 0.05,
0.10} h × deadlines {52, 70} h, job 48 h. Score = clip((OD − cost)/(OD −
SPOT), 0, 1)·100 with OD = 3.06·48 (all on-demand) and SPOT = 0.9731·48.
`evaluate_quick` is the cascade's first stage: 2 traces per set (72 scenarios).

Deadlines as on the leaderboard: a job that ends after its deadline (the
guard keeps a running spot instance at the edge, and a preemption there
comes too late) is billed for every tick it ran and scored, not rejected;
`deadline_misses` counts such scenarios (syslab's stricter reading).

Split evaluation: the traces and the simulator (syslab/adrs/spot_sim.py)
stay in this process; the strategies run in the candidate's process, asked
for one decision per tick given only that tick's observation
(syslab/adrs/spot_wire.py); progress, the deadline guard and the bill are
computed here. A stage's scenarios all run side by side in one fresh
candidate process, each job at its own place on its trace's history clock
(syslab/adrs/spot_lockstep.py): the traces of a zone/GPU set are windows of
one history, and a process shown them one after the other would know a
later window's future. One call per clock tick carries every running job's
observation.
"""

from __future__ import annotations

import re
import time
from functools import cache

from syslab.adrs.spot_lockstep import Job, TimedTrace, load_timed_trace, passes, run_lockstep
from syslab.adrs.spot_sim import SpotRun, tar_members
from syslab.data import data_path
from syslab.evaluators.handle import Candidate

ENVS = ["us-west-2a_k80_8", "us-west-2b_k80_1", "us-west-2b_k80_8", "us-west-2a_v100_1", "us-west-2a_v100_8", "us-west-2b_v100_1"]  # fmt: skip
OVERHEADS = [0.02, 0.05, 0.10]
DEADLINES = [52.0, 70.0]
DURATION = 48.0
PER_ENV = 30
QUICK_PER_ENV = 2
OD_ANCHOR, SPOT_ANCHOR = 3.06 * DURATION, 0.9731 * DURATION


@cache
def trace_sets() -> dict[tuple[float, str], list[str]]:
    """The random-start trace files of each (overhead, zone/GPU set), in name order."""
    pat = re.compile(
        r"real/ddl=search\+task=48\+overhead=([0-9.]+)/real/([^/]+)/traces/random_start/[^/]+\.json$"
    )
    sets: dict[tuple[float, str], list[str]] = {}
    for name in sorted(tar_members(data_path("adrs/cant_be_late/real_traces.tar.gz"))):
        found = pat.search(name)
        if found:
            sets.setdefault((float(found[1]), found[2]), []).append(name)
    return sets


@cache
def trace_file(name: str) -> TimedTrace:
    return load_timed_trace(tar_members(data_path("adrs/cant_be_late/real_traces.tar.gz"))[name])


@cache
def timed_traces(per_env: int) -> tuple[tuple[float, str, TimedTrace], ...]:
    """(overhead, env, trace) for the selected traces, in a fixed order."""
    out = []
    for overhead in OVERHEADS:
        for env in ENVS:
            eligible = []
            for name in trace_sets().get((overhead, env), []):
                trace = trace_file(name)
                if len(trace.avail) * trace.gap / 3600 + 1e-9 >= max(DEADLINES):
                    eligible.append(trace)
            # evenly spaced picks over the eligible traces (first and last included)
            n = len(eligible)
            picks = (
                sorted({round(j * (n - 1) / max(1, PER_ENV - 1)) for j in range(PER_ENV)})
                if n > PER_ENV
                else list(range(n))
            )
            if per_env < len(picks):
                picks = [picks[round(j * (len(picks) - 1) / max(1, per_env - 1))] for j in range(per_env)]
            out += [(overhead, env, eligible[i]) for i in picks]
    return tuple(out)


def traces(per_env: int) -> tuple[tuple[float, str, tuple[int, ...], float], ...]:
    """(overhead, env, availability, gap) for the selected traces, in a fixed order."""
    return tuple((o, env, t.avail, t.gap) for o, env, t in timed_traces(per_env))


def run_scenarios(
    candidate: Candidate, scenarios: tuple[tuple[float, str, TimedTrace], ...]
) -> tuple[dict[tuple[int, float], float], int]:
    """Every (trace index, deadline) scenario's cost and the count of late ones; the candidate's
    process is fresh for each pass (spot_lockstep.passes): nothing shown before reaches it."""
    items = [(i, deadline) for deadline in DEADLINES for i in range(len(scenarios))]
    cost_of: dict[tuple[int, float], float] = {}
    late = 0
    for group in passes([t for _, _, t in scenarios], items, lambda item: item[0]):
        candidate.restart()
        fleet = candidate.new("make_fleet")
        jobs = []
        for index, deadline in group:
            overhead, _env, trace = scenarios[index]
            run = SpotRun((trace.avail,), trace.gap, DURATION, deadline, overhead)
            jobs.append(Job((index, deadline), run, trace.start, (DURATION, deadline, overhead, trace.gap)))
        for key, outcome in run_lockstep(fleet.step, jobs).items():
            cost_of[key] = outcome.cost
            late += outcome.late
        fleet.drop()
    return cost_of, late


def run(candidate: Candidate, per_env: int) -> dict:
    t0 = time.perf_counter()
    calls0, waited0 = candidate.calls, candidate.elapsed_s
    scenarios = timed_traces(per_env)
    cost_of, late = run_scenarios(candidate, scenarios)
    # Summed in the leaderboard's scenario order (trace, then deadline): the same float result.
    costs = [cost_of[i, d] for i in range(len(scenarios)) for d in DEADLINES]
    by_deadline = {d: [cost_of[i, d] for i in range(len(scenarios))] for d in DEADLINES}
    avg = sum(costs) / len(costs)
    score = max(0.0, min(1.0, (OD_ANCHOR - avg) / (OD_ANCHOR - SPOT_ANCHOR))) * 100
    return {
        "score": score,
        "avg_cost": avg,
        "avg_cost_ddl52": sum(by_deadline[52.0]) / len(by_deadline[52.0]),
        "avg_cost_ddl70": sum(by_deadline[70.0]) / len(by_deadline[70.0]),
        "scenarios": float(len(costs)),
        "deadline_misses": float(late),
        "eval_wall_s": time.perf_counter() - t0,
        "artifacts": {
            "candidate_calls": candidate.calls - calls0,
            "candidate_wait_s": round(candidate.elapsed_s - waited0, 3),
        },
    }


def warm() -> None:
    """Called once by the trusted warm template: the traces, parsed, are every evaluation's."""
    timed_traces(QUICK_PER_ENV)
    timed_traces(PER_ENV)


def evaluate_quick(candidate: Candidate) -> dict:
    return run(candidate, QUICK_PER_ENV)


def evaluate(candidate: Candidate) -> dict:
    return run(candidate, PER_ENV)
