"""Candidate side of the spot tasks: build the program's Strategy and answer the simulator once per tick.

Imported by the tasks' adapter.py, in the candidate's sandboxed process,
before the program runs (so the program's `from sky_spot... import` finds
syslab's lib). Per scenario the trusted evaluator makes a `Driver` as a
remote object (`candidate.new("make_strategy", ...)`) and calls
`driver.tick(...)` each tick with that tick's observation (spot_wire.py);
the driver refreshes the strategy's views, calls `strategy.step()` and
answers (decision, region) as plain data. Nothing here is trusted: the
simulator checks every answer and keeps all the state that decides the cost.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

LIB_DIR = Path(__file__).resolve().parent / "lib"
if str(LIB_DIR) not in sys.path:
    sys.path.insert(0, str(LIB_DIR))
if os.getcwd() not in sys.path:  # the program's own dir (scratch), where it may write modules it imports
    sys.path.append(os.getcwd())

from sky_spot.env import Env, Job, MultiRegionEnv  # noqa: E402
from sky_spot.strategies.strategy import MultiRegionStrategy, Strategy  # noqa: E402
from sky_spot.utils import ClusterType  # noqa: E402

from syslab.adrs.spot_wire import CLUSTER_TYPES, CODES  # noqa: E402
from syslab.evaluators import InvalidOutput  # noqa: E402

_TYPES = tuple(ClusterType(name) for name in CLUSTER_TYPES)


class Preset(argparse.ArgumentParser):
    """A parser that parses a fixed argv: strategies call parser.parse_known_args() in _from_args."""

    def __init__(self, argv: list[str]):
        super().__init__(add_help=False)
        self._argv = argv
        self.add_argument("--deadline-hours", type=float)
        self.add_argument("--task-duration-hours", type=float, nargs="+")
        self.add_argument("--restart-overhead-hours", type=float, nargs="+")
        self.add_argument("--inter-task-overhead", type=float, nargs="+", default=[0.0])

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201 - argparse's signature
        return super().parse_known_args(self._argv if args is None else args, namespace)


def _subclass(module: ModuleType, base: type) -> type | None:
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, base) and obj not in (Strategy, MultiRegionStrategy):
            return obj
    return None


def strategy_class(module: ModuleType, base: type = Strategy) -> type:
    """The program's first subclass of `base` (the base classes themselves do not count); for a
    leaderboard solution whose `Solution().solve()` returns the strategy's code, that code's."""
    from syslab.adrs.adapter_support import resolve

    found = _subclass(
        resolve(module, lambda m: _subclass(m, base) is not None, f"subclass of {base.__name__}"), base
    )
    assert found is not None  # resolve() raised otherwise
    return found


def build(cls: type, duration_h: float, deadline_h: float, overhead_h: float) -> Strategy:
    """The strategy as the leaderboard makes it: `_from_args` with a parser of the scenario's flags."""
    argv = [
        "--deadline-hours", str(deadline_h), "--task-duration-hours", str(duration_h),
        "--restart-overhead-hours", str(overhead_h),
    ]  # fmt: skip
    maker = getattr(cls, "_from_args", None)
    strategy = maker(Preset(argv)) if maker else cls(Preset(argv).parse_known_args()[0])
    if not isinstance(strategy, Strategy):
        raise InvalidOutput(f"{cls.__name__}._from_args returned {type(strategy).__name__}, not a Strategy")
    return strategy


def seed_rngs(seed: int = 0) -> None:
    """Strategies often use the global RNGs; seeding them per scenario makes an evaluation repeatable."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # numpy is a syslab dependency, but stay importable without it
        pass


class Driver:
    """One scenario's strategy and its views; `tick` is the simulator's one call per tick."""

    __slots__ = ("strategy", "env")

    def __init__(self, strategy: Strategy, env: Env):
        self.strategy, self.env = strategy, env

    def tick(
        self, tick: int, last: int, avail: int, done_inc: float, restart_left: float, region: int
    ) -> tuple:
        strategy = self.strategy
        self.env.update(tick, _TYPES[last], avail, region)
        strategy.task_done_time.append(done_inc)
        strategy.remaining_restart_overhead = restart_left
        request = strategy.step()
        try:
            decision = ClusterType(getattr(request, "value", request)).value
        except (ValueError, TypeError):
            raise InvalidOutput(
                f"tick {tick}: _step returned a {type(request).__name__}, not a ClusterType"
            ) from None
        return decision, self.env.current_region


def make_driver(
    program: ModuleType,
    base: type,
    duration_h: float,
    deadline_h: float,
    overhead_h: float,
    gap_seconds: float,
    num_regions: int = 1,
) -> Driver:
    """Seed the RNGs, build the program's strategy and reset it on fresh views of a new job."""
    seed_rngs(0)
    strategy = build(strategy_class(program, base), duration_h, deadline_h, overhead_h)
    env = MultiRegionEnv(gap_seconds, num_regions) if base is MultiRegionStrategy else Env(gap_seconds)
    strategy.reset(env, Job(duration_h * 3600))
    return Driver(strategy, env)


class Fleet:
    """Many scenarios' drivers in one process, stepped side by side (spot_lockstep.py). `step` gets the
    scenarios that start, as (id, *factory arguments), and the running ones' observations as an int64
    array of (id, tick, last, avail, region) rows and a float64 array of (done_inc, restart_left)
    rows; it answers an int64 array of (decision index into CLUSTER_TYPES, region) rows, in order."""

    __slots__ = ("program", "factory", "drivers")

    def __init__(self, program: ModuleType, factory: Callable[..., Driver]):
        self.program, self.factory = program, factory
        self.drivers: dict[int, Driver] = {}

    def step(self, new: list, ints: np.ndarray, floats: np.ndarray) -> np.ndarray:
        drivers, codes = self.drivers, CODES
        for sid, *args in new:
            drivers[sid] = self.factory(self.program, *args)
        out = []
        for (sid, tick, last, avail, region), (done_inc, restart_left) in zip(
            ints.tolist(), floats.tolist(), strict=True
        ):
            decision, region = drivers[sid].tick(tick, last, avail, done_inc, restart_left, region)
            code = codes.get(str(decision)) if isinstance(decision, str) else None
            if code is None:
                raise InvalidOutput(
                    f"tick {tick}: decision {decision!r:.60} is not one of {', '.join(CLUSTER_TYPES)}"
                )
            out.append((code, region))
        return np.array(out, dtype=np.int64).reshape(-1, 2)


def single_region(
    program: ModuleType, duration_h: float, deadline_h: float, overhead_h: float, gap_seconds: float
) -> Driver:
    """cant_be_late: a `Strategy` subclass, one region."""
    return make_driver(program, Strategy, duration_h, deadline_h, overhead_h, gap_seconds)


def multi_region(
    program: ModuleType,
    duration_h: float,
    deadline_h: float,
    overhead_h: float,
    gap_seconds: float,
    num_regions: int,
) -> Driver:
    """cant_be_late_multi: a `MultiRegionStrategy` subclass over `num_regions` regions."""
    return make_driver(
        program, MultiRegionStrategy, duration_h, deadline_h, overhead_h, gap_seconds, num_regions
    )
