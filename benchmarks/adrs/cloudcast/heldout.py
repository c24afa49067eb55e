"""Held-out evaluation for cloudcast: the five broadcasts turned around (other sources).

Each search scenario broadcasts from one region to a set of others. Its held-out twin uses the
same regions, data volume, partitions and limits, but broadcasts from the scenario's last
destination to the other regions (the old source among them): other source/destination pairs of
the same measured price and throughput profiles. The leaderboard's anchors fit only the search
scenarios, so the held-out score is on the same relative scale: 0 at the cost of sending every
partition straight from the source to each destination (which is what $1199.00 is for the
search scenarios), 100 at the leaderboard's best fraction of that (626.24 / 1199.00).
syslab runs this after the search, on the best candidates, never during it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from evaluate import BEST_COST, NUM_VMS, SCENARIOS, WORST_COST, _rows

from syslab.adrs.cloudcast_sim import graph_from_rows, simulate
from syslab.adrs.common import linear_score
from syslab.data import data_path
from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate


def heldout_config(name: str) -> dict[str, Any]:
    config = json.loads(data_path(f"adrs/cloudcast/configs/{name}.json").read_text())
    dsts = list(config["dest_nodes"])
    config["source_node"], config["dest_nodes"] = dsts[-1], [config["source_node"], *dsts[:-1]]
    return config


def direct_paths(config: dict[str, Any]) -> dict[str, dict[str, list[list[str]]]]:
    """Every partition straight from the source to each destination: the score's zero."""
    src, parts = config["source_node"], int(config["num_partitions"])
    return {d: {str(p): [[src, d]] for p in range(parts)} for d in config["dest_nodes"]}


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = list(_rows())
    graph = graph_from_rows(rows)
    search = candidate.function("search_algorithm")
    total_cost = direct_cost = 0.0
    missed = 0
    for name in SCENARIOS:
        config = heldout_config(name)
        paths = search(config["source_node"], list(config["dest_nodes"]), rows, config["num_partitions"])
        if paths is None:
            raise InvalidOutput(f"held-out {name}: search_algorithm returned None")
        _seconds, cost, unconnected = simulate(paths, config, graph, NUM_VMS)
        total_cost += cost
        missed += unconnected
        direct_cost += simulate(direct_paths(config), config, graph, NUM_VMS)[1]
    return {
        "score": linear_score(total_cost, direct_cost, direct_cost * BEST_COST / WORST_COST),
        "total_cost": total_cost,
        "direct_cost": direct_cost,
        "undelivered": float(missed),
        "eval_wall_s": time.perf_counter() - t0,
    }
