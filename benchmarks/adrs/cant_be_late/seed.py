"""Can't Be Late: run a 48-hour job on cheap but preemptible spot instances or pricey on-demand ones,
finishing before the deadline at the lowest cost.

Interface (as on the ADRS leaderboard): a `Strategy` subclass with a NAME, a
`_step(last_cluster_type, has_spot) -> ClusterType` and a `_from_args(parser)`
classmethod. Available: self.env.elapsed_seconds, self.env.gap_seconds,
self.env.cluster_type, self.task_duration, self.task_done_time (list of
seconds of progress per tick), self.deadline, self.restart_overhead (seconds).
"""

import math

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

# EVOLVE-BLOCK-START


class GreedySafety(Strategy):
    """Baseline: use spot whenever it is up, wait otherwise, go on-demand when the deadline gets close."""

    NAME = "greedy_safety"

    def _step(self, last_cluster_type, has_spot):
        gap = self.env.gap_seconds
        remaining = self.task_duration - sum(self.task_done_time)
        if remaining <= 1e-9:
            return ClusterType.NONE
        ticks_left = max(0, math.floor((self.deadline - self.env.elapsed_seconds) / gap))
        need_one_restart = math.ceil((remaining + self.restart_overhead) / gap)
        need_two_restarts = math.ceil((remaining + 2 * self.restart_overhead) / gap)
        if need_one_restart >= ticks_left:
            return ClusterType.ON_DEMAND
        if need_two_restarts >= ticks_left:
            # close to the edge: keep a running spot instance, otherwise secure on-demand
            if self.env.cluster_type == ClusterType.SPOT and has_spot:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)


# EVOLVE-BLOCK-END
