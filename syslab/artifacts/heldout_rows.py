"""Held-out measurements in syslab.db: one row per (node, held-out evaluation).

They live in their own table, not as nodes, so that nothing the search reads (the population,
parent selection, the budget, resume's replay, the best-node query) can ever see them.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Literal

from pydantic import BaseModel, Field

HELDOUT_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS heldout (
  id INTEGER PRIMARY KEY, node_id INTEGER NOT NULL, origin TEXT NOT NULL, entry TEXT NOT NULL,
  rank INTEGER, search_score REAL, score REAL, valid INTEGER NOT NULL, metrics TEXT NOT NULL,
  failure_kind TEXT, failure_message TEXT, evidence TEXT NOT NULL, wall_s REAL,
  task_hash TEXT NOT NULL, created_at REAL NOT NULL, metric TEXT NOT NULL, search_value REAL,
  heldout_value REAL, gap REAL, tolerance REAL NOT NULL, relative INTEGER NOT NULL,
  overfit INTEGER NOT NULL, against TEXT NOT NULL, seed_search_value REAL, seed_heldout_value REAL
);
CREATE INDEX IF NOT EXISTS heldout_node ON heldout(node_id);
"""
_COLS = [
    "id", "node_id", "origin", "entry", "rank", "search_score", "score", "valid", "metrics",
    "failure_kind", "failure_message", "evidence", "wall_s", "task_hash", "created_at", "metric",
    "search_value", "heldout_value", "gap", "tolerance", "relative", "overfit", "against",
    "seed_search_value", "seed_heldout_value",
]  # fmt: skip


class HeldoutRecord(BaseModel):
    """One candidate scored on the task's held-out evaluation."""

    id: int | None = None
    node_id: int
    origin: Literal["run", "reproduce"] = "run"  # the end of a run, or `syslab reproduce RUN`
    entry: str  # the held-out evaluator entry, "file.py:function"
    rank: int | None = None  # 0 = the best by search score
    search_score: float | None = None  # the node's (direction-normalised) search score
    score: float | None = None  # held-out primary metric, direction-normalised (higher is better)
    valid: bool = False
    metrics: dict[str, float] = Field(default_factory=dict)
    failure_kind: str | None = None
    failure_message: str | None = None
    evidence: dict[str, str] = Field(default_factory=dict)  # name -> sha256 blob
    wall_s: float | None = None
    task_hash: str = ""
    created_at: float = 0.0
    # The verdict, fixed when measured (the task's tolerance then), so views need no task dir.
    metric: str = ""  # the primary metric
    search_value: float | None = None  # its value on the search data (the node's metrics)
    heldout_value: float | None = None  # its value held-out; None when the evaluation failed
    gap: float | None = None  # held-out shortfall, relative or absolute (syslab.task.HeldoutSpec)
    tolerance: float = 0.0
    relative: bool = True
    overfit: bool = False  # gap beyond the tolerance, or the held-out evaluation failed
    against: str = "search"  # "seed": values were taken relative to the seed's on the same data
    seed_search_value: float | None = None  # the seed's values, with against = "seed"
    seed_heldout_value: float | None = None

    def describe(self) -> str:
        """One line: search value beside held-out value and the gap."""
        if not self.valid:
            return f"node {self.node_id}: held-out evaluation failed ({self.failure_kind}: {self.failure_message})"
        if self.heldout_value is None or self.search_value is None:
            return f"node {self.node_id}: no {self.metric} to compare (held-out ran, e.g. correctness only)"
        unit = "relative" if self.relative else "absolute"
        if self.against in ("seed", "gain"):
            unit = "seed-relative" if self.against == "seed" else "share of the gain over the seed"
        gap = "-" if self.gap is None else f"{self.gap:.4g}"
        search = "-" if self.search_value is None else f"{self.search_value:.6g}"
        return (
            f"node {self.node_id}: {self.metric} {search} on search data, {self.heldout_value:.6g} "
            f"held-out (gap {gap}, {unit} tolerance {self.tolerance:g})"
        )


def insert_heldout(conn: sqlite3.Connection, record: HeldoutRecord) -> HeldoutRecord:
    data = record.model_dump()
    data["metrics"], data["evidence"] = json.dumps(record.metrics), json.dumps(record.evidence)
    for flag in ("valid", "relative", "overfit"):
        data[flag] = int(data[flag])
    cols = [c for c in _COLS if c != "id"]
    sql = f"INSERT INTO heldout ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    record.id = conn.execute(sql, [data[c] for c in cols]).lastrowid
    return record


def select_heldout(conn: sqlite3.Connection, node_id: int | None = None) -> list[HeldoutRecord]:
    """Rows in insertion order; a store made before held-out evaluations existed has none."""
    sql, args = f"SELECT {', '.join(_COLS)} FROM heldout", []
    if node_id is not None:
        sql, args = sql + " WHERE node_id = ?", [node_id]
    try:
        rows = conn.execute(sql + " ORDER BY id", args).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []
        raise
    out = []
    for row in rows:
        data = dict(zip(_COLS, row, strict=True))
        data["metrics"], data["evidence"] = json.loads(data["metrics"]), json.loads(data["evidence"])
        for flag in ("valid", "relative", "overfit"):
            data[flag] = bool(data[flag])
        out.append(HeldoutRecord.model_validate(data))
    return out


def latest_heldout(records: list[HeldoutRecord]) -> dict[int, HeldoutRecord]:
    """The most recent held-out record of each node."""
    return {r.node_id: r for r in records}
