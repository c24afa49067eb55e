"""Multi-region traces for cant_be_late_multi (trusted side), simulated by spot_sim.

One availability trace per region, all with the same tick, cut to the
shortest. The job is in one region at a time (region 0 at the start); each
tick the strategy may move it (its answer names the region), and what it
requests then runs in the new region (SPOT there only if that region has
spot this tick). Billing, progress, restart overheads and the deadline guard
are spot_sim's `SpotRun`, which takes any number of regions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from syslab.adrs.spot_sim import load_trace, tar_members

ALIGNED = "data/converted_multi_region_aligned"


@cache
def region_traces(
    tar_path: Path, regions: tuple[str, ...], trace: str
) -> tuple[tuple[tuple[int, ...], ...], float]:
    """The aligned traces `<region>/<trace>` of a scenario, cut to the shortest; (traces, gap seconds)."""
    members = tar_members(tar_path)
    loaded = []
    for region in regions:
        name = f"{ALIGNED}/{region}/{trace}"
        if name not in members:
            raise FileNotFoundError(f"{tar_path}: no member {name}")
        loaded.append(load_trace(members[name]))
    gaps = {gap for _, gap in loaded}
    if len(gaps) != 1:
        raise ValueError(f"{tar_path}: traces {regions}/{trace} have different tick lengths {sorted(gaps)}")
    n = min(len(avail) for avail, _ in loaded)
    return tuple(tuple(avail[:n]) for avail, _ in loaded), gaps.pop()
