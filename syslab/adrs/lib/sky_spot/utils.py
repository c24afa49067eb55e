"""Cluster types and the prices used by the cant-be-late problems ($/hour, one V100)."""

import enum


class ClusterType(str, enum.Enum):
    NONE = "NONE"
    SPOT = "SPOT"
    ON_DEMAND = "ON_DEMAND"


COSTS = {ClusterType.ON_DEMAND: 3.06, ClusterType.SPOT: 0.9731, ClusterType.NONE: 0.0}
COST_K = COSTS[ClusterType.ON_DEMAND] / COSTS[ClusterType.SPOT]
