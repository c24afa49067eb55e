"""Multi-region traces for cant_be_late_multi (trusted side), simulated by spot_sim.

One availability trace per region, all with the same tick, cut to the
shortest, and the spot price each trace records first (the leaderboard
bills a run's spot hours at that price in the region the job ends in). The job is in one region at a time (region 0 at the start); each
tick the strategy may move it (its answer names the region), and what it
requests then runs in the new region (SPOT there only if that region has
spot this tick). Billing, progress, restart overheads and the deadline guard
are spot_sim's `SpotRun`, which takes any number of regions and their prices.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from syslab.adrs.spot_sim import PRICES, SPOT, load_trace, tar_members

ALIGNED = "data/converted_multi_region_aligned"


def first_price(raw: bytes, name: str) -> float:
    """The spot $/h a trace records for its first tick; the flat spot price when it records none."""
    prices = json.loads(raw).get("prices")
    if not prices:
        return PRICES[SPOT]
    price = prices[0]
    if isinstance(price, bool) or not isinstance(price, (int, float)) or not price >= 0:
        raise ValueError(f"{name}: field prices[0] is {price!r}, not a price in $/h")
    return float(price)


@cache
def region_traces(
    tar_path: Path, regions: tuple[str, ...], trace: str
) -> tuple[tuple[tuple[int, ...], ...], float, tuple[float, ...]]:
    """The aligned traces `<region>/<trace>` of a scenario, cut to the shortest;
    (traces, gap seconds, each region's first spot price)."""
    members = tar_members(tar_path)
    loaded, prices = [], []
    for region in regions:
        name = f"{ALIGNED}/{region}/{trace}"
        if name not in members:
            raise FileNotFoundError(f"{tar_path}: no member {name}")
        loaded.append(load_trace(members[name]))
        prices.append(first_price(members[name], f"{tar_path}:{name}"))
    gaps = {gap for _, gap in loaded}
    if len(gaps) != 1:
        raise ValueError(f"{tar_path}: traces {regions}/{trace} have different tick lengths {sorted(gaps)}")
    n = min(len(avail) for avail, _ in loaded)
    return tuple(tuple(avail[:n]) for avail, _ in loaded), gaps.pop(), tuple(prices)


Span = tuple[str, float, float]  # (history, first second, last second) of a trace


@cache
def region_spans(tar_path: Path, regions: tuple[str, ...], trace: str) -> tuple[Span, ...]:
    """Where each region trace of a scenario was cut from its history: its `source_file` and the
    seconds its `start_time` and length cover. Windows of one history overlap when their spans do
    (the recorded starts are a few ticks off the data, so spans_overlap keeps a margin)."""
    traces, gap, _prices = region_traces(tar_path, regions, trace)
    members = tar_members(tar_path)
    out = []
    for region, avail in zip(regions, traces, strict=True):
        name = f"{ALIGNED}/{region}/{trace}"
        meta = json.loads(members[name]).get("metadata", {})
        source, start = meta.get("source_file"), meta.get("start_time")
        if type(source) is not str or type(start) is not str:
            raise ValueError(f"{tar_path}:{name}: metadata.source_file and metadata.start_time are needed")
        try:
            first = datetime.fromisoformat(start).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            raise ValueError(
                f"{tar_path}:{name}: field metadata.start_time is {start!r}, not an ISO time"
            ) from None
        out.append((source, first, first + len(avail) * gap))
    return tuple(out)


def spans_overlap(a: Sequence[Span], b: Sequence[Span], margin_s: float = 3600.0) -> bool:
    """Whether two scenarios show windows of one history that overlap (within `margin_s`): a process
    shown one would find the other's ticks, and its future, in what it remembers."""
    return any(ha == hb and sa < eb + margin_s and sb < ea + margin_s for ha, sa, ea in a for hb, sb, eb in b)
