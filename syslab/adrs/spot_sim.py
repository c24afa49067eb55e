"""Trace-driven spot/on-demand simulation for the cant-be-late problems (syslab's own).

A trace is a list of ticks (`gap_seconds` each); value 1 means spot is
unavailable (preempted) in that tick. Each tick the strategy picks SPOT,
ON_DEMAND or NONE; the cluster it ran on during a tick is billed for the tick
(on-demand $3.06/h, spot $0.9731/h). A job of `duration` hours must finish by
the deadline; changing cluster type costs `overhead` hours of lost progress.
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from syslab.adrs.common import use_lib
from syslab.evaluators import InvalidOutput, WrongAnswer

use_lib()
from sky_spot.strategies.strategy import MultiRegionStrategy, Strategy  # noqa: E402
from sky_spot.utils import COSTS, ClusterType  # noqa: E402


@dataclass
class Job:
    duration_s: float
    progress: list | None = None

    @property
    def is_done(self) -> bool:  # leaderboard strategies read self.task.is_done
        return self.duration_s - sum(self.progress or []) <= 1e-8


class TraceEnv:
    """One region's availability trace, with the attributes strategies read."""

    def __init__(self, availability: list[int], gap_seconds: float):
        self._trace = availability
        self.gap_seconds = float(gap_seconds)
        self.reset()

    def reset(self) -> None:
        self.tick = 0
        self.cluster_type = ClusterType.NONE
        self.billed: list[ClusterType] = []
        self._observed = -1

    @property
    def elapsed_seconds(self) -> float:
        return self.tick * self.gap_seconds

    def spot_available(self) -> bool:
        if self.tick >= len(self._trace):
            raise WrongAnswer(
                f"deadline miss: job still running after the trace ends ({len(self._trace)} ticks)"
            )
        return not self._trace[self.tick]

    def observe(self) -> tuple[ClusterType, bool]:
        self._observed = self.tick
        has_spot = self.spot_available()
        last = self.cluster_type
        self.billed.append(last)
        if last == ClusterType.SPOT and not has_spot:
            self.cluster_type = ClusterType.NONE  # preempted
        return last, has_spot

    def step(self, request: ClusterType) -> None:
        if self._observed != self.tick:
            self.observe()
        if request == ClusterType.SPOT and not self.spot_available():
            raise InvalidOutput(f"tick {self.tick}: SPOT launched while spot is unavailable")
        self.cluster_type = request
        self.tick += 1

    def cost(self) -> float:
        return sum(COSTS[c] for c in self.billed) * self.gap_seconds / 3600


class _Preset(argparse.ArgumentParser):
    """A parser that parses a fixed argv: strategies call parser.parse_known_args() in _from_args."""

    def __init__(self, argv: list[str]):
        super().__init__(add_help=False)
        self._argv = argv
        self.add_argument("--deadline-hours", type=float)
        self.add_argument("--task-duration-hours", type=float, nargs="+")
        self.add_argument("--restart-overhead-hours", type=float, nargs="+")
        self.add_argument("--inter-task-overhead", type=float, nargs="+", default=[0.0])

    def parse_known_args(self, args=None, namespace=None):
        return super().parse_known_args(self._argv if args is None else args, namespace)


def strategy_class(module, base: type = Strategy) -> type:
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, base) and obj not in (Strategy, MultiRegionStrategy):
            return obj
    raise InvalidOutput(f"program defines no subclass of {base.__name__}")


def make_strategy(cls: type, duration_h: float, deadline_h: float, overhead_h: float):
    argv = [
        "--deadline-hours", str(deadline_h), "--task-duration-hours", str(duration_h),
        "--restart-overhead-hours", str(overhead_h),
    ]  # fmt: skip
    maker = getattr(cls, "_from_args", None)
    strategy = maker(_Preset(argv)) if maker else cls(_Preset(argv).parse_known_args()[0])
    if not isinstance(strategy, Strategy):
        raise InvalidOutput(f"{cls.__name__}._from_args returned {type(strategy).__name__}, not a Strategy")
    return strategy


def simulate(strategy, env: TraceEnv, duration_h: float) -> tuple[float, float]:
    """(cost $, finish time h) of one job; WrongAnswer when the deadline is missed."""
    job = Job(duration_h * 3600)
    env.reset()
    strategy.reset(env, job)
    while not strategy.task_done:
        env.step(strategy.step())
    finish_s = (env.tick - 1) * env.gap_seconds  # the tick that completed the work ended here
    strategy.step()  # books the last tick
    env.step(ClusterType.NONE)
    if finish_s > strategy.deadline + 1e-6:
        raise WrongAnswer(
            f"deadline miss: finished at {finish_s / 3600:.2f} h, deadline {strategy.deadline / 3600:g} h"
        )
    return env.cost(), finish_s / 3600


@cache
def tar_members(tar_path: Path) -> dict[str, bytes]:
    """All JSON files of a trace tarball, by member name (read once per process)."""
    out = {}
    with tarfile.open(tar_path) as tf:
        for m in tf:
            if m.isfile() and m.name.endswith(".json"):
                f = tf.extractfile(m)
                if f is not None:
                    out[m.name] = f.read()
    return out


def load_trace(raw: bytes) -> tuple[list[int], float]:
    data = json.load(io.BytesIO(raw))
    return [int(bool(x)) for x in data["data"]], float(data["metadata"]["gap_seconds"])
