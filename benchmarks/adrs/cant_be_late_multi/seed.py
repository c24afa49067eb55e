"""Can't Be Late, multi-region: finish a 48-hour job within 52 hours at the lowest cost, using spot instances
in whichever of several AWS regions has them, or on-demand.

Interface (as on the ADRS leaderboard): a `MultiRegionStrategy` subclass with
a NAME, `__init__(self, args)` calling super().__init__(args), a
`_step(last_cluster_type, has_spot) -> ClusterType` and a `_from_args(parser)`
classmethod. Available: self.env.elapsed_seconds, self.env.gap_seconds,
self.env.get_current_region(), self.env.get_num_regions(),
self.env.switch_region(i), self.task_duration, self.task_done_time (seconds
of progress per tick), self.deadline, self.restart_overhead,
self.remaining_restart_overhead (all seconds). `has_spot` is for the current
region; after switch_region, the request runs in the new region.
"""

import math

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType

# EVOLVE-BLOCK-START


class RoundRobinGreedy(MultiRegionStrategy):
    """Baseline: spot where we are if it is up; otherwise move to the next region and wait a tick;
    on-demand once the deadline gets close."""

    NAME = "round_robin_greedy"

    def __init__(self, args):
        super().__init__(args)

    def _step(self, last_cluster_type, has_spot):
        env = self.env
        gap = env.gap_seconds
        remaining = self.task_duration - sum(self.task_done_time)
        if remaining <= 1e-3:
            return ClusterType.NONE
        time_left = math.floor((self.deadline - env.elapsed_seconds) / gap) * gap
        need_one = math.ceil((remaining + self.restart_overhead) / gap) * gap
        need_two = math.ceil((remaining + 2 * self.restart_overhead) / gap) * gap
        if need_one >= time_left:
            if last_cluster_type == ClusterType.SPOT and self.remaining_restart_overhead < 1e-3:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        if need_two >= time_left:
            if last_cluster_type == ClusterType.SPOT and has_spot:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        if has_spot:
            return ClusterType.SPOT
        if env.get_num_regions() > 1:
            env.switch_region((env.get_current_region() + 1) % env.get_num_regions())
        return ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)


# EVOLVE-BLOCK-END
