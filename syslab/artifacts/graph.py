"""networkx views of a run's exploration graph (for the CLI, web UI and exporters).

Graph nodes are node ids with the Node fields as attributes (enums as their string values);
graph edges carry `kind` (an EdgeKind value). Lineage follows the `parent_id` attribute, so it
holds even for a store whose parent edges were not all recorded.

`load_graph` reads everything once; `update_graph` then pulls only what changed (nodes by their
revision number, edges by their sequence number), so a UI can poll a live run cheaply.
"""

from __future__ import annotations

from collections import Counter, deque

import networkx as nx

from syslab.artifacts.schema import EdgeKind, Node, NodeStatus
from syslab.artifacts.store import RunStore

PARENT = EdgeKind.parent.value
_CANDIDATE_KINDS = ("seed", "candidate")


def _attrs(node: Node) -> dict:
    # Same as model_dump(mode="json") for these fields, several times cheaper on 100k nodes.
    return {**node.__dict__, "kind": node.kind.value, "status": node.status.value}


def load_graph(store: RunStore) -> nx.DiGraph:
    G = nx.DiGraph()
    G.graph["rev"] = 0
    G.graph["edge_seq"] = 0
    return update_graph(G, store)


def update_graph(G: nx.DiGraph, store: RunStore) -> nx.DiGraph:
    """Bring G up to date with the store: nodes added or changed and edges added since G was
    last loaded or updated. Returns G (modified in place)."""
    changed, rev = store.nodes_changed(G.graph.get("rev", 0))
    for node in changed:
        G.add_node(node.id, **_attrs(node))
    edges, seq = store.edges_after(G.graph.get("edge_seq", 0))
    for e in edges:
        G.add_edge(e.src, e.dst, kind=EdgeKind(e.kind).value)
    G.graph["rev"] = rev
    G.graph["edge_seq"] = seq
    return G


def lineage(G: nx.DiGraph, node_id: int) -> list[int]:
    """Ids from the root to `node_id` along parent links (root first)."""
    if node_id not in G:
        raise KeyError(f"no node {node_id} in the graph")
    path, seen = [node_id], {node_id}
    parent = G.nodes[node_id].get("parent_id")
    while parent is not None and parent in G and parent not in seen:
        path.append(parent)
        seen.add(parent)
        parent = G.nodes[parent].get("parent_id")
    return path[::-1]


def best_id(G: nx.DiGraph) -> int | None:
    """Highest-scoring valid evaluated seed/candidate (ties: lowest id), as RunStore.best_node."""
    best: tuple[float, int] | None = None
    for n, a in G.nodes(data=True):
        if (
            a.get("kind") in _CANDIDATE_KINDS
            and a.get("status") == NodeStatus.evaluated.value
            and a.get("valid")
            and a.get("score") is not None
        ):
            key = (a["score"], -n)
            if best is None or key > best:
                best = key
    return None if best is None else -best[1]


def best_path(G: nx.DiGraph) -> list[int]:
    """Lineage of the best node (root first); empty when nothing valid was evaluated."""
    b = best_id(G)
    return [] if b is None else lineage(G, b)


def children(G: nx.DiGraph, node_id: int) -> list[int]:
    """Direct children by parent edge, in id order."""
    return sorted(d for _, d, k in G.out_edges(node_id, data="kind") if k == PARENT)


def descendants_count(G: nx.DiGraph, node_id: int) -> int:
    """Number of nodes below `node_id` in the parent tree."""
    count, queue, seen = 0, deque([node_id]), {node_id}
    while queue:
        for c in children(G, queue.popleft()):
            if c not in seen:
                seen.add(c)
                count += 1
                queue.append(c)
    return count


def failure_counts(G: nx.DiGraph) -> dict[str, int]:
    """failure_kind -> number of nodes, as RunStore.failure_counts."""
    c = Counter(a["failure_kind"] for _, a in G.nodes(data=True) if a.get("failure_kind"))
    return dict(sorted(c.items()))
