"""The SQLite layout of syslab.db, derived from the pydantic records in schema.py.

Node and LLMCall fields map one-to-one to columns (dict/list fields as JSON text), so a field
added to schema.py becomes a column on the next writable open (`init_schema` adds it).
Metrics are also kept one row per (node, name) in `metrics` for queries; `git_pending` holds git
objects until RunStore.flush moves them into code.git.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

from pydantic import BaseModel

from syslab.artifacts.heldout_rows import HELDOUT_TABLE_SQL
from syslab.artifacts.schema import LLMCall, Node, NodeKind

SCHEMA_VERSION = 1


def _columns(model: type[BaseModel]) -> tuple[list[str], set[str], dict[str, str]]:
    """Column names, which of them hold JSON, and their SQL types, derived from a pydantic model
    so that an additive field in schema.py becomes a column without touching this file."""
    names, json_cols, types = [], set(), {}
    for name, field in model.model_fields.items():
        names.append(name)
        ann = str(field.annotation)
        if field.default_factory in (dict, list) or "dict" in ann or "list" in ann:
            json_cols.add(name)
            types[name] = "TEXT"
        elif ann.startswith("<class 'bool'>") or ann == "bool":
            types[name] = "INTEGER"
        elif "float" in ann:
            types[name] = "REAL"
        elif "int" in ann:
            types[name] = "INTEGER"
        else:
            types[name] = "TEXT"
    return names, json_cols, types


NODE_COLS, NODE_JSON, NODE_TYPES = _columns(Node)
CALL_COLS, CALL_JSON, CALL_TYPES = _columns(LLMCall)
NODE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in NODE_COLS) + " FROM nodes"
CALL_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in CALL_COLS) + " FROM llm_calls"
# update_node never changes the commit (a node's code is fixed when it is added).
UPDATE_COLS = [c for c in NODE_COLS if c not in ("id", "commit")]
NODE_INSERT = (
    "INSERT INTO nodes ("
    + ", ".join(f'"{c}"' for c in NODE_COLS)
    + ', "rev") VALUES ('
    + ", ".join("?" * (len(NODE_COLS) + 1))
    + ")"
)
# ... nor forgets a code_sha the caller did not carry over.
NODE_UPDATE = (
    "UPDATE nodes SET "
    + ", ".join(f'"{c}" = COALESCE(?, "{c}")' if c == "code_sha" else f'"{c}" = ?' for c in UPDATE_COLS)
    + ', "rev" = ? WHERE id = ?'
)
CANDIDATE_KINDS = (NodeKind.seed.value, NodeKind.candidate.value)
# Without INDEXED BY the planner (no ANALYZE statistics) scans by status and sorts: O(n).
BEST_SQL = (
    NODE_SELECT + " INDEXED BY nodes_best WHERE valid = 1 AND status = 'evaluated' AND score IS NOT NULL"
    " AND kind IN ('seed', 'candidate') ORDER BY score DESC, id ASC LIMIT 1"
)
CHANGED_SQL = NODE_SELECT + " INDEXED BY nodes_rev WHERE rev > ? ORDER BY rev"


def _schema_sql() -> str:
    node_cols = ",\n  ".join(
        f'"{c}" {NODE_TYPES[c]}' + (" PRIMARY KEY" if c == "id" else "") for c in NODE_COLS
    )
    call_cols = ",\n  ".join(
        f'"{c}" {CALL_TYPES[c]}' + (" PRIMARY KEY" if c == "id" else "") for c in CALL_COLS
    )
    return f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
  {node_cols},
  "rev" INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS nodes_kind ON nodes(kind);
CREATE INDEX IF NOT EXISTS nodes_status ON nodes(status);
CREATE INDEX IF NOT EXISTS nodes_parent ON nodes(parent_id);
CREATE INDEX IF NOT EXISTS nodes_failure ON nodes(failure_kind) WHERE failure_kind IS NOT NULL;
CREATE INDEX IF NOT EXISTS nodes_code_sha ON nodes(code_sha);
CREATE INDEX IF NOT EXISTS nodes_rev ON nodes(rev);
CREATE INDEX IF NOT EXISTS nodes_best ON nodes(score DESC, id)
  WHERE valid = 1 AND status = 'evaluated' AND score IS NOT NULL;
CREATE TABLE IF NOT EXISTS metrics (
  node_id INTEGER NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (node_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metrics_name_value ON metrics(name, value);
CREATE TABLE IF NOT EXISTS edges (
  seq INTEGER PRIMARY KEY, src INTEGER NOT NULL, dst INTEGER NOT NULL, kind TEXT NOT NULL,
  UNIQUE (src, dst, kind)
);
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst);
CREATE TABLE IF NOT EXISTS llm_calls (
  {call_cols}
);
CREATE INDEX IF NOT EXISTS llm_calls_node ON llm_calls(node_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS git_pending (
  seq INTEGER PRIMARY KEY, sha TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, data BLOB NOT NULL, node_id INTEGER
);
"""


def sql_value(v: object) -> object:
    return v.value if isinstance(v, Enum) else v


def init_schema(conn: sqlite3.Connection) -> None:
    """Create missing tables and indexes, and add columns for fields added to schema.py since
    the store was made (additive only)."""
    conn.executescript(_schema_sql())
    conn.executescript(HELDOUT_TABLE_SQL)
    for table, cols, types in (("nodes", NODE_COLS, NODE_TYPES), ("llm_calls", CALL_COLS, CALL_TYPES)):
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for c in cols:
            if c not in have:
                conn.execute(f'ALTER TABLE {table} ADD COLUMN "{c}" {types[c]}')
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
    )
