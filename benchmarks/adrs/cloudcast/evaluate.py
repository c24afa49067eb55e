"""Evaluator for cloudcast: five broadcast scenarios, total cost scored on the leaderboard's scale.

Score: 0 at $1199.00 total, 100 at $626.24 (the leaderboard's anchors), linear, clamped.

Split evaluation: the region graph crosses to the candidate as plain edge rows (adapter.py rebuilds
the networkx graph there) and the topology comes back as plain paths per destination and
partition; they are validated (every destination and partition has edges, only existing, priced
edges) and costed here, on this process's graph.

As on the leaderboard, edges that do not connect the source to a destination are costed, not
rejected; `undelivered` counts the (destination, partition) pairs left unconnected, summed over
the scenarios (0 for a topology that delivers everything).
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

from syslab.adrs.cloudcast_sim import Edge, edge_rows, graph_from_rows, simulate
from syslab.adrs.common import linear_score
from syslab.data import data_path
from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate

SCENARIOS = ["intra_aws", "intra_azure", "intra_gcp", "inter_agz", "inter_gaz2"]
NUM_VMS = 2
WORST_COST, BEST_COST = 1199.00, 626.24


@cache
def _rows() -> tuple[Edge, ...]:
    cost_csv = data_path("adrs/cloudcast/profiles/cost.csv")
    tput_csv = data_path("adrs/cloudcast/profiles/throughput.csv")
    return tuple(edge_rows(cost_csv, tput_csv, NUM_VMS))


def warm() -> None:
    _rows()  # once, in the trusted warm template: the cost and throughput grid


def evaluate(candidate: Candidate, scenarios: tuple[str, ...] = tuple(SCENARIOS)) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = list(_rows())
    graph = graph_from_rows(rows)
    search = candidate.function("search_algorithm")
    metrics: dict[str, Any] = {}
    total_cost = total_time = 0.0
    missed = 0
    for name in scenarios:
        config = json.loads(data_path(f"adrs/cloudcast/configs/{name}.json").read_text())
        paths = search(config["source_node"], list(config["dest_nodes"]), rows, config["num_partitions"])
        if paths is None:
            raise InvalidOutput(f"{name}: search_algorithm returned None")
        seconds, cost, unconnected = simulate(paths, config, graph, NUM_VMS)
        missed += unconnected
        metrics[f"cost_{name}"] = cost
        metrics[f"time_s_{name}"] = seconds
        total_cost += cost
        total_time += seconds
    metrics.update(
        score=linear_score(total_cost, WORST_COST, BEST_COST),
        total_cost=total_cost,
        total_transfer_s=total_time,
        undelivered=float(missed),
        eval_wall_s=time.perf_counter() - t0,
    )
    return metrics
