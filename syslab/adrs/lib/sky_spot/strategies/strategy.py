"""Strategy base classes: subclasses implement `_step(last_cluster_type, has_spot) -> ClusterType`.

Runs in the candidate's process. Once per tick the driver refreshes the
strategy's views (`self.env`, `self.task_done_time`,
`self.remaining_restart_overhead`) from the simulator's observation and
calls `step()`, which returns `_step`'s decision for this tick. Booking the
progress, the deadline guard (keep a running spot instance or switch to
on-demand once the remaining work plus one restart no longer fits), restart
overheads and billing are the simulator's, in the trusted evaluator: a
strategy that edits its views only misleads itself.
"""

from __future__ import annotations

from sky_spot.utils import ClusterType


class Strategy:
    NAME = "abstract"
    SUBCLASSES: dict[str, type] = {}

    def __init__(self, args=None):
        self.args = args

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Re-registering a name is allowed: a candidate is reloaded between stages.
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

    def step(self) -> ClusterType:
        """This tick's decision (the driver calls it once per tick, after refreshing the views)."""
        last, has_spot = self.env.observe()
        return self._step(last, has_spot)

    def _step(self, last_cluster_type: ClusterType, has_spot: bool) -> ClusterType:
        raise NotImplementedError


class MultiRegionStrategy(Strategy):
    """Base of multi-region strategies: `_step` may call `self.env.switch_region(i)` before deciding."""

    NAME = "multi_region_base"
