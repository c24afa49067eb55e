"""Many spot jobs driven side by side on one clock, in one candidate process (trusted side).

The spot traces of one zone/GPU set are windows of one availability history,
cut at random start times. A candidate process that remembers what it was
shown must never learn a job's future from another job: shown one window to
its end and then a later-starting window of the same history, it would know
the second one's next ticks. Restarting the process between overlapping
windows would mean a fresh process for nearly every scenario.

Instead every job runs at its own position on the history's clock: at step T
each running job is at history time T (its tick is T minus its start), so
everything the process has been shown, from any job, lies at or before T,
and the next message moves every job to T + 1 together. What one job could
tell another is then only its past. Traces carry their history and start
(`TimedTrace`, from the trace file's metadata); windows that claim the same
history are checked to agree where they overlap, and a trace without that
metadata runs in a pass of its own (a fresh process).

The driver in the candidate process is a fleet (spot_adapter.Fleet): one call
per step, `step(new, ints, floats)`, carries the jobs that start (their id
and scenario) and one observation per running job as two arrays, int64
rows (id, tick, last, avail, region) and float64 rows (done_inc,
restart_left) of spot_wire.py's six scalars; the reply is an int64 array of
one (decision index into CLUSTER_TYPES, region) row per observation, each
checked by its job's simulator. Arrays cross the channel as raw bytes: as
tuples the codec took 7 µs per job and step, most of an evaluation's
overhead. A job's observations and bill are exactly those of
`spot_sim.simulate`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np

from syslab.adrs.spot_sim import Outcome, SpotRun, TimedTrace, load_timed_trace
from syslab.adrs.spot_wire import CLUSTER_TYPES
from syslab.evaluators import InvalidOutput
from syslab.evaluators.codec import describe

__all__ = ["Job", "TimedTrace", "check_histories", "load_timed_trace", "passes", "run_lockstep"]

Step = Callable[[list, Any, Any], Any]  # fleet.step(new, ints, floats) -> int64 (n, 2) array, remote


class Job(NamedTuple):
    """One scenario: its key, a fresh simulator run, its start on the shared clock, and the
    arguments its strategy is built with in the candidate process (the fleet's `new`)."""

    key: Hashable
    run: SpotRun
    start: int
    make: tuple


def check_histories(traces: Sequence[TimedTrace]) -> None:
    """ValueError if two windows that claim the same history disagree at some time of it: their
    starts would not be a shared clock, and running them side by side could leak."""
    seen: dict[str, dict[int, int]] = {}
    for trace in traces:
        if trace.history is None:
            continue
        timeline = seen.setdefault(trace.history, {})
        for t, bit in enumerate(trace.avail, trace.start):
            if timeline.setdefault(t, bit) != bit:
                raise ValueError(
                    f"spot traces of history {trace.history} disagree at time {t}: "
                    "their start times are not one clock"
                )


def passes(
    traces: Sequence[TimedTrace], items: Sequence[Any], trace_of: Callable[[Any], int]
) -> list[list[Any]]:
    """`items` (scenarios) grouped into passes, each run in a fresh candidate process: every item
    whose trace has a history in the first pass, then one pass per trace without one."""
    check_histories(traces)
    timed = [item for item in items if traces[trace_of(item)].history is not None]
    own: dict[int, list[Any]] = {}
    for item in items:
        if traces[trace_of(item)].history is None:
            own.setdefault(trace_of(item), []).append(item)
    return ([timed] if timed else []) + list(own.values())


def _replies(reply: Any, count: int, step: int) -> list[list[int]]:
    """The fleet's answer as [decision index, region] rows, or InvalidOutput naming what is wrong."""
    if type(reply) is not np.ndarray or reply.dtype != np.int64 or reply.shape != (count, 2):
        got = f"an array of {reply.dtype} {reply.shape}" if type(reply) is np.ndarray else describe(reply)
        raise InvalidOutput(
            f"lockstep step {step}: the fleet answered {count} observations with {got}, "
            f"not an int64 array of {count} (decision, region) rows"
        )
    return reply.tolist()


def _decision(code: int, step: int) -> str:
    if not 0 <= code < len(CLUSTER_TYPES):
        raise InvalidOutput(
            f"lockstep step {step}: decision index {code} is not one of 0..{len(CLUSTER_TYPES) - 1}"
        )
    return CLUSTER_TYPES[code]


def run_lockstep(step: Step, jobs: Sequence[Job]) -> dict[Hashable, Outcome]:
    """Every job's outcome, driving all of them side by side: one `step` call per clock tick."""
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].start)
    outcomes: dict[Hashable, Outcome] = {}
    ending: dict[int, tuple[float, bool]] = {}  # job -> (finish h, late): its last, billing-only tick
    running: list[int] = []
    nxt, clock, steps = 0, 0, 0
    while nxt < len(order) or running:
        if not running:
            clock = max(clock, jobs[order[nxt]].start)
        new = []
        while nxt < len(order) and jobs[order[nxt]].start <= clock:
            i = order[nxt]
            new.append((i, *jobs[i].make))
            running.append(i)
            nxt += 1
        ints, floats = [], []
        for i in running:
            run = jobs[i].run
            if run.finished and i not in ending:
                # As simulate(): the tick that completed the work ended here; the strategy is asked
                # once more ("realize the last step"), and only its region counts.
                ending[i] = ((run.tick - 1) * run.gap / 3600, run.late)
            tick, last, avail, done_inc, restart_left, region = run.observe()
            ints.append((i, tick, last, avail, region))
            floats.append((done_inc, restart_left))
        reply = step(new, np.array(ints, dtype=np.int64), np.array(floats, dtype=np.float64))
        still = []
        for i, (code, region) in zip(running, _replies(reply, len(running), steps), strict=True):
            run = jobs[i].run
            decision, region = run.check((_decision(code, steps), region))
            if i in ending:
                run.region = region
                finish_h, late = ending.pop(i)
                outcomes[jobs[i].key] = Outcome(run.cost(), finish_h, late)
            else:
                run.apply(decision, region)
                still.append(i)
        running = still
        clock += 1
        steps += 1
    return outcomes
