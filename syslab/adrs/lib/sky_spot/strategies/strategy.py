"""Strategy base classes: subclasses implement `_step(last_cluster_type, has_spot) -> ClusterType`.

`step()` (called once per tick by the simulator) first books the work done in
the previous tick (a tick on a cluster yields `gap_seconds` of progress minus
any restart overhead still owed), asks `_step` for a decision, and then
applies a deadline guard: when the remaining work plus one restart no longer
fits before the deadline, it keeps a running spot instance or switches to
on-demand. Switching to a different cluster type owes one restart overhead.
"""

from __future__ import annotations

import math

from sky_spot.utils import ClusterType


class Strategy:
    NAME = "abstract"
    SUBCLASSES: dict[str, type] = {}

    def __init__(self, args=None):
        self.args = args

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Re-registering a name is allowed: candidates are reloaded many times in one process.
        Strategy.SUBCLASSES[getattr(cls, "NAME", cls.__name__)] = cls

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)

    def reset(self, env, task) -> None:
        args = self.args
        self.env = env
        self.task = task
        self.deadline = float(args.deadline_hours) * 3600
        self.task_duration = task.duration_s
        self.restart_overheads = [h * 3600 for h in args.restart_overhead_hours]
        self.restart_overhead = self.restart_overheads[0]
        self.task_done_time: list[float] = []
        task.progress = self.task_done_time
        self.remaining_restart_overhead = 0.0

    @property
    def task_done(self) -> bool:
        return self.task_duration - sum(self.task_done_time) <= 1e-8

    @property
    def name(self) -> str:
        return self.NAME

    def _book_progress(self, last: ClusterType) -> None:
        if last == ClusterType.NONE:
            self.task_done_time.append(0.0)
            return
        gap = self.env.gap_seconds
        work = max(gap - self.remaining_restart_overhead, 0.0)
        self.remaining_restart_overhead -= gap - work
        if self.remaining_restart_overhead < 1e-3:
            self.remaining_restart_overhead = 0.0
        self.task_done_time.append(min(work, self.task_duration - sum(self.task_done_time)))

    def _guard(self, proposed: ClusterType, last: ClusterType) -> ClusterType:
        gap = self.env.gap_seconds
        left = math.floor((self.deadline - self.env.elapsed_seconds) / gap) * gap
        work = self.task_duration - sum(self.task_done_time)
        if work <= 1e-3:
            return proposed
        if math.ceil((work + self.restart_overhead) / gap) * gap >= left:
            if last == ClusterType.SPOT and self.remaining_restart_overhead < 1e-3:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return proposed

    def step(self) -> ClusterType:
        env = self.env
        last, has_spot = env.observe()
        self._book_progress(last)
        request = self._guard(self._step(last, has_spot), last)
        if not isinstance(request, ClusterType):
            request = ClusterType(getattr(request, "value", request))
        if request == ClusterType.SPOT and not env.spot_available():
            request = ClusterType.NONE  # asking for spot where there is none gets nothing
        running = ClusterType.NONE if (last == ClusterType.SPOT and not has_spot) else last
        if request not in (running, ClusterType.NONE):
            self.remaining_restart_overhead = self.restart_overhead
        return request

    def _step(self, last_cluster_type: ClusterType, has_spot: bool) -> ClusterType:
        raise NotImplementedError


class MultiRegionStrategy(Strategy):
    """Base of multi-region strategies: `_step` may call `self.env.switch_region(i)` before deciding."""

    NAME = "multi_region_base"
