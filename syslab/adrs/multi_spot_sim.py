"""Multi-region spot/on-demand simulation for cant_be_late_multi, on top of spot_sim.

One availability trace per region, all with the same tick. The job is in one
region at a time (region 0 at the start); a strategy may call
`env.switch_region(i)` inside `_step`, and what it requests then runs in the
new region (SPOT there only if that region has spot this tick). Billing,
progress, restart overheads and the deadline guard are spot_sim's.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from syslab.adrs.spot_sim import TraceEnv, load_trace, tar_members
from syslab.evaluators import InvalidOutput

ALIGNED = "data/converted_multi_region_aligned"


class MultiTraceEnv(TraceEnv):
    """Region-switching environment with the methods leaderboard strategies call."""

    def __init__(self, traces: list[list[int]], gap_seconds: float):
        self._traces = traces
        self.current_region = 0
        super().__init__(traces[0], gap_seconds)

    @property
    def _trace(self) -> list[int]:  # what TraceEnv reads: the current region's trace
        return self._traces[self.current_region]

    @_trace.setter
    def _trace(self, value: list[int]) -> None:  # TraceEnv.__init__ assigns it; regions are set above
        pass

    def reset(self) -> None:
        super().reset()
        self.current_region = 0

    def get_num_regions(self) -> int:
        return len(self._traces)

    def get_current_region(self) -> int:
        return self.current_region

    def switch_region(self, region_idx: int) -> bool:
        if isinstance(region_idx, bool) or not isinstance(region_idx, int):
            raise InvalidOutput(f"switch_region({region_idx!r}): region index must be an int")
        if not 0 <= region_idx < len(self._traces):
            raise InvalidOutput(f"switch_region({region_idx}): only regions 0..{len(self._traces) - 1} exist")
        self.current_region = region_idx
        return True

    def spot_available_in_region(self, region_idx: int) -> bool:
        saved = self.current_region
        self.switch_region(region_idx)
        try:
            return self.spot_available()
        finally:
            self.current_region = saved

    def get_all_regions_spot_available(self) -> list[bool]:
        return [self.spot_available_in_region(i) for i in range(len(self._traces))]


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
