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

    def get_opt_seq_cost(self, txn_seq: list[int]) -> int:
        """Makespan of running the transactions in `txn_seq` order (prefixes allowed)."""
        last_write: dict[str, int] = {}  # key -> latest time a write holds it
        last_any: dict[str, int] = {}  # key -> latest time any op holds it
        makespan = 0
        for t in txn_seq:
            ops = self.txns[t]
            start = 1
            for kind, key, pos, _ in ops:
                if kind == "w":
                    free = last_any.get(key, 0) + 1 if key in last_any else 0
                else:
                    free = last_write[key] + 1 if key in last_write else 0
                start = max(start, free - pos + 1)
            end = start + self.lengths[t] - 1
            for kind, key, pos, _ in ops:
                at = start + pos - 1
                last_any[key] = max(last_any.get(key, 0), at)
                if kind == "w":
                    last_write[key] = max(last_write.get(key, 0), at)
            makespan = max(makespan, end)
        return makespan
