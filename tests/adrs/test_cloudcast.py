"""cloudcast in split mode: the graph crosses as edge rows, the topology comes back as plain paths."""

import pytest
from adrs_support import TASKS, sandboxed, score, seed_code

from syslab.adrs.cloudcast_sim import edge_rows, graph_from_rows, make_graph, simulate
from syslab.data import data_path
from syslab.evaluators import CandidateRejected
from syslab.task import load_task

SEED = seed_code("cloudcast")
SEED_SCORE = 26.737131608352556  # = results/cloudcast/baseline/results.json (26.737), as before the split

# Grow one shared tree (a directed Steiner heuristic): repeatedly attach the destination that is
# cheapest ($/GB) to reach from any node already in the tree, so destinations share relay edges.
BETTER = """
import networkx as nx
from broadcast import BroadCastTopology

def search_algorithm(src, dsts, G, num_partitions):
    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)))
    parent, left = {src: None}, set(dsts)
    while left:
        dist, paths = nx.multi_source_dijkstra(h, set(parent), weight="cost")
        dst = min(left, key=lambda d: (dist[d], d))
        path = paths[dst]
        for u, v in zip(path, path[1:]):
            parent.setdefault(v, u)
        left -= set(path)
    topo = BroadCastTopology(src, dsts, num_partitions)
    for dst in dsts:
        chain, node = [], dst
        while parent[node] is not None:
            chain.append((parent[node], node))
            node = parent[node]
        for u, v in reversed(chain):
            for p in range(num_partitions):
                topo.append_dst_partition_path(dst, p, [u, v, G[u][v]])
    return topo
"""

MISSING = """
from broadcast import BroadCastTopology

def search_algorithm(src, dsts, G, num_partitions):
    topo = BroadCastTopology(src, dsts, num_partitions)
    for dst in dsts[:-1]:  # forgets the last destination
        for p in range(num_partitions):
            topo.append_dst_partition_path(dst, p, [src, dst, G[src][dst]])
    return topo
"""

# Adds a free direct edge to every destination in its own graph copy and sends everything over it.
INVENTED_EDGES = """
from broadcast import BroadCastTopology

def search_algorithm(src, dsts, G, num_partitions):
    topo = BroadCastTopology(src, dsts, num_partitions)
    for dst in dsts:
        G.add_edge(src, dst, cost=0.0, throughput=1000.0)
        for p in range(num_partitions):
            topo.append_dst_partition_path(dst, p, [src, dst, G[src][dst]])
    topo.append_dst_partition_path(dsts[0], 0, ["aws:nowhere-1", dsts[0], {}])
    return topo
"""

# Zeroes every price in its graph copy, then routes like the seed: costed on the real prices.
FREE_PRICES = (
    SEED.replace(
        "def search_algorithm(src, dsts, G, num_partitions):", "def seed(src, dsts, G, num_partitions):"
    )
    + """

def search_algorithm(src, dsts, G, num_partitions):
    topo = seed(src, dsts, G, num_partitions)
    for _, _, data in G.edges(data=True):
        data["cost"] = 0.0
    return topo
"""
)

# Routes every destination through one relay (the first destination) but lists the relay's inbound hop
# only when asked to: without it the relay's onward edges carry data that never arrives from the
# source. The leaderboard costs what is listed, so leaving the hop out is cheaper and still scored.
RELAY = """
from broadcast import BroadCastTopology

INBOUND = __INBOUND__

def search_algorithm(src, dsts, G, num_partitions):
    topo = BroadCastTopology(src, dsts, num_partitions)
    hub = dsts[0]
    for p in range(num_partitions):
        if INBOUND:
            topo.append_dst_partition_path(hub, p, [src, hub, G[src][hub]])
        for dst in dsts[1:]:
            topo.append_dst_partition_path(dst, p, [hub, dst, G[hub][dst]])
        if not INBOUND:  # the relay's own list: an edge out of it, so the list is not empty
            topo.append_dst_partition_path(hub, p, [hub, dsts[1], G[hub][dsts[1]]])
    return topo
"""

RETURNS_NONE = """
def search_algorithm(src, dsts, G, num_partitions):
    return None
"""

# Replaces the adapter's function: paths that name edges as numbers instead of [src, dst].
FORGED = """
import sys

def search_algorithm(src, dsts, G, num_partitions):
    return None

def forged(program, src, dsts, rows, parts):
    return {d: {str(p): [[1, 2]] for p in range(parts)} for d in dsts}

sys.modules["syslab_adapter"].search_algorithm = forged
"""


def test_graph_rows_rebuild_the_same_graph():
    cost, tput = (
        data_path("adrs/cloudcast/profiles/cost.csv"),
        data_path("adrs/cloudcast/profiles/throughput.csv"),
    )
    rows = edge_rows(cost, tput, 2)
    g = graph_from_rows(rows)
    assert list(g.edges(data=True)) == list(make_graph(cost, tput, 2).edges(data=True))
    assert all(type(u) is str and type(v) is str and type(t) is float for u, v, t, _ in rows)


def test_task_is_split():
    task = load_task(TASKS / "cloudcast")
    assert task.evaluation_mode == "split" and task.spec.adapter == "adapter.py"


def test_seed_matches_published_baseline_and_is_deterministic():
    a, b = score("cloudcast", SEED), score("cloudcast", SEED)
    assert a == {**b, "eval_wall_s": a["eval_wall_s"]}
    assert a["score"] == pytest.approx(SEED_SCORE, abs=1e-9)


def test_better_candidate():
    assert score("cloudcast", BETTER)["total_cost"] < score("cloudcast", SEED)["total_cost"]


def test_prices_changed_in_the_candidate_are_not_used():
    assert score("cloudcast", FREE_PRICES)["score"] == pytest.approx(SEED_SCORE, abs=1e-9)


@pytest.mark.parametrize(
    "code, message",
    [
        (MISSING, "has no path|missing destination"),
        (INVENTED_EDGES, "not in the region graph"),
        (RETURNS_NONE, "returned None"),
        (FORGED, "is not \\[src, dst, data\\]"),
    ],
    ids=["missing_destination", "invented_edges", "none", "forged"],
)
def test_bad_topologies_are_invalid(code, message):
    with pytest.raises(CandidateRejected, match=message) as info:
        score("cloudcast", code, scenarios=("intra_aws", "inter_agz"))
    assert info.value.kind.value == "invalid_output"


def test_unconnected_relay_is_scored_and_counted_as_leaderboard_does():
    scenarios = ("intra_aws", "inter_agz")
    connected = score("cloudcast", RELAY.replace("__INBOUND__", "True"), scenarios=scenarios)
    unconnected = score("cloudcast", RELAY.replace("__INBOUND__", "False"), scenarios=scenarios)
    assert connected["undelivered"] == 0 and unconnected["undelivered"] > 0
    assert unconnected["total_cost"] < connected["total_cost"]
    assert score("cloudcast", SEED)["undelivered"] == 0


def test_undelivered_counts_each_destination_and_partition():
    g = graph_from_rows([("s", "a", 10.0, 0.1), ("a", "b", 10.0, 0.1), ("s", "b", 10.0, 0.2)])
    config = {"source_node": "s", "dest_nodes": ["a", "b"], "num_partitions": 2, "data_vol": 4.0}
    # partition 0: s->a->b (both reached); partition 1: only a->b listed (neither reached from s)
    paths = {"a": {"0": [["s", "a"]], "1": [["a", "b"]]}, "b": {"0": [["a", "b"]], "1": [["a", "b"]]}}
    seconds, cost, missed = simulate(paths, config, g, 1)
    assert missed == 2 and seconds > 0 and cost > 0
    paths["a"]["1"] = [["s", "a"]]
    assert simulate(paths, config, g, 1).undelivered == 0


def test_sandboxed_end_to_end():
    result = sandboxed("cloudcast", SEED)
    assert result.valid and result.verified, result.failure
    assert result.score == pytest.approx(SEED_SCORE, abs=1e-9)
