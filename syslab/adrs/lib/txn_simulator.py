"""Conflict-aware makespan model for a sequence of transactions (syslab's own).

A transaction is a list of operations executed one per time unit: the op at
position p (1-based) of a transaction starting at time s runs at s + p - 1.
Transactions are placed in sequence order, each as early as its locks allow:
a write to a key must come after every earlier access to that key; a read
must come after the latest earlier write (reads share). The makespan is the
latest end time. `Workload` keeps the attribute names candidates use
(`num_txns`, `txns[i][j] == (op, key, position, txn_len)`, `get_opt_seq_cost`).
"""

from __future__ import annotations

import json


class Workload:
    def __init__(self, workload_json: str | dict, debug: bool = False):
        raw = json.loads(workload_json) if isinstance(workload_json, str) else workload_json
        self.debug = debug
        self.txns: list[list[tuple[str, str, int, int]]] = []
        for text in raw.values():
            tokens = text.split()
            ops = []
            for pos, tok in enumerate(tokens, start=1):
                if tok == "*":  # an op on no key: takes a time slot, holds no lock
                    continue
                kind, _, key = tok.partition("-")
                if kind not in ("r", "w") or not key:
                    raise ValueError(f"bad operation {tok!r} in transaction {text[:40]!r}")
                ops.append((kind, key, pos, len(tokens)))
            self.txns.append(ops)
        self.lengths = [len(text.split()) for text in raw.values()]
        self.num_txns = len(self.txns)

    def _plan(self) -> list[tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...], int]]:
        # Per transaction: (writes, reads, length), each op as (key, position - 1).
        # Built once, because candidates call get_opt_seq_cost hundreds of
        # thousands of times and the split by kind removes a branch per op.
        plans = []
        for ops, length in zip(self.txns, self.lengths, strict=True):
            writes = tuple((key, pos - 1) for kind, key, pos, _ in ops if kind == "w")
            reads = tuple((key, pos - 1) for kind, key, pos, _ in ops if kind == "r")
            plans.append((writes, reads, length))
        return plans

    def get_opt_seq_cost(self, txn_seq: list[int]) -> int:
        """Makespan of running the transactions in `txn_seq` order (prefixes allowed)."""
        plans = self.__dict__.get("_plans")
        if plans is None:
            plans = self._plans = self._plan()
        last_write: dict[str, int] = {}  # key -> latest time a write holds it
        last_any: dict[str, int] = {}  # key -> latest time any op holds it
        any_get = last_any.get
        write_get = last_write.get
        makespan = 0
        for t in txn_seq:
            writes, reads, length = plans[t]
            start = 1  # a write waits for every earlier access, a read for the latest write
            for key, off in writes:
                held = any_get(key)
                if held is not None and held - off >= start:
                    start = held - off + 1
            for key, off in reads:
                held = write_get(key)
                if held is not None and held - off >= start:
                    start = held - off + 1
            for key, off in writes:
                at = start + off
                if at > any_get(key, 0):
                    last_any[key] = at
                if at > write_get(key, 0):
                    last_write[key] = at
            for key, off in reads:
                at = start + off
                if at > any_get(key, 0):
                    last_any[key] = at
            end = start + length - 1
            if end > makespan:
                makespan = end
        return makespan
