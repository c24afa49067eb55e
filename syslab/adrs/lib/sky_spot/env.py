"""What a strategy sees as `self.env` and `self.task`: views refreshed once per tick by the driver.

They hold copies of this tick's observation (from the trusted simulator),
never a trace: the future is not in this process. Changing them changes
only what the strategy itself reads.
"""

from __future__ import annotations

from sky_spot.utils import ClusterType
from syslab.evaluators import InvalidOutput


class Job:
    """The job as a strategy reads it (`self.task`); `progress` is the strategy's task_done_time."""

    def __init__(self, duration_s: float):
        self.duration_s = duration_s
        self.progress: list[float] | None = None

    @property
    def is_done(self) -> bool:  # leaderboard strategies read self.task.is_done
        return self.duration_s - sum(self.progress or []) <= 1e-8


class Env:
    """One region: the tick, the cluster the job runs on now, whether spot is up in this tick."""

    def __init__(self, gap_seconds: float, num_regions: int = 1):
        self.gap_seconds = float(gap_seconds)
        self.tick = 0
        self.cluster_type = ClusterType.NONE
        self.current_region = 0
        self._num_regions = num_regions
        self._last = ClusterType.NONE
        self._has_spot = False
        self._avail = 0

    @property
    def elapsed_seconds(self) -> float:
        return self.tick * self.gap_seconds

    def update(self, tick: int, last: ClusterType, avail: int, region: int) -> None:
        """The driver's refresh at the start of a tick (see syslab/adrs/spot_wire.py)."""
        self.tick, self.current_region, self._avail = tick, region, avail
        self._last = last
        self._has_spot = bool(avail >> region & 1)
        preempted = last == ClusterType.SPOT and not self._has_spot
        self.cluster_type = ClusterType.NONE if preempted else last

    def observe(self) -> tuple[ClusterType, bool]:
        """(cluster that ran in the previous tick, spot available in this tick where the job was)."""
        return self._last, self._has_spot

    def spot_available(self) -> bool:
        """Spot in this tick, in the job's current region."""
        return bool(self._avail >> self.current_region & 1)


class MultiRegionEnv(Env):
    """Several regions: the strategy may look at every region's spot now and move the job."""

    def get_num_regions(self) -> int:
        return self._num_regions

    def get_current_region(self) -> int:
        return self.current_region

    def switch_region(self, region_idx: int) -> bool:
        self._check(region_idx)
        self.current_region = region_idx
        return True

    def spot_available_in_region(self, region_idx: int) -> bool:
        self._check(region_idx)
        return bool(self._avail >> region_idx & 1)

    def get_all_regions_spot_available(self) -> list[bool]:
        return [bool(self._avail >> i & 1) for i in range(self._num_regions)]

    def _check(self, region_idx: object) -> None:
        if isinstance(region_idx, bool) or not isinstance(region_idx, int):
            raise InvalidOutput(f"switch_region({region_idx!r}): region index must be an int")
        if not 0 <= region_idx < self._num_regions:
            raise InvalidOutput(f"switch_region({region_idx}): only regions 0..{self._num_regions - 1} exist")
