"""Trace-driven spot/on-demand simulation for the cant-be-late problems (trusted side, syslab's own).

A trace is a list of ticks (`gap_seconds` each); value 1 means spot is
unavailable (preempted) in that tick. The job is in one region at a time
(region 0 at the start; one region in the single-region task). Each tick the
strategy picks SPOT, ON_DEMAND or NONE and may move the job to another
region; the cluster that ran during a tick is billed for it (on-demand
$3.06/h; spot $0.9731/h, or, where the traces record prices, the first
tick's price in the region the job ends in, as the leaderboard bills). A job
of `duration` hours should finish by the deadline; changing cluster type
costs `overhead` hours of lost progress.

Deadlines as on the leaderboard: its simulator runs the job until the work
is done and bills every tick, whenever that is. The guard keeps a running
spot instance at the edge, so a preemption there can end the job a tick or
more after the deadline; such a run is scored at what it cost, and
`Outcome.late` says it was late (the evaluators count these as
`deadline_misses`, syslab's stricter reading, reported but not rejected).
Running past the end of the trace is an error, as there.

This module owns every number that decides the cost: the traces, the tick,
progress, restart overhead, preemption, the deadline guard (keep a running
spot instance or switch to on-demand once the remaining work plus one
restart no longer fits) and billing. The strategy runs in the candidate's
process and is only asked for a decision per tick (`decide`, see
spot_wire.py for the message); its answer is checked here, and a SPOT
request where the job's region has no spot this tick gets nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from syslab.adrs.spot_wire import CLUSTER_TYPES, CODES, NONE, ON_DEMAND, SPOT
from syslab.evaluators import InvalidOutput, WrongAnswer
from syslab.evaluators.codec import describe

PRICES = {ON_DEMAND: 3.06, SPOT: 0.9731, NONE: 0.0}  # $/hour
Decide = Callable[..., Any]  # driver.tick(*observation) -> (decision, region), remote


class Outcome(NamedTuple):
    """One simulated job: what it cost, when it finished, and whether that was after its deadline."""

    cost: float
    finish_h: float
    late: bool


class SpotRun:
    """One job on one set of region traces: the simulator's state, advanced one tick at a time."""

    def __init__(
        self,
        traces: Sequence[Sequence[int]],
        gap_seconds: float,
        duration_h: float,
        deadline_h: float,
        overhead_h: float,
        spot_prices: Sequence[float] | None = None,
    ):
        if not traces or len({len(t) for t in traces}) != 1:
            raise ValueError("spot_sim: need one or more traces of equal length")
        if spot_prices is not None and len(spot_prices) != len(traces):
            raise ValueError(f"spot_sim: {len(spot_prices)} spot prices for {len(traces)} regions")
        # Spot $/h per region (None: the flat PRICES[SPOT]). The leaderboard bills the whole run at
        # the price map of the region the job ends in, whose spot price is its trace's first one.
        self.spot_prices = spot_prices
        self.traces = traces
        self.gap = float(gap_seconds)
        self.duration = duration_h * 3600
        self.deadline = deadline_h * 3600
        self.overhead = overhead_h * 3600
        self.tick = 0
        self.region = 0
        self.cluster = NONE  # what runs now (NONE once preempted)
        self.last = NONE  # what ran in the previous tick (billed and booked at this tick)
        self.has_spot = False  # spot in the job's region in this tick, as observed
        self.billed: list[str] = []  # the cluster of each tick, priced when the bill is made
        self.progress: list[float] = []  # seconds of work done in each tick
        self.done = 0.0  # sum(progress), recomputed as the strategy base class always did
        self.restart_left = 0.0

    @property
    def finished(self) -> bool:
        return self.duration - self.done <= 1e-8

    def spot_in(self, region: int) -> bool:
        trace = self.traces[region]
        if self.tick >= len(trace):
            raise WrongAnswer(f"job still running after the trace ends ({len(trace)} ticks)")
        return not trace[self.tick]

    def observe(self) -> tuple[int, int, int, float, float, int]:
        """Start a tick: bill and book the previous one, apply a preemption; the candidate's message."""
        has_spot = self.spot_in(self.region)
        last = self.cluster
        self.billed.append(last)
        if last == SPOT and not has_spot:
            self.cluster = NONE  # preempted
        self.last, self.has_spot = last, has_spot
        if last == NONE:
            inc = 0.0
        else:
            work = max(self.gap - self.restart_left, 0.0)
            self.restart_left -= self.gap - work
            if self.restart_left < 1e-3:
                self.restart_left = 0.0
            inc = min(work, self.duration - self.done)
        self.progress.append(inc)
        self.done = sum(self.progress)
        tick = self.tick
        traces = self.traces
        if len(traces) == 1:
            avail = 0 if traces[0][tick] else 1
        else:
            avail = sum(1 << i for i, trace in enumerate(traces) if not trace[tick])
        return tick, CODES[last], avail, inc, self.restart_left, self.region

    def check(self, reply: Any) -> tuple[str, int]:
        """The candidate's (decision, region), or InvalidOutput naming what is wrong with it."""
        if type(reply) is not tuple or len(reply) != 2:
            raise InvalidOutput(
                f"tick {self.tick}: the strategy's answer {describe(reply)} is not (decision, region)"
            )
        decision, region = reply
        if type(decision) is not str or decision not in PRICES:
            raise InvalidOutput(
                f"tick {self.tick}: decision {describe(decision)} is not one of {', '.join(CLUSTER_TYPES)}"
            )
        if type(region) is not int or not 0 <= region < len(self.traces):
            raise InvalidOutput(
                f"tick {self.tick}: switch_region to {describe(region)}: only int regions "
                f"0..{len(self.traces) - 1} exist"
            )
        return decision, region

    def guard(self, proposed: str) -> str:
        """Deadline guard: once the work left plus one restart no longer fits, keep spot or go on-demand."""
        gap = self.gap
        left = math.floor((self.deadline - self.tick * gap) / gap) * gap
        work = self.duration - self.done
        if work <= 1e-3:
            return proposed
        if math.ceil((work + self.overhead) / gap) * gap >= left:
            if self.last == SPOT and self.restart_left < 1e-3:
                return SPOT
            return ON_DEMAND
        return proposed

    def apply(self, decision: str, region: int) -> None:
        """End the tick: move to `region`, launch what the guard and availability allow there."""
        self.region = region
        request = self.guard(decision)
        if request == SPOT and not self.spot_in(region):
            request = NONE  # asking for spot where there is none gets nothing
        running = NONE if (self.last == SPOT and not self.has_spot) else self.last
        if request not in (running, NONE):
            self.restart_left = self.overhead
        self.cluster = request
        self.tick += 1

    def cost(self) -> float:
        prices = PRICES
        if self.spot_prices is not None:
            prices = {**PRICES, SPOT: float(self.spot_prices[self.region])}
        return sum(prices[cluster] for cluster in self.billed) * self.gap / 3600

    @property
    def late(self) -> bool:
        """Whether the work was done after the deadline (the tick that completed it ended past it)."""
        return (self.tick - 1) * self.gap > self.deadline + 1e-6


def simulate(decide: Decide, run: SpotRun) -> Outcome:
    """Cost, finish time and lateness of one job driven by `decide`, run until its work is done."""
    while not run.finished:
        run.apply(*run.check(decide(*run.observe())))
    finish_s = (run.tick - 1) * run.gap  # the tick that completed the work ended here
    late = run.late
    # The next tick bills what ran in it; the strategy is asked once more, as the leaderboard's
    # simulator does ("realize the last step"). Its decision changes nothing, but a region switch
    # in it moves the job, and the bill is priced in the region it ends in.
    _decision, run.region = run.check(decide(*run.observe()))
    return Outcome(run.cost(), finish_s / 3600, late)


@cache
def tar_members(tar_path: Path) -> dict[str, bytes]:
    """All JSON files of a trace tarball, by member name (read once per process). Decompressed in
    one go and sliced: a third faster than tarfile's streaming reads of 28,000 small members."""
    raw = gzip.decompress(Path(tar_path).read_bytes())
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        return {
            m.name: raw[m.offset_data : m.offset_data + m.size]
            for m in tf
            if m.isfile() and m.name.endswith(".json")
        }


class TimedTrace(NamedTuple):
    """A spot trace and where it sits in its history: `history` None when the file does not say."""

    avail: tuple[int, ...]
    gap: float
    history: str | None
    start: int


def load_timed_trace(raw: bytes) -> TimedTrace:
    """A trace file: availability (1 = preempted), gap, and its history and start if it says them
    (`original_trace`, `metadata.start_time`)."""
    data = json.loads(raw)
    meta = data["metadata"]
    history, start = data.get("original_trace"), meta.get("start_time")
    if type(history) is not str or type(start) is not int:
        history, start = None, 0
    return TimedTrace(tuple(map(int, map(bool, data["data"]))), float(meta["gap_seconds"]), history, start)


def load_trace(raw: bytes) -> tuple[list[int], float]:
    trace = load_timed_trace(raw)
    return list(trace.avail), trace.gap


def _recalls(a: Sequence[int], b: Sequence[int], min_shared: int) -> bool:
    """Whether a process shown `b` would recognise `a` (or the reverse) and know some of its future:
    they share a prefix of at least `min_shared` ticks that is not constant."""
    if tuple(a[:min_shared]) != tuple(b[:min_shared]):
        return False
    n = min_shared
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    shared = a[:n]
    return 0 < sum(shared) < n or (n == len(a) == len(b))


def replay_rounds(
    items: Sequence[Any],
    shown: Callable[[Any], Sequence[Sequence[int]]],
    min_shared: int = 50,
    overlap: Callable[[Any, Any], bool] | None = None,
) -> list[list[Any]]:
    """`items` (scenarios) split into rounds, in order, so that no round shows the candidate an
    availability sequence it could recognise from an earlier one of the same round: one that starts
    the same way, or (`overlap`, from the traces' own record of where they were cut) a window of the
    same history that overlaps it, whose ticks, and so its future, the process has seen. The
    evaluator restarts the candidate's process (`candidate.restart()`) before each round: a strategy
    that remembers what it saw never meets a trace it has seen, and so never knows its future."""
    rounds: list[list[Any]] = []
    seen: list[list[Sequence[int]]] = []
    for item in items:
        seqs = shown(item)
        for members, shown_before in zip(rounds, seen, strict=True):
            if any(_recalls(a, b, min_shared) for a in seqs for b in shown_before):
                continue
            if overlap is not None and any(overlap(item, other) for other in members):
                continue
            members.append(item)
            shown_before.extend(seqs)
            break
        else:
            rounds.append([item])
            seen.append(list(seqs))
    return rounds
