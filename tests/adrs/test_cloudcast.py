import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput

SEED = TASKS / "cloudcast" / "seed.py"

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
import networkx as nx
from broadcast import BroadCastTopology

def search_algorithm(src, dsts, G, num_partitions):
    topo = BroadCastTopology(src, dsts, num_partitions)
    for dst in dsts[:-1]:  # forgets the last destination
        for p in range(num_partitions):
            topo.append_dst_partition_path(dst, p, [src, dst, G[src][dst]])
    return topo
"""


def test_seed_matches_published_baseline_and_is_deterministic():
    evaluate = load_evaluator("cloudcast")
    a, b = evaluate(str(SEED)), evaluate(str(SEED))
    assert a == {**b, "eval_wall_s": a["eval_wall_s"]}
    assert a["score"] == pytest.approx(26.737, abs=0.01)  # results/cloudcast/baseline/results.json


def test_better_candidate(tmp_path):
    evaluate = load_evaluator("cloudcast")
    better = evaluate(write(tmp_path, BETTER))
    assert better["total_cost"] < evaluate(str(SEED))["total_cost"]


def test_missing_destination_is_invalid(tmp_path):
    with pytest.raises(InvalidOutput, match="has no path|missing destination"):
        load_evaluator("cloudcast")(write(tmp_path, MISSING))
