"""The reflect step: ask the analyst for notes and record them in the exploration graph."""

from __future__ import annotations

import time
from typing import Any

from syslab import metric_text
from syslab.agents.base import AnalysisRequest
from syslab.artifacts.schema import Edge, EdgeKind, Node, NodeKind, NodeStatus


def run_analysis(run: Any) -> Node | None:
    """Analyse the candidates recorded since the last analysis; record an analysis node."""
    eng = run.engine
    store = run.store
    state = store.get_state("analysis") or {"last_node": -1, "count": 0}
    recent_nodes = [n for n in store.nodes(since_id=state["last_node"] + 1) if n.kind != NodeKind.analysis]
    eng.counters.since_analysis = 0
    if not recent_nodes:
        return None
    best = eng.best
    request = AnalysisRequest(
        task_name=run.task.name,
        task_description=run.task.spec.description,
        primary_metric=run.task.primary_metric,
        metric_directions={k: m.direction.value for k, m in run.task.spec.metrics.items()},
        metric_units={k: m.unit for k, m in run.task.spec.metrics.items()},
        recent=[
            eng.view(n, with_code=n.kind != NodeKind.analysis and n.commit is not None) for n in recent_nodes
        ],
        best=eng.view(best) if best else None,
        failure_counts=store.failure_counts(),
        previous_notes=eng.notes,
        seed=state["count"],
    )
    notes = run.analyst.analyse(request)
    node = Node(
        id=store.next_node_id(),
        kind=NodeKind.analysis,
        status=NodeStatus.evaluated,
        parent_id=None,
        operator=f"analyst:{getattr(run.analyst, 'name', 'analyst')}",
        model=notes.model,
        note=metric_text.shorten((notes.guidance or "").splitlines()[0], 200)
        if notes.guidance
        else "analysis",
        created_at=time.time(),
        finished_at=time.time(),
        data=notes.model_dump(mode="json"),
    )
    mentioned = {n.id for n in recent_nodes}
    with store.transaction():
        node = store.add_node(node)
        for nid in sorted(mentioned):
            store.add_edge(Edge(src=node.id, dst=nid, kind=EdgeKind.analysis_of))
        if notes.llm_call_ids and hasattr(store, "link_llm_calls"):
            store.link_llm_calls(notes.llm_call_ids, node.id)
        store.set_state("analysis", {"last_node": node.id, "count": state["count"] + 1})
    eng.notes = notes.guidance
    from syslab.engine.logic import update_logic_from_analysis

    update_logic_from_analysis(run, node, notes)
    return node
