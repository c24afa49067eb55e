"""networkx views over a RunStore."""

from __future__ import annotations

import pytest

from syslab.artifacts.graph import (
    best_path,
    children,
    descendants_count,
    failure_counts,
    lineage,
    load_graph,
    update_graph,
)
from syslab.artifacts.schema import Edge, EdgeKind, Manifest, Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore


@pytest.fixture
def store(tmp_path):
    m = Manifest(
        syslab_version="0.1.0",
        run_id="g",
        task_name="toy",
        task_dir="/t",
        task_hash="h",
        seed=0,
        config={},
        platform={},
        isolation={},
        created_at=1.0,
    )
    s = RunStore.create(tmp_path / "run", m)
    #      0
    #    /   \
    #   1     2 (syntax)
    #  / \
    # 3   4 (timeout)
    # |
    # 5
    s.add_node(Node(id=0, kind=NodeKind.seed, status=NodeStatus.evaluated, valid=True, score=1.0), code="0\n")
    s.add_node(Node(id=1, parent_id=0, status=NodeStatus.evaluated, valid=True, score=2.0), code="1\n")
    s.add_node(Node(id=2, parent_id=0, status=NodeStatus.failed, failure_kind="syntax"))
    s.add_node(Node(id=3, parent_id=1, status=NodeStatus.evaluated, valid=True, score=4.0), code="3\n")
    s.add_node(Node(id=4, parent_id=1, status=NodeStatus.failed, failure_kind="timeout"), code="4\n")
    s.add_node(Node(id=5, parent_id=3, status=NodeStatus.evaluated, valid=False, score=9.0), code="5\n")
    s.add_edge(Edge(src=2, dst=3, kind=EdgeKind.inspiration))
    yield s
    s.close()


def test_views(store):
    G = load_graph(store)
    assert sorted(G.nodes) == [0, 1, 2, 3, 4, 5]
    assert G.nodes[2]["failure_kind"] == "syntax" and G.nodes[0]["kind"] == "seed"
    assert G.edges[2, 3]["kind"] == "inspiration" and G.edges[1, 3]["kind"] == "parent"
    assert lineage(G, 5) == [0, 1, 3, 5]
    assert lineage(G, 0) == [0]
    assert best_path(G) == [0, 1, 3]  # node 5 scores higher but is invalid
    assert children(G, 1) == [3, 4]
    assert children(G, 2) == []  # the inspiration edge is not a child link
    assert descendants_count(G, 0) == 5 and descendants_count(G, 1) == 3 and descendants_count(G, 5) == 0
    assert failure_counts(G) == store.failure_counts() == {"syntax": 1, "timeout": 1}
    with pytest.raises(KeyError):
        lineage(G, 42)


def test_update_graph_is_incremental(store):
    G = load_graph(store)
    rev = G.graph["rev"]
    n5 = store.get_node(5)
    n5.valid = True
    store.update_node(n5)  # an old node changes
    store.add_node(Node(id=6, parent_id=5, failure_kind="runtime"), code="6\n")
    store.add_edge(Edge(src=6, dst=1, kind=EdgeKind.crossover))
    changed, _ = store.nodes_changed(rev)
    assert [n.id for n in changed] == [5, 6]  # only what changed is re-read
    update_graph(G, store)
    assert best_path(G) == [0, 1, 3, 5]
    assert children(G, 5) == [6] and G.edges[6, 1]["kind"] == "crossover"
    assert failure_counts(G)["runtime"] == 1
    assert G.graph["rev"] > rev
    before = G.graph["edge_seq"]
    update_graph(G, store)  # nothing new: no change
    assert G.graph["edge_seq"] == before and G.number_of_nodes() == 7


def test_empty_store_graph(tmp_path, store):
    G = load_graph(store)
    G.clear()
    assert best_path(G) == [] and failure_counts(G) == {}
