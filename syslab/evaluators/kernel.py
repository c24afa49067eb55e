"""The kernel evaluator: strict correctness and (on a GPU) timing of a Triton `ModelNew`.

`evaluate_kernel(program_path, reference_path)` is what a kernel task's evaluate.py calls; it
runs inside the harness's sandboxed child process. Order of events, and why:

1. Bind the scorer's references (timers, allclose, urandom, CUDA events) into a local frozen
   object, install the Triton launch counter, load the reference, warm it up, snapshot the
   namespaces the scorer depends on and count the OS threads — all *before* the candidate loads.
2. Import the candidate; check that it replaced nothing and left no thread behind.
3. Correctness: >= 5 trials over several shapes, inputs drawn from an os.urandom seed made after
   the import; per trial the reference runs first, its output is cloned and the original
   poisoned (NaN) before it is freed; the candidate runs under an op counter (aten compute
   ops = PyTorch fallback) and must launch a Triton kernel; output type/shape/dtype/device/
   contiguity/aliasing, input bytes, tolerance. Plus a determinism re-run and an in-place
   refill trial (same tensors, new values) per shape, which defeats result caches.
4. GPU only: timing (kernel_timing), speedup vs eager and torch.compile, timed outputs
   re-checked, speed-of-light bound, a flag above 10x.
Without a GPU it is correctness-only in Triton's interpreter: no speedup is ever reported.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

from syslab.evaluators.base import InvalidOutput, SandboxViolation
from syslab.evaluators.loading import load_module

SUSPICIOUS_SPEEDUP = 10.0
SOL_MARGIN = 0.5  # a runtime below half the speed-of-light bound is rejected as impossible
INTERPRETER_SKIPS = {
    "bfloat16": "skipped in interpreter mode: Triton's interpreter mishandles bfloat16 (numpy has none)",
}
INTERPRETER_NOTE = (
    "correctness-only (no GPU): Triton interpreter on small shapes; it does not detect out-of-bounds "
    "accesses, so those are not checked"
)


def _load_module(path: Path, prefix: str, token: str) -> Any:
    return load_module(path, f"{prefix}_{token}")


class _Reference:
    """What the task's reference.py provides, read once before the candidate loads."""

    def __init__(self, module: Any, path: Path, interpreter: bool) -> None:
        for attr in ("Model", "get_inputs", "get_init_inputs"):
            if not hasattr(module, attr):
                raise InvalidOutput(f"{path}: reference defines no {attr}")
        self.model_cls = module.Model
        self.get_inputs = module.get_inputs
        self.get_init_inputs = module.get_init_inputs
        field = "CPU_SHAPES" if interpreter else "SHAPES"
        shapes = list(getattr(module, field, None) or getattr(module, "SHAPES", None) or [{}])
        self.skipped: list[str] = []
        self.shapes: list[dict[str, Any]] = []
        for shape in shapes:
            dtype = str(shape.get("dtype", "float32"))
            if interpreter and dtype in INTERPRETER_SKIPS:
                self.skipped.append(f"{_label(shape)}: {INTERPRETER_SKIPS[dtype]}")
            else:
                self.shapes.append(dict(shape))
        if not self.shapes:
            raise InvalidOutput(f"{path}: {field} leaves no shape to test")
        self.tolerances = dict(getattr(module, "TOLERANCE", {}) or {})
        self.deterministic = bool(getattr(module, "DETERMINISTIC", True))
        self.flops = getattr(module, "flops", None)


def _label(shape: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in shape.items())


def evaluate_kernel(
    program_path: str | Path,
    reference_path: str | Path,
    *,
    trials: int = 5,
    timed_trials: int = 100,
    warmup: int = 10,
    mode: str | None = None,
    require_triton: bool = True,
    compile_reference: bool = True,
) -> dict[str, Any]:
    """Evaluate a candidate kernel program against a reference; raise CandidateRejected on failure.

    mode: "gpu", "interpreter" or None (auto: gpu when CUDA is available).
    Returns metrics: correct, correctness_only, trials, and on a GPU speedup (primary),
    speedup_compile, runtime_us (median), spread (IQR/median), ref_runtime_us, suspicious.
    """
    from syslab.evaluators import base, gpu, kernel_checks, kernel_timing
    from syslab.evaluators.gpu import gpu_available

    if mode is None:
        mode = "gpu" if gpu_available() else "interpreter"
    if mode not in ("gpu", "interpreter"):
        raise ValueError(f"mode must be 'gpu' or 'interpreter', not {mode!r}")
    interpreter = mode == "interpreter"
    if interpreter:
        os.environ["TRITON_INTERPRET"] = "1"  # read by triton.jit at decoration time
    else:  # compiler caches go to the (writable) scratch dir, not $HOME, which the sandbox may forbid
        os.environ.setdefault("TRITON_CACHE_DIR", os.path.abspath(".triton-cache"))
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.abspath(".inductor-cache"))

    import builtins
    import threading
    import time

    import torch
    import torch.nn.functional
    import triton  # imported before the candidate so that its launch path can be wrapped
    import triton.language
    from triton.runtime import jit as triton_jit

    if interpreter and isinstance(getattr(triton.language.standard, "zeros", None), triton_jit.JITFunction):
        raise RuntimeError(
            "triton was imported before TRITON_INTERPRET=1 was set, so its standard library cannot run in "
            "the interpreter: set TRITON_INTERPRET=1 before importing triton, or let evaluate_kernel import it first"
        )

    kc = kernel_checks  # every helper is bound to a local now; module patching cannot reach these
    refs = kc.ScorerRefs.capture()
    check_output, check_unchanged, snapshot, poison = (
        kc.check_output,
        kc.check_unchanged,
        kc.snapshot,
        kc.poison,
    )
    as_list, check_threads, os_threads = kc.as_list, kc.check_threads, kc.os_threads
    op_counter_cls, no_grad, manual_seed = kc.OpCounter, torch.no_grad, torch.manual_seed
    device = torch.device("cuda" if not interpreter else "cpu")
    token = refs.urandom(6).hex()

    launches = kc.LaunchCounter(interpreter=interpreter, refs=refs)
    launches.install()
    try:
        ref_path = Path(reference_path)
        ref_module = _load_module(ref_path, "syslab_reference", token)
        ref = _Reference(ref_module, ref_path, interpreter)
        init_inputs = list(ref.get_init_inputs())
        init_seed = int.from_bytes(refs.urandom(4), "little")
        manual_seed(init_seed)
        ref_model = ref.model_cls(*init_inputs).to(device).eval()

        def fresh_inputs(shape: dict[str, Any]) -> list[Any]:
            kwargs = dict(shape)
            kwargs["dtype"] = getattr(torch, str(kwargs.get("dtype", "float32")))
            gen = torch.Generator(device=device)
            gen.manual_seed(int.from_bytes(refs.urandom(8), "little") >> 1)
            return as_list(ref.get_inputs(**kwargs, device=device, generator=gen))

        def run_reference(inputs: list[Any]) -> list[torch.Tensor]:
            with no_grad():
                outs = as_list(ref_model(*inputs))
            expected = [o.detach().clone() for o in outs]
            for o in outs:  # poison before freeing: torch.empty in the candidate must not inherit it
                if not any(isinstance(t, torch.Tensor) and kc.overlaps(o, t) for t in inputs):
                    poison(o)
            return expected

        # Warm-up: thread pools, the CUDA context, and the lazy imports (torch._dynamo rebinds
        # torch.manual_seed when it first loads) that would otherwise look like tampering later.
        import torch._dynamo  # noqa: F401

        with op_counter_cls(launches):
            run_reference(fresh_inputs(ref.shapes[0]))
        if not interpreter:
            launches.scorer_stream = refs.current_stream()
        strict = {"kernel": sys.modules[__name__], "kernel_checks": kc, "kernel_timing": kernel_timing}
        strict |= {"gpu": gpu, "base": base, "reference": ref_module, "Model": ref.model_cls}
        loose = {"torch": torch, "torch.nn.functional": torch.nn.functional, "torch.Tensor": torch.Tensor}
        loose |= {"TensorBase": torch._C.TensorBase, "nn.Module": torch.nn.Module, "torch.cuda": torch.cuda}
        loose |= {"time": time, "os": os, "builtins": builtins, "threading": threading}
        loose |= {"JITFunction": triton_jit.JITFunction}
        integrity = kc.Integrity(strict, loose)
        integrity_check = integrity.check
        threads0 = os_threads()

        # ---- the candidate loads only now ----
        cand_module = _load_module(Path(program_path), "syslab_candidate", token)
        integrity_check("the candidate's import")
        check_threads(threads0, "the candidate's import")
        model_new_cls = getattr(cand_module, "ModelNew", None)
        if not isinstance(model_new_cls, type):
            raise InvalidOutput("the program defines no ModelNew class")
        manual_seed(init_seed)  # same parameters as the reference if ModelNew has any
        cand_model = model_new_cls(*init_inputs).to(device)
        if list(ref_model.state_dict()) == list(cand_model.state_dict()):
            cand_model.load_state_dict(ref_model.state_dict())
        integrity_check("ModelNew()")

        def run_candidate(inputs: list[Any], expected: list[torch.Tensor], where: str) -> list[torch.Tensor]:
            before = snapshot(inputs)
            garbage = torch.empty(sum(e.numel() for e in expected) * 2 + 1, device=device)
            poison(garbage)  # freed NaNs where an uninitialised output might land
            del garbage
            launches.count = 0
            with no_grad(), op_counter_cls(launches) as ops:
                out = cand_model(*inputs)
            if ops.forbidden:
                names = sorted(set(ops.forbidden))
                raise InvalidOutput(
                    f"{where}: PyTorch fallback: forward() called {', '.join(names[:5])} "
                    "(a kernel task allows only allocation/view ops outside Triton kernels)"
                )
            if require_triton and launches.count == 0:
                raise InvalidOutput(f"{where}: no Triton kernel launched (PyTorch fallback is not a kernel)")
            if launches.foreign_streams:
                raise InvalidOutput(f"{where}: a Triton kernel was launched on a side stream")
            check_threads(threads0, where)
            integrity_check(where)
            check_unchanged(inputs, before, refs)
            outs = check_output(out, expected, inputs, refs, ref.tolerances, where)
            return outs

        # ---- correctness ----
        n_trials = max(trials, 2 * len(ref.shapes))
        seen: set[int] = set()
        last_inputs: dict[int, list[Any]] = {}
        for t in range(n_trials):
            si = t % len(ref.shapes)
            where = f"trial {t + 1} ({_label(ref.shapes[si])})"
            inputs = fresh_inputs(ref.shapes[si])
            expected = run_reference(inputs)
            first = run_candidate(inputs, expected, where)
            if si not in seen and ref.deterministic:
                again = run_candidate(inputs, expected, where + " re-run")
                if not all(
                    refs.equal(kc.byte_view(a), kc.byte_view(b)) for a, b in zip(first, again, strict=False)
                ):
                    raise InvalidOutput(f"{where}: nondeterministic: two runs on the same inputs differ")
            seen.add(si)
            last_inputs[si] = inputs
        for si, inputs in last_inputs.items():  # same tensors, same addresses, new values
            for old, new in zip(inputs, fresh_inputs(ref.shapes[si]), strict=False):
                if isinstance(old, torch.Tensor):
                    old.copy_(new)
            run_candidate(inputs, run_reference(inputs), f"refill trial ({_label(ref.shapes[si])})")
        correct_trials = n_trials + len(last_inputs) + len(seen) * ref.deterministic

        result: dict[str, Any] = {"correct": 1.0, "trials": float(correct_trials)}
        artifacts: dict[str, Any] = {"mode": mode, "shapes": [_label(s) for s in ref.shapes]}
        if ref.skipped:
            artifacts["skipped"] = ref.skipped
        if interpreter:
            result["correctness_only"] = 1.0
            artifacts["note"] = INTERPRETER_NOTE
            integrity_check("the evaluation")
            check_threads(threads0, "the evaluation")
            result["artifacts"] = artifacts
            return result

        # ---- timing (GPU) ----
        from syslab.evaluators.kernel_timing import (
            L2Flusher,
            measure_bandwidth,
            peak_tflops,
            speed_of_light_us,
            time_cuda,
        )

        flush = L2Flusher(device)
        bandwidth = measure_bandwidth(device, refs)
        gpu_name = torch.cuda.get_device_name(device)
        per_shape: list[dict[str, Any]] = []
        timed: list[tuple[list[Any], Any]] = []
        for shape in ref.shapes:
            inputs = fresh_inputs(shape)
            expected = run_reference(inputs)
            launches.count = 0
            with no_grad():
                cand_stats, kept = time_cuda(
                    lambda i=inputs: cand_model(*i), refs, flush, timed_trials, warmup
                )
                if require_triton and launches.count < timed_trials + warmup:
                    raise InvalidOutput(
                        f"timing ({_label(shape)}): calls without a Triton launch while timed"
                    )
                if launches.foreign_streams:
                    raise InvalidOutput(
                        f"timing ({_label(shape)}): a Triton kernel was launched on a side stream"
                    )
                for k, out in enumerate(kept):
                    check_output(
                        out, expected, inputs, refs, ref.tolerances, f"timed run {k} ({_label(shape)})"
                    )
                ref_stats, _ = time_cuda(
                    lambda i=inputs: ref_model(*i), refs, flush, timed_trials, warmup, keep=0
                )
            nbytes = sum(t.numel() * t.element_size() for t in inputs if isinstance(t, torch.Tensor))
            nbytes += sum(e.numel() * e.element_size() for e in expected)
            flops = float(ref.flops(**shape)) if callable(ref.flops) else 0.0
            sol = speed_of_light_us(nbytes, flops, bandwidth, peak_tflops(gpu_name, str(shape.get("dtype"))))
            if cand_stats.median_us < SOL_MARGIN * sol:
                raise InvalidOutput(
                    f"timing ({_label(shape)}): {cand_stats.median_us:.2f} us is below the speed-of-light "
                    f"bound {sol:.2f} us ({nbytes} bytes, {flops:.3g} flops): results cannot be real"
                )
            per_shape.append(
                {
                    "shape": _label(shape),
                    "runtime_us": cand_stats.median_us,
                    "p10_us": cand_stats.p10_us,
                    "p90_us": cand_stats.p90_us,
                    "iqr_us": cand_stats.iqr_us,
                    "ref_runtime_us": ref_stats.median_us,
                    "speedup": ref_stats.median_us / cand_stats.median_us,
                    "sol_us": sol,
                }
            )
            timed.append((inputs, cand_stats))
        integrity_check("the timed runs")
        check_threads(threads0, "the timed runs")

        compiled_speedups: list[float] = []
        if compile_reference:
            try:
                compiled = torch.compile(ref_model)
                for row, shape in zip(per_shape, ref.shapes, strict=False):
                    inputs = fresh_inputs(shape)
                    with no_grad():
                        stats, _ = time_cuda(
                            lambda i=inputs: compiled(*i), refs, flush, timed_trials, warmup, keep=0
                        )
                    row["compile_runtime_us"] = stats.median_us
                    compiled_speedups.append(stats.median_us / row["runtime_us"])
            except Exception as e:  # torch.compile is optional (no compiler, unsupported op)
                artifacts["compile_error"] = f"{type(e).__name__}: {e}"[:300]
                compiled_speedups = []

        speedup = _geomean([r["speedup"] for r in per_shape])
        result |= {
            "correctness_only": 0.0,
            "speedup": speedup,
            "runtime_us": _geomean([r["runtime_us"] for r in per_shape]),
            "ref_runtime_us": _geomean([r["ref_runtime_us"] for r in per_shape]),
            "spread": max(s.spread for _, s in timed),
            "suspicious": float(speedup > SUSPICIOUS_SPEEDUP),
        }
        if compiled_speedups:
            result["speedup_compile"] = _geomean(compiled_speedups)
        artifacts |= {"gpu": gpu_name, "bandwidth_gbs": bandwidth / 1e9, "per_shape": per_shape}
        if speedup > SUSPICIOUS_SPEEDUP:
            artifacts["flag"] = (
                f"speedup {speedup:.1f}x is above {SUSPICIOUS_SPEEDUP:.0f}x: review this candidate"
            )
        result["artifacts"] = artifacts
        return result
    finally:
        launches.uninstall()


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


__all__ = ["evaluate_kernel", "SandboxViolation"]
