"""LLM-call rows in syslab.db: one `llm_calls` row per LLMCall (dict/list fields as JSON text).

Pure row mapping; RunStore runs the statements under its lock and transaction.
"""

from __future__ import annotations

import json

from syslab.artifacts.schema import LLMCall
from syslab.artifacts.tables import CALL_COLS, CALL_JSON, CALL_SELECT, sql_value


def call_insert(call: LLMCall) -> tuple[str, list[object]]:
    """INSERT statement and values for `call` (without an id, SQLite assigns one)."""
    cols = [c for c in CALL_COLS if c != "id" or call.id is not None]
    d = call.__dict__  # pydantic v2 keeps field values here; avoids a model_dump per write
    values = [json.dumps(d[c]) if c in CALL_JSON else sql_value(d[c]) for c in cols]
    sql = (
        "INSERT INTO llm_calls ("
        + ", ".join(f'"{c}"' for c in cols)
        + ") VALUES ("
        + ", ".join("?" * len(cols))
        + ")"
    )
    return sql, values


def call_query(node_id: int | None) -> tuple[str, list[object]]:
    """SELECT statement and arguments for the calls of `node_id` (all calls when None), in id order."""
    sql, args = CALL_SELECT, []
    if node_id is not None:
        sql, args = sql + " WHERE node_id = ?", [node_id]
    return sql + " ORDER BY id", args


def row_to_call(row: tuple) -> LLMCall:
    d = dict(zip(CALL_COLS, row, strict=True))
    for c in CALL_JSON:
        d[c] = json.loads(d[c]) if d[c] is not None else None
    return LLMCall.model_validate(d)
