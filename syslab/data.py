"""Find the data files a task needs: `$SYSLAB_DATA`, then the user cache dir.

Data is never bundled with syslab (some of it is large, all of it belongs to
others). When a file is missing the error says which file, where syslab
looked, and where the file can be obtained.
"""

from __future__ import annotations

import os
from pathlib import Path

from syslab.errors import SyslabError

ENV_VAR = "SYSLAB_DATA"
CACHE_DIR = Path("~/.cache/syslab/data")

_LB = "https://github.com/UCB-ADRS/ADRS-Leaderboard"
_ADRS = "https://github.com/UCB-ADRS/ADRS"

# Where each data family comes from (longest matching prefix wins).
SOURCES: dict[str, str] = {
    "adrs/txn_scheduling/": (
        f"{_LB} problems/txn_scheduling/resources/workloads.py: save WORKLOAD_1..3 as "
        '{"workload_1": {...}, "workload_2": {...}, "workload_3": {...}} in workloads.json'
    ),
    "adrs/cloudcast/profiles/": f"{_LB} problems/cloudcast (profiles/cost.csv, profiles/throughput.csv)",
    "adrs/cloudcast/configs/": f"{_LB} problems/cloudcast (configs/<scenario>.json)",
    "adrs/llm_sql/": f"{_ADRS} openevolve/examples/ADRS/llm_sql/datasets/<name>.csv",
    "adrs/cant_be_late/": f"{_LB} problems/cant_be_late/resources/real_traces.tar.gz (keep it packed)",
    "adrs/cant_be_late_multi/": (
        f"{_LB} problems/cant_be_late_multi/resources/real_traces.tar.gz (keep it packed)"
    ),
}


class DataMissing(SyslabError):
    """A data file a task needs is not on this machine."""


def data_roots() -> list[Path]:
    """Directories searched, in order."""
    roots = []
    env = os.environ.get(ENV_VAR)
    if env:
        roots.append(Path(env).expanduser())
    roots.append(CACHE_DIR.expanduser())
    return roots


def source_of(relative: str) -> str:
    """Where to obtain `relative` (a URL plus a hint), or a generic hint."""
    best = ""
    for prefix in SOURCES:
        if relative.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return SOURCES[best] if best else "the task's README.md (data section)"


def data_path(relative: str) -> Path:
    """Absolute path of a data file given as a path relative to a data root.

    Raises DataMissing naming the file, the places searched and the source.
    """
    rel = relative.strip("/")
    for root in data_roots():
        candidate = root / rel
        if candidate.exists():
            return candidate
    searched = ", ".join(str(r / rel) for r in data_roots())
    raise DataMissing(
        f"data file {rel!r} not found (looked in {searched}); get it from {source_of(rel)} "
        f"and put it at $SYSLAB_DATA/{rel} or {CACHE_DIR}/{rel}"
    )
