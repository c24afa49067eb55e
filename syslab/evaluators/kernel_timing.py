"""GPU timing for kernel candidates: CUDA events, L2 flush, all-stream sync, robust statistics.

Each timed call is: flush L2 (write a buffer larger than L2), record a start event, call the
function, synchronise the *whole device* (so work a candidate hid on a side stream is inside
the measurement), record the end event. For a candidate this loop runs in the candidate's own
process (the events must bracket its kernels), so the trusted evaluator treats the samples as
claims: it brackets the whole remote call with its own clock (the samples cannot add up to more
time than passed), bounds them below by the speed of light, and computes every statistic itself.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from syslab.evaluators.base import SandboxViolation
from syslab.evaluators.kernel_probes import BoundRefs

# Dense peak TFLOP/s by (GPU name fragment, dtype), from vendor data sheets; used only for
# the speed-of-light sanity bound, so a generous (high) value is the safe side.
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"float32": 67.0, "float16": 989.0, "bfloat16": 989.0},
    "H100": {"float32": 67.0, "float16": 989.0, "bfloat16": 989.0},
    "A100": {"float32": 19.5, "float16": 312.0, "bfloat16": 312.0},
    "L40": {"float32": 90.5, "float16": 362.0, "bfloat16": 362.0},
    "A10": {"float32": 31.2, "float16": 125.0, "bfloat16": 125.0},
    "T4": {"float32": 8.1, "float16": 65.0, "bfloat16": 65.0},
}


class TimingStats(BaseModel):
    n: int
    median_us: float
    p10_us: float
    p90_us: float
    q1_us: float
    q3_us: float

    @property
    def iqr_us(self) -> float:
        return self.q3_us - self.q1_us

    @property
    def spread(self) -> float:
        """Relative interquartile range (IQR / median)."""
        return self.iqr_us / self.median_us if self.median_us > 0 else 0.0


def summarize(samples_us: list[float]) -> TimingStats:
    if not samples_us:
        raise ValueError("no timing samples")
    s = sorted(samples_us)
    if len(s) == 1:
        v = s[0]
        return TimingStats(n=1, median_us=v, p10_us=v, p90_us=v, q1_us=v, q3_us=v)
    deciles = statistics.quantiles(s, n=10, method="inclusive")
    quartiles = statistics.quantiles(s, n=4, method="inclusive")
    return TimingStats(
        n=len(s),
        median_us=statistics.median(s),
        p10_us=deciles[0],
        p90_us=deciles[-1],
        q1_us=quartiles[0],
        q3_us=quartiles[2],
    )


class L2Flusher:
    """Writes a buffer twice the size of L2 so every timed call starts with a cold cache."""

    def __init__(self, device: Any) -> None:
        import torch

        l2 = int(getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0) or 0)
        nbytes = max(2 * l2, 64 << 20)
        self.buffer = torch.empty(nbytes // 4, dtype=torch.int32, device=device)

    def __call__(self) -> None:
        self.buffer.zero_()


def time_cuda(
    fn: Callable[[], Any],
    refs: BoundRefs,
    flush: L2Flusher,
    trials: int = 100,
    warmup: int = 10,
    keep_at: frozenset[int] = frozenset(),
) -> tuple[list[float], list[Any]]:
    """Per-call times of `fn()` in microseconds, and the outputs of the calls numbered in `keep_at`.

    Runs wherever `fn` lives (for a candidate: in its process). The samples are raw; whoever
    reports them checks them against its own clock first (`check_samples`)."""
    for _ in range(warmup):
        fn()
    refs.cuda_synchronize()
    starts = [refs.cuda_event(enable_timing=True) for _ in range(trials)]
    ends = [refs.cuda_event(enable_timing=True) for _ in range(trials)]
    kept: list[Any] = []
    for i in range(trials):
        flush()
        starts[i].record()
        out = fn()
        refs.cuda_synchronize()  # device-wide: side-stream work finishes inside the window
        ends[i].record()
        if i in keep_at:
            kept.append(out)
    refs.cuda_synchronize()
    return [s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends, strict=False)], kept


def check_samples(samples: Any, trials: int, wall_us: float, where: str) -> TimingStats:
    """Statistics of timing samples, after checking them against a wall-clock window the caller
    measured with its own clock around the whole timed loop: the per-call times can never add up to
    more time than passed, so a patched event machinery that reports too much is caught here."""
    if type(samples) is not list or len(samples) != trials:
        raise SandboxViolation(f"{where}: expected {trials} timing samples")
    if not all(type(s) is float and math.isfinite(s) and s > 0 for s in samples):
        raise SandboxViolation(f"{where}: timing samples must be positive finite numbers")
    if sum(samples) > wall_us * 1.05 + 50:
        raise SandboxViolation(
            f"{where}: timer tampering: CUDA events report {sum(samples):.0f} us inside a "
            f"{wall_us:.0f} us wall-clock window"
        )
    return summarize(samples)


def measure_bandwidth(device: Any, refs: BoundRefs, nbytes: int = 256 << 20) -> float:
    """Achievable device-memory bandwidth in bytes/s (a large copy: read + write)."""
    import torch

    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    refs.cuda_synchronize()
    start, end = refs.cuda_event(enable_timing=True), refs.cuda_event(enable_timing=True)
    reps = 10
    start.record()
    for _ in range(reps):
        dst.copy_(src)
    end.record()
    refs.cuda_synchronize()
    seconds = start.elapsed_time(end) / 1e3 / reps
    return 2 * nbytes / seconds if seconds > 0 else float("inf")


def peak_tflops(gpu_name: str, dtype: str) -> float | None:
    for frag, table in PEAK_TFLOPS.items():
        if frag in gpu_name:
            return table.get(dtype)
    return None


def speed_of_light_us(nbytes: int, flops: float, bandwidth: float, tflops: float | None) -> float:
    """Lower bound on runtime: the slower of moving the bytes and doing the flops at peak."""
    t_mem = nbytes / bandwidth if bandwidth > 0 else 0.0
    t_flop = flops / (tflops * 1e12) if tflops and flops else 0.0
    return max(t_mem, t_flop) * 1e6
