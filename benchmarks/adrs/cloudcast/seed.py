"""Cloudcast: choose how a data object is broadcast from one cloud region to many.

Interface (as on the ADRS leaderboard): search_algorithm(src, dsts, G,
num_partitions) -> BroadCastTopology (from `broadcast`). G is a networkx
DiGraph of regions ("aws:us-east-1", ...) with edge attributes `cost` ($/GB
egress) and `throughput` (Gbps). Lower total cost is better.
"""

import networkx as nx

# EVOLVE-BLOCK-START


def search_algorithm(src, dsts, G, num_partitions):
    """Baseline: every partition follows the cheapest ($/GB) path to each destination."""
    from broadcast import BroadCastTopology

    h = G.copy()
    h.remove_edges_from(list(h.in_edges(src)) + list(nx.selfloop_edges(h)))
    topology = BroadCastTopology(src, dsts, num_partitions)
    for dst in dsts:
        route = nx.dijkstra_path(h, src, dst, weight="cost")
        for i in range(len(route) - 1):
            u, v = route[i], route[i + 1]
            for part in range(topology.num_partitions):
                topology.append_dst_partition_path(dst, part, [u, v, G[u][v]])
    return topology


# EVOLVE-BLOCK-END
