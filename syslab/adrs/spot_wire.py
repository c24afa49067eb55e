"""The per-tick messages of the spot tasks, between the trusted simulator and the candidate's driver.

Split evaluation: the simulator (spot_sim.py, trusted) keeps the traces and
all the state that decides the cost; the strategy runs in the candidate's
process behind a driver (spot_adapter.py). Once per tick the simulator calls

    driver.tick(tick, last, avail, done_inc, restart_left, region)

    tick          int    ticks since the start (elapsed seconds = tick * gap)
    last          int    index in CLUSTER_TYPES of the cluster that ran in the previous tick
    avail         int    bit i set: region i has spot in this tick (one region: bit 0)
    done_inc      float  seconds of progress booked for the previous tick (task_done_time grows by it)
    restart_left  float  restart overhead still owed, in seconds, after that booking
    region        int    the region the job is in now

and the driver answers (decision, region): decision one of CLUSTER_TYPES as
a plain str, region the int index the job runs in for this tick (the same
one unless the strategy called switch_region). Six scalars go each way per
tick: no trace, no future tick, no cost figure ever reaches the candidate,
and nothing it sends back is used before the simulator has checked it.
"""

from __future__ import annotations

NONE, SPOT, ON_DEMAND = "NONE", "SPOT", "ON_DEMAND"
CLUSTER_TYPES = (NONE, SPOT, ON_DEMAND)  # `last` is an index into this tuple
CODES = {name: i for i, name in enumerate(CLUSTER_TYPES)}
