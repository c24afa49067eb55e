"""Evaluator for cloudcast: five broadcast scenarios, total cost scored on the leaderboard's scale.

Score: 0 at $1199.00 total, 100 at $626.24 (the leaderboard's anchors), linear, clamped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from syslab.adrs.cloudcast_sim import make_graph, simulate
from syslab.adrs.common import linear_score, load_candidate, seed_everything
from syslab.data import data_path
from syslab.evaluators import InvalidOutput

SCENARIOS = ["intra_aws", "intra_azure", "intra_gcp", "inter_agz", "inter_gaz2"]
NUM_VMS = 2
WORST_COST, BEST_COST = 1199.00, 626.24


def evaluate(program_path: str) -> dict:
    t0 = time.perf_counter()
    program = load_candidate(program_path, "search_algorithm", str(Path(__file__).parent / "task.toml"))
    cost_csv = data_path("adrs/cloudcast/profiles/cost.csv")
    tput_csv = data_path("adrs/cloudcast/profiles/throughput.csv")
    metrics: dict[str, float] = {}
    total_cost = total_time = 0.0
    for name in SCENARIOS:
        config = json.loads(data_path(f"adrs/cloudcast/configs/{name}.json").read_text())
        graph = make_graph(cost_csv, tput_csv, NUM_VMS)
        seed_everything(0)
        topo = program.search_algorithm(
            config["source_node"], list(config["dest_nodes"]), graph.copy(), config["num_partitions"]
        )
        if topo is None:
            raise InvalidOutput(f"{name}: search_algorithm returned None")
        if hasattr(topo, "set_num_partitions"):
            topo.set_num_partitions(config["num_partitions"])
        seconds, cost = simulate(topo, config, graph, NUM_VMS)
        metrics[f"cost_{name}"] = cost
        metrics[f"time_s_{name}"] = seconds
        total_cost += cost
        total_time += seconds
    metrics.update(
        score=linear_score(total_cost, WORST_COST, BEST_COST),
        total_cost=total_cost,
        total_transfer_s=total_time,
        eval_wall_s=time.perf_counter() - t0,
    )
    return metrics
