"""The kernel evaluator's GPU timing, trusted side: what is reported is decided here.

The candidate's kernels can only be timed in its own process (CUDA events must bracket its
launches), so `runner.time(...)` returns per-call samples that are the candidate's claims. This
side:

- brackets each remote timing call with its own clock: the samples cannot add up to more time
  than passed (kernel_timing.check_samples);
- re-checks outputs of two timed calls (one at a position drawn here) against its own reference;
- measures the memory bandwidth itself and rejects a median below half the speed-of-light bound;
- times the eager reference (and torch.compile of it) in this process, on its own clock;
- computes the statistics, the speedup and the suspicious-speedup flag from the raw samples.

Residual risk, stated in benchmarks/kernels/README.md: a candidate that forges its samples can
claim any runtime between the speed-of-light bound and the wall time of the call, and only the
kept calls' outputs are checked. Not yet run on a GPU (no GPU where this was written).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from syslab.evaluators.failures import InvalidOutput
from syslab.evaluators.handle import Candidate, RemoteObject
from syslab.evaluators.kernel_timing import TimingStats


class Timing(BaseModel):
    metrics: dict[str, float]
    artifacts: dict[str, Any]


def read_timing(reply: Any, n_kept: int, where: str) -> tuple[Any, list[list[Any]], Any]:
    """(samples, kept outputs in wire form, report) of a timing reply; InvalidOutput if malformed."""
    from syslab.evaluators.kernel_wire import WireError, read_report

    if type(reply) is not dict or type(reply.get("kept")) is not list or "report" not in reply:
        raise InvalidOutput(f"{where}: malformed timing reply from the kernel adapter")
    kept = reply["kept"]
    if len(kept) != n_kept or not all(type(k) is list for k in kept):
        raise InvalidOutput(f"{where}: expected the outputs of {n_kept} timed calls")
    try:
        report = read_report(reply["report"])
    except WireError as e:
        raise InvalidOutput(f"{where}: {e}") from None
    return reply.get("samples_us"), kept, report


def time_candidate(
    candidate: Candidate,
    runner: RemoteObject,
    ref_model: Any,
    ref: Any,
    fresh_inputs: Callable[[dict[str, Any]], list[Any]],
    reference: Callable[[list[Any]], list[Any]],
    *,
    timed_trials: int,
    warmup: int,
    require_triton: bool,
    compile_reference: bool,
) -> Timing:
    """Speedup metrics of the candidate against the reference, per the module docstring."""
    import torch

    from syslab.evaluators import kernel_checks as kc
    from syslab.evaluators.kernel import SOL_MARGIN, SUSPICIOUS_SPEEDUP, geomean, shape_label
    from syslab.evaluators.kernel_probes import BoundRefs
    from syslab.evaluators.kernel_timing import (
        L2Flusher,
        check_samples,
        measure_bandwidth,
        peak_tflops,
        speed_of_light_us,
    )
    from syslab.evaluators.kernel_wire import inputs_to_wire

    refs = BoundRefs.capture()
    device = torch.device("cuda")
    flush = L2Flusher(device)
    bandwidth = measure_bandwidth(device, refs)
    gpu_name = torch.cuda.get_device_name(device)
    per_shape: list[dict[str, Any]] = []
    spreads: list[float] = []
    for shape in ref.shapes:
        label = shape_label(shape)
        where = f"timing ({label})"
        inputs = fresh_inputs(shape)
        expected = reference(inputs)
        # Which timed call's output is checked is drawn here; the last one is checked too.
        keep_at = sorted({int.from_bytes(os.urandom(2), "little") % timed_trials, timed_trials - 1})
        since = candidate.elapsed_s
        reply = runner.time(inputs_to_wire(inputs), timed_trials, warmup, keep_at)
        wall_us = (candidate.elapsed_s - since) * 1e6  # the trusted clock, around the whole remote call
        samples, kept, report = read_timing(reply, len(keep_at), where)
        stats = check_samples(samples, timed_trials, wall_us, where)
        for k, outs in zip(keep_at, kept, strict=True):
            kc.check_values(outs, expected, ref.tolerances, f"timed run {k} ({label})")
        needed = timed_trials + warmup if require_triton else 0
        kc.check_rules(report, where, device="cuda", launches_needed=needed)
        ref_stats = _time_here(lambda i=inputs: ref_model(*i), refs, flush, timed_trials, warmup, where)
        nbytes = sum(t.numel() * t.element_size() for t in inputs if isinstance(t, torch.Tensor))
        nbytes += sum(e.numel() * e.element_size() for e in expected)
        flops = float(ref.flops(**shape)) if callable(ref.flops) else 0.0
        sol = speed_of_light_us(nbytes, flops, bandwidth, peak_tflops(gpu_name, str(shape.get("dtype"))))
        if stats.median_us < SOL_MARGIN * sol:
            raise InvalidOutput(
                f"{where}: {stats.median_us:.2f} us is below the speed-of-light bound {sol:.2f} us "
                f"({nbytes} bytes, {flops:.3g} flops): results cannot be real"
            )
        per_shape.append(
            {
                "shape": label,
                "runtime_us": stats.median_us,
                "p10_us": stats.p10_us,
                "p90_us": stats.p90_us,
                "iqr_us": stats.iqr_us,
                "ref_runtime_us": ref_stats.median_us,
                "speedup": ref_stats.median_us / stats.median_us,
                "sol_us": sol,
                "wall_us": wall_us,
            }
        )
        spreads.append(stats.spread)
    artifacts: dict[str, Any] = {"gpu": gpu_name, "bandwidth_gbs": bandwidth / 1e9, "per_shape": per_shape}
    compiled: list[float] = []
    if compile_reference:
        try:
            fn = torch.compile(ref_model)
            for row, shape in zip(per_shape, ref.shapes, strict=True):
                stats = _time_here(
                    lambda i=fresh_inputs(shape): fn(*i), refs, flush, timed_trials, warmup, "compiled"
                )
                row["compile_runtime_us"] = stats.median_us
                compiled.append(stats.median_us / row["runtime_us"])
        except Exception as e:  # noqa: BLE001 - torch.compile is optional (no compiler, unsupported op)
            artifacts["compile_error"] = f"{type(e).__name__}: {e}"[:300]
            compiled = []
    speedup = geomean([r["speedup"] for r in per_shape])
    metrics = {
        "correctness_only": 0.0,
        "speedup": speedup,
        "runtime_us": geomean([r["runtime_us"] for r in per_shape]),
        "ref_runtime_us": geomean([r["ref_runtime_us"] for r in per_shape]),
        "spread": max(spreads),
        "suspicious": float(speedup > SUSPICIOUS_SPEEDUP),
    }
    if compiled:
        metrics["speedup_compile"] = geomean(compiled)
    if speedup > SUSPICIOUS_SPEEDUP:
        artifacts["flag"] = (
            f"speedup {speedup:.1f}x is above {SUSPICIOUS_SPEEDUP:.0f}x: review this candidate"
        )
    return Timing(metrics=metrics, artifacts=artifacts)


def _time_here(
    fn: Callable[[], Any], refs: Any, flush: Any, trials: int, warmup: int, where: str
) -> TimingStats:
    """Time a function of this (trusted) process, cross-checked against this process's clock."""
    import torch

    from syslab.evaluators.kernel_timing import check_samples, time_cuda

    start = time.perf_counter()
    with torch.no_grad():
        samples, _ = time_cuda(fn, refs, flush, trials, warmup)
    return check_samples(samples, trials, (time.perf_counter() - start) * 1e6, where)
