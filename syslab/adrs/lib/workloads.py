"""The three benchmark workloads as JSON strings (WORKLOAD_1..3, WORKLOADS), as programs import them.

Outside a candidate process (tests, shared-mode evaluators) they are read through syslab.data.
A candidate process cannot read the data: there the task adapter calls `defer()` before the
program first loads (the names are empty workloads, so the program still imports), the trusted
evaluator sends the workloads, the adapter calls `provide(texts)`, and the candidate is reloaded,
so the program imports the real ones. The module stays in sys.modules across reloads.
"""

from __future__ import annotations

import json

NAMES = ("WORKLOAD_1", "WORKLOAD_2", "WORKLOAD_3")
_texts: list[str] | None = None


def read_texts() -> list[str]:
    """The workloads from the data file (the trusted side's copy)."""
    from syslab.data import data_path

    raw = json.loads(data_path("adrs/txn_scheduling/workloads.json").read_text())
    return [json.dumps(raw[f"workload_{i}"]) for i in range(1, len(NAMES) + 1)]


def provide(texts: list[str]) -> None:
    global _texts
    if len(texts) != len(NAMES) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"expected {len(NAMES)} workload JSON strings")
    _texts = list(texts)


def defer() -> None:
    """Empty workloads until `provide` (only if none were provided yet)."""
    global _texts
    if _texts is None:
        _texts = ["{}"] * len(NAMES)


def __getattr__(name: str) -> str | list[str]:
    # Module-level __getattr__: `from workloads import WORKLOAD_1` reads the current texts.
    global _texts
    if name not in NAMES and name != "WORKLOADS":
        raise AttributeError(name)
    if _texts is None:
        _texts = read_texts()
    return list(_texts) if name == "WORKLOADS" else _texts[NAMES.index(name)]
