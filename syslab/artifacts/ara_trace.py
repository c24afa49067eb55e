"""The exploration tree of an ARA export (trace/exploration_tree.yaml), built from the run's nodes
and its logic layer. Every tree node is `support_level: explicit` with `source_refs` into the run
database, because each is a recorded event, not a reconstruction.
"""

from __future__ import annotations

import re
from typing import Any

from syslab.artifacts.logic import LogicLayer
from syslab.artifacts.schema import Node, NodeKind

MAX_NEST = 150  # deeper parent chains are attached to the question with also_depends_on (YAML depth)


def fmt_metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in sorted(metrics.items())) or "no metrics"


_PIVOT = re.compile(r"from node (\d+) to node (\d+)")


def _line(node: Node | None, nid: int | str) -> str:
    if node is None:
        return f"the line of node {nid}"
    score = "no score" if node.score is None else f"score {node.score:.6g}"
    return f"the line of node {node.id} ({node.operator or 'seed'}, {score})"


def _pivot_fields(statement: str, node_id: int | None, by_id: dict[int, Node]) -> tuple[str, str, str]:
    """from / to / trigger of a pivot ("The best line moved from node A to node B, ...")."""
    m = _PIVOT.search(statement)
    if m is None:
        return (
            statement,
            _line(by_id.get(node_id) if node_id is not None else None, node_id or "?"),
            statement,
        )
    old, new = by_id.get(int(m[1])), by_id.get(int(m[2]))
    trigger = f"node {m[2]} became the best candidate"
    if old is not None and new is not None and old.score is not None and new.score is not None:
        trigger += f" (score {new.score:.6g} over node {m[1]}'s {old.score:.6g})"
    trigger += " without descending from the previous best"
    return _line(old, m[1]), _line(new, m[2]), trigger


def exploration_tree(
    nodes: list[Node], logic: LogicLayer, ids: dict[str, str], claim_of: dict[int, list[str]]
) -> dict:
    """trace/exploration_tree.yaml: the research question, under it every non-analysis node as an
    experiment nested along parent links (chains deeper than MAX_NEST restart at the question with
    also_depends_on), then the dead ends, decisions and pivots of the logic layer."""
    cands = [n for n in nodes if n.kind != NodeKind.analysis]
    by_id = {n.id: n for n in nodes}
    width = max(2, len(str(len(cands) + len(logic.dead_ends) + len(logic.decisions) + 1)))
    tid = {n.id: f"N{i + 2:0{width}d}" for i, n in enumerate(cands)}
    counter = [len(cands) + 2]

    def next_id() -> str:
        counter[0] += 1
        return f"N{counter[0] - 1:0{width}d}"

    def exp(n: Node) -> dict:
        if n.failure_kind:
            result = f"failed: {n.failure_kind} ({(n.failure_message or '')[:160]})"
        else:
            result = f"{fmt_metrics(n.metrics)} (valid={n.valid}, score={n.score})"
        d: dict[str, Any] = {
            "id": tid[n.id],
            "type": "experiment",
            "title": f"node {n.id}: {n.kind.value} via {n.operator or 'seed'}",
            "support_level": "explicit",
            "source_refs": [f"syslab.db:nodes/{n.id}"] + ([f"code.git:{n.commit}"] if n.commit else []),
            "description": (n.note or "")[:300],
            "result": result,
            "status": "failed" if n.failure_kind else "completed",
        }
        if n.id in claim_of:
            d["evidence"] = claim_of[n.id]
        d["children"] = []
        return d

    question: dict[str, Any] = {
        "id": f"N{1:0{width}d}",
        "type": "question",
        "title": f"Research question of task {logic.task}",
        "support_level": "explicit",
        "source_refs": ["logic.yaml:question"],
        "description": logic.question,
        "children": [],
    }
    built: dict[int, dict] = {}
    depth: dict[int, int] = {}
    for n in sorted(cands, key=lambda x: x.id):
        node = built[n.id] = exp(n)
        parent = n.parent_id if n.parent_id in built else None
        depth[n.id] = depth[parent] + 1 if parent is not None else 0
        if parent is not None and depth[n.id] <= MAX_NEST:
            built[parent]["children"].append(node)
        else:
            if parent is not None:
                node["also_depends_on"] = [tid[parent]]
                depth[n.id] = 0
            question["children"].append(node)
    for d in logic.dead_ends:
        linked = [tid[i] for i in d.node_ids if i in tid]
        node = {
            "id": next_id(),
            "type": "dead_end",
            "title": d.idea[:120],
            "support_level": "explicit",
            "source_refs": [f"logic.yaml:dead_ends/{d.id}"],
            "hypothesis": f"edits of this kind could improve the program ({d.idea})",
            "failure_mode": f"{d.idea}; nodes {', '.join(str(i) for i in d.node_ids)}",
            "lesson": f"avoid {d.idea}",
        }
        if linked:
            node["also_depends_on"] = linked
        question["children"].append(node)
    for dec in logic.decisions:
        ref = [tid[dec.node_id]] if dec.node_id in tid else []
        if dec.kind == "pivot":
            prior, new, trigger = _pivot_fields(dec.statement, dec.node_id, by_id)
            node = {
                "id": next_id(),
                "type": "pivot",
                "title": f"pivot {dec.id}",
                "support_level": "explicit",
                "source_refs": [f"logic.yaml:decisions/{dec.id}"],
                # ARA Seal's names, then the ara-cli parser's names for the same three facts.
                "from": prior,
                "to": new,
                "trigger": trigger,
                "prior_direction": prior,
                "new_direction": new,
                "reason": dec.statement,
            }
        else:
            node = {
                "id": next_id(),
                "type": "decision",
                "title": f"analyst guidance {dec.id}",
                "support_level": "explicit",
                "source_refs": [f"logic.yaml:decisions/{dec.id}"]
                + ([f"syslab.db:nodes/{dec.node_id}"] if dec.node_id is not None else []),
                "choice": dec.statement[:400],
                "alternatives": ["continue the search without this guidance"],
                "rationale": "the analyst's reading of the candidates evaluated since its last note",
            }
        if ref:
            node["also_depends_on"] = ref
        question["children"].append(node)

    def prune(d: dict) -> None:
        if not d.get("children"):
            d.pop("children", None)
        for c in d.get("children", []):
            prune(c)

    prune(question)
    return {"tree": [question]}


def count_tree_nodes(nodes: list[dict]) -> int:
    return sum(1 + count_tree_nodes(n.get("children", [])) for n in nodes)
