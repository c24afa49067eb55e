"""Cloudcast: region graph from measured profiles, and the cost/time of a broadcast topology.

Model (as described by the ADRS cloudcast problem): the object of `data_vol` GB
is split in `num_partitions` equal parts; each part travels to each
destination along the edges the topology lists. An edge used by k partitions
carries k parts. Each edge runs at its measured throughput, shared equally
among a node's in-edges (out-edges) when their sum exceeds the provider's
ingress (egress) limit × VMs. Time to a destination = slowest edge on any of
its partitions' paths; cost = egress $/GB on every used edge + VM-hours of
every region involved for the whole transfer.

Delivery as on the leaderboard: its simulator costs the edges a topology
lists and never checks that they connect the source to each destination, so
a topology that leaves out a relay's inbound hop is cheaper, not invalid.
Here too it is scored; `Broadcast.undelivered` counts the (destination,
partition) pairs the listed edges never connect to the source (syslab's
stricter reading, reported as the `undelivered` metric). A partition with no
edges at all is still invalid (there it is a crash on `None`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import networkx as nx

from syslab.evaluators import InvalidOutput

INSTANCE_USD_PER_HOUR = 0.54  # m5.8xlarge spot, per VM
DEFAULT_INGRESS = {"aws": 10, "gcp": 16, "azure": 16}  # Gbps per VM
DEFAULT_EGRESS = {"aws": 5, "gcp": 7, "azure": 16}


Edge = tuple[str, str, float, "float | None"]  # (src region, dst region, throughput Gbps, cost $/GB)


class Broadcast(NamedTuple):
    """One costed broadcast: transfer time, total cost, and how many (destination, partition) pairs
    the topology never connects to the source."""

    seconds: float
    cost: float
    undelivered: int


def edge_rows(cost_csv: Path, throughput_csv: Path, num_vms: int) -> list[Edge]:
    """The region graph's edges in the order they are added (node and adjacency order follow it);
    plain data, so the candidate's side can rebuild the very same graph (`graph_from_rows`)."""
    throughput: dict[tuple[str, str], float] = {}
    with open(throughput_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["src_region"] != row["dst_region"]:
                throughput[(row["src_region"], row["dst_region"])] = (
                    num_vms * float(row["throughput_sent"]) / 1e9
                )
    cost: dict[tuple[str, str], float] = {}
    with open(cost_csv, newline="") as f:
        for row in csv.DictReader(f):
            if (row["src"], row["dest"]) in throughput:
                cost[(row["src"], row["dest"])] = float(row["cost"])
    return [(u, v, gbps, cost.get((u, v))) for (u, v), gbps in throughput.items()]


def graph_from_rows(rows: list[Edge]) -> nx.DiGraph:
    """Directed region graph; edge attrs `throughput` (Gbps, all VMs) and `cost` ($/GB, None if unpriced)."""
    g = nx.DiGraph()
    for u, v, gbps, usd in rows:
        g.add_edge(u, v, throughput=gbps, cost=usd)
    return g


def make_graph(cost_csv: Path, throughput_csv: Path, num_vms: int) -> nx.DiGraph:
    return graph_from_rows(edge_rows(cost_csv, throughput_csv, num_vms))


def _edges_of(paths: dict, dst: str, part: int, graph: nx.DiGraph) -> list[tuple[str, str]]:
    """The (u, v) edges carrying `part` to `dst`, from plain paths {dst: {str(part): [[u, v], ...]}}."""
    if not isinstance(paths, dict) or dst not in paths:
        raise InvalidOutput(f"missing destination {dst!r} in the topology")
    edges = paths[dst].get(str(part)) if isinstance(paths[dst], dict) else None
    if not edges:
        raise InvalidOutput(f"destination {dst!r}: partition {part} has no path")
    if not isinstance(edges, list):
        raise InvalidOutput(f"destination {dst!r}: partition {part}: edges are not a list")
    pairs = []
    for e in edges:
        if not isinstance(e, (list, tuple)) or len(e) != 2 or not all(type(x) is str for x in e):
            raise InvalidOutput(f"destination {dst!r}: edge {str(e)[:80]} is not [src, dst, data]")
        u, v = e
        if not graph.has_edge(u, v):
            raise InvalidOutput(f"destination {dst!r}: edge {u} -> {v} is not in the region graph")
        if graph[u][v]["cost"] is None:
            raise InvalidOutput(f"destination {dst!r}: edge {u} -> {v} has no price")
        pairs.append((u, v))
    return pairs


def undelivered(routes: dict, src: str, parts: int) -> int:
    """(destination, partition) pairs where the partition never reaches the destination from `src`
    over the edges that carry that partition.

    A destination's own list may lean on edges listed for another destination
    (a shared broadcast tree), so connectivity is checked on the union.
    """
    missed = 0
    for part in range(parts):
        carrying = nx.DiGraph([e for pairs_by_part in routes.values() for e in pairs_by_part[part]])
        for dst in routes:
            if src not in carrying or dst not in carrying or not nx.has_path(carrying, src, dst):
                missed += 1
    return missed


def simulate(paths: dict, config: dict, graph: nx.DiGraph, num_vms: int) -> Broadcast:
    """Transfer time (s), total cost ($) and undelivered pairs of one broadcast given as plain paths
    (see `_edges_of`); raises InvalidOutput on a malformed topology."""
    src, dsts, parts = config["source_node"], config["dest_nodes"], int(config["num_partitions"])
    part_gb = float(config["data_vol"]) / parts
    ingress = dict(DEFAULT_INGRESS)
    egress = dict(DEFAULT_EGRESS)
    ingress.update({p: num_vms * v for p, v in config.get("ingress_limit", {}).items()})
    egress.update({p: num_vms * v for p, v in config.get("egress_limit", {}).items()})

    used = nx.DiGraph()  # insertion order of nodes matters for the limit pass below
    routes: dict[str, list[list[tuple[str, str]]]] = {}
    for dst in dsts:
        routes[dst] = []
        for part in range(parts):
            pairs = _edges_of(paths, dst, part, graph)
            routes[dst].append(pairs)
            for u, v in pairs:
                if not used.has_edge(u, v):
                    used.add_edge(u, v, flow=graph[u][v]["throughput"], cost=graph[u][v]["cost"], parts=set())
                used[u][v]["parts"].add(part)

    missed = undelivered(routes, src, parts)
    for node in used.nodes:
        provider = node.split(":")[0]
        for edges, limit in ((list(used.in_edges(node)), ingress), (list(used.out_edges(node)), egress)):
            cap = limit.get(provider, float("inf"))
            if sum(used[u][v]["flow"] for u, v in edges) > cap:
                share = cap / len(edges)
                for u, v in edges:
                    used[u][v]["flow"] = min(used[u][v]["flow"], share)

    def edge_time(u: str, v: str) -> float:
        d = used[u][v]
        return len(d["parts"]) * part_gb * 8 / d["flow"]

    t = max(edge_time(u, v) for dst in dsts for pairs in routes[dst] for u, v in pairs)
    egress_usd = sum(len(d["parts"]) * part_gb * d["cost"] for _, _, d in used.edges(data=True))
    vm_usd = used.number_of_nodes() * num_vms * INSTANCE_USD_PER_HOUR / 3600 * round(t, 2)
    return Broadcast(t, egress_usd + vm_usd, missed)
