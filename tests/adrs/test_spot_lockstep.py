"""spot_lockstep: many spot jobs side by side on their histories' clock, each billed as simulate() bills it."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from syslab.adrs.spot_adapter import Fleet
from syslab.adrs.spot_lockstep import Job, TimedTrace, check_histories, load_timed_trace, passes, run_lockstep
from syslab.adrs.spot_sim import SpotRun, simulate
from syslab.adrs.spot_wire import CLUSTER_TYPES
from syslab.evaluators import InvalidOutput, WrongAnswer

GAP = 3600.0  # one-hour ticks keep the jobs short


def history(seed: int, length: int = 120) -> list[int]:
    rng, bit, out = random.Random(seed), 0, []
    for _ in range(length):
        bit = bit if rng.random() < 0.8 else 1 - bit
        out.append(bit)
    return out


class Policy:
    """A deterministic strategy that depends on what it observed (and on its own seed), as a driver."""

    def __init__(self, seed: int):
        self.seed, self.n = seed, 0

    def tick(
        self, tick: int, last: int, avail: int, done_inc: float, restart_left: float, region: int
    ) -> tuple:
        self.n += 1
        if avail and (self.n + self.seed) % 5:
            return "SPOT", 0
        return ("ON_DEMAND" if CLUSTER_TYPES[last] == "ON_DEMAND" or self.seed % 2 else "NONE"), 0


def jobs_on(h: list[int], starts: list[int], deadline: float = 30.0) -> list[Job]:
    return [
        Job(k, SpotRun((h[s : s + 60],), GAP, 20.0, deadline, 0.5), s, (k,)) for k, s in enumerate(starts)
    ]


def test_each_job_sees_and_pays_exactly_what_it_would_alone():
    h = history(1)
    starts = [0, 3, 3, 17, 40, 41]
    alone = {
        job.key: simulate(Policy(job.key).tick, SpotRun((h[s : s + 60],), GAP, 20.0, 30.0, 0.5))
        for job, s in zip(jobs_on(h, starts), starts, strict=True)
    }
    together = run_lockstep(Fleet(None, lambda _program, key: Policy(key)).step, jobs_on(h, starts))
    assert together == alone
    assert len({o.cost for o in together.values()}) > 1  # the jobs differ: the comparison means something


def test_every_observation_is_at_the_clock_of_its_history():
    """At each step every running job is at history time `clock` (start + its tick): nothing any job
    has shown lies after the clock, so no job's future was shown by another."""
    h = history(2)
    jobs = jobs_on(h, [0, 5, 5, 9, 30, 55])
    start_of = {i: job.start for i, job in enumerate(jobs)}
    clocks: list[set[int]] = []
    fleet = Fleet(None, lambda _program, key: Policy(key))

    def step(new: list, ints: np.ndarray, floats: np.ndarray) -> np.ndarray:
        clocks.append({start_of[sid] + tick for sid, tick, *_ in ints.tolist()})
        return fleet.step(new, ints, floats)

    run_lockstep(step, jobs)
    assert all(len(c) == 1 for c in clocks)
    times = [next(iter(c)) for c in clocks]
    assert times == sorted(times) and len(set(times)) == len(times)  # one step per clock tick


def answer(rows: list, dtype: type = np.int64):  # noqa: ANN201 - a fleet.step
    return lambda new, ints, floats: np.array(rows * len(ints), dtype=dtype).reshape(-1, 2)


def test_a_fleet_answer_of_the_wrong_shape_is_invalid_output():
    h = history(3)
    with pytest.raises(InvalidOutput, match="answered 2 observations"):
        run_lockstep(lambda new, ints, floats: np.array([[1, 0]], dtype=np.int64), jobs_on(h, [0, 0]))
    with pytest.raises(InvalidOutput, match="not an int64 array"):
        run_lockstep(lambda new, ints, floats: [("SPOT", 0)], jobs_on(h, [0]))
    with pytest.raises(InvalidOutput, match="not an int64 array"):
        run_lockstep(answer([(1, 0)], np.float64), jobs_on(h, [0]))
    with pytest.raises(InvalidOutput, match="decision index 3 is not one of"):
        run_lockstep(answer([(3, 0)]), jobs_on(h, [0]))
    with pytest.raises(InvalidOutput, match="only int regions"):
        run_lockstep(answer([(1, 1)]), jobs_on(h, [0]))


def test_running_past_a_window_is_wrong_answer():
    h = history(4)
    job = Job("idle", SpotRun((h[:10],), GAP, 20.0, 30.0, 0.5), 0, ())
    with pytest.raises(WrongAnswer, match="after the trace ends"):
        run_lockstep(answer([(0, 0)]), [job])


def test_windows_that_disagree_about_their_history_are_refused():
    h = history(5)
    a = TimedTrace(tuple(h[0:50]), GAP, "h", 0)
    b = TimedTrace(tuple(h[10:60]), GAP, "h", 10)
    check_histories([a, b])
    shifted = TimedTrace(tuple(h[10:60]), GAP, "h", 11)
    with pytest.raises(ValueError, match="disagree at time"):
        check_histories([a, shifted])


def test_a_trace_without_its_place_in_a_history_runs_in_a_pass_of_its_own():
    h = history(6)
    timed = [TimedTrace(tuple(h[s : s + 50]), GAP, "h", s) for s in (0, 20)]
    loose = [TimedTrace(tuple(h[s : s + 50]), GAP, None, 0) for s in (5, 30)]
    traces = timed + loose
    items = [(i, d) for d in (52, 70) for i in range(len(traces))]
    groups = passes(traces, items, lambda item: item[0])
    assert groups[0] == [(0, 52), (1, 52), (0, 70), (1, 70)]
    assert groups[1:] == [[(2, 52), (2, 70)], [(3, 52), (3, 70)]]


def test_trace_files_say_where_they_were_cut():
    body = {
        "original_trace": "x.json",
        "metadata": {"gap_seconds": 600, "start_time": 7},
        "data": [0, 1, True],
    }
    assert load_timed_trace(json.dumps(body).encode()) == TimedTrace((0, 1, 1), 600.0, "x.json", 7)
    bare = {"metadata": {"gap_seconds": 600}, "data": [1]}
    assert load_timed_trace(json.dumps(bare).encode()) == TimedTrace((1,), 600.0, None, 0)
