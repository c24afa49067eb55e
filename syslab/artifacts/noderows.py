"""Node rows in syslab.db: one `nodes` row per Node (dict/list fields as JSON text).

Pure row mapping and filters; RunStore runs the statements under its lock and transaction.
"""

from __future__ import annotations

import json

from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.artifacts.tables import NODE_COLS, NODE_JSON, sql_value


def node_values(node: Node, cols: list[str]) -> list[object]:
    d = node.__dict__  # pydantic v2 keeps field values here; avoids a model_dump per write
    return [json.dumps(d[c]) if c in NODE_JSON else sql_value(d[c]) for c in cols]


def row_to_node(row: tuple) -> Node:
    d = dict(zip(NODE_COLS, row, strict=True))
    for c in NODE_JSON:
        d[c] = json.loads(d[c]) if d[c] is not None else {}
    d["valid"] = bool(d["valid"])
    return Node.model_validate(d)


def node_where(kind: NodeKind | None, status: NodeStatus | None, since_id: int | None) -> tuple[str, list]:
    """WHERE clause (empty when unfiltered) and its arguments."""
    clauses, args = [], []
    if kind is not None:
        clauses.append("kind = ?")
        args.append(NodeKind(kind).value)
    if status is not None:
        clauses.append("status = ?")
        args.append(NodeStatus(status).value)
    if since_id is not None:
        clauses.append("id > ?")
        args.append(since_id)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
