"""Candidate-side adapter for cloudcast (runs in the candidate's process, before the program).

The evaluator sends the region graph as plain edge rows (u, v, throughput, cost) in the order it
built them; this rebuilds the networkx DiGraph the program's `search_algorithm(src, dsts, G,
num_partitions)` expects (same node and adjacency order) and turns the BroadCastTopology it returns
into plain paths {dst: {str(partition): [[u, v], ...]}}. The evaluator validates and costs those
paths on its own graph. Nothing here is trusted.
"""

import syslab.adrs.adapter_support as support

support.prepare()


def _edges(edges):
    if not isinstance(edges, (list, tuple)):
        return None
    # [u, v, edge data]: the evaluator needs u and v only; anything else goes as text it rejects.
    return [
        [str(e[0]), str(e[1])] if isinstance(e, (list, tuple)) and len(e) >= 2 else repr(e)[:80]
        for e in edges
    ]


def search_algorithm(program, src, dsts, rows, num_partitions):
    from syslab.adrs.cloudcast_sim import graph_from_rows

    module = support.entry_module(program, "search_algorithm")
    graph = graph_from_rows(rows)
    support.seed_everything(0)
    topology = module.search_algorithm(src, list(dsts), graph, num_partitions)
    if topology is None:
        return None
    if hasattr(topology, "set_num_partitions"):
        topology.set_num_partitions(num_partitions)
    paths = getattr(topology, "paths", None)
    if not isinstance(paths, dict):
        return {}
    return {
        str(dst): {str(k): _edges(v) for k, v in parts.items()} if isinstance(parts, dict) else None
        for dst, parts in paths.items()
    }
