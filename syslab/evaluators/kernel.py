"""The kernel evaluator: strict correctness and (on a GPU) timing of a Triton `ModelNew`, scored in
the trusted process that never runs candidate code.

`evaluate_kernel(candidate, reference_path)` is what a kernel task's evaluate.py calls, with the
`Candidate` handle of split evaluation. The candidate's program runs in its own sandboxed process,
behind the task's adapter (kernel_candidate.py), and only plain data crosses. Order of events:

1. Here: load the task's reference.py, build its Model from a seed drawn from os.urandom, and ask
   the candidate side to build ModelNew the same way (same init inputs, same seed, the reference's
   parameters sent as numpy arrays).
2. Correctness: >= 5 trials spread over the shapes, fresh inputs per trial from an os.urandom seed;
   the reference runs here and its outputs never leave this process; the inputs are sent as numpy
   arrays and the outputs come back as numpy arrays. Per shape, a determinism re-run (bit-for-bit)
   and a refill trial (new values written into the same input tensors, which defeats result caches
   keyed on addresses). The verdict (kernel_checks.judge): count, type, shape, dtype and tolerance
   are decided here; the candidate side's report (Triton launched, no aten compute fallback, inputs
   unchanged, no side stream, no thread, nothing patched) is advisory: a candidate can forge it to
   break the rules, never to pass wrong values.
3. GPU only: the candidate's timing loop must run in its process (CUDA events around its kernels),
   so its samples are claims. This side decides what is reported: it brackets the remote call with
   its own clock, re-checks outputs of timed calls, bounds the runtime below by the speed of light
   it measured itself, times the reference here, and computes every statistic and the speedup.
   What a forged report can still do there is stated in benchmarks/kernels/README.md.
Without a GPU it is correctness-only in Triton's interpreter: no speedup is ever reported.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from syslab.evaluators.failures import InvalidOutput
from syslab.evaluators.handle import Candidate
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
CHECKS_NOTE = (
    "trusted: output count, type, shape, dtype, values within tolerance, determinism, refill; "
    "advisory (reported by the candidate's process): Triton launches, no PyTorch fallback, inputs "
    "unchanged, no side stream, no new thread, nothing replaced"
)


class _Reference:
    """What the task's reference.py provides."""

    def __init__(
        self, module: Any, path: Path, interpreter: bool, shape_sets: dict[str, Any] | None = None
    ) -> None:
        for attr in ("Model", "get_inputs", "get_init_inputs"):
            if not hasattr(module, attr):
                raise InvalidOutput(f"{path}: reference defines no {attr}")
        self.model_cls = module.Model
        self.get_inputs = module.get_inputs
        self.get_init_inputs = module.get_init_inputs
        field = "CPU_SHAPES" if interpreter else "SHAPES"
        # shape_sets (a held-out evaluation's other shapes) stand in for the module's lists.
        listed = (
            shape_sets if shape_sets is not None else {k: getattr(module, k, None) for k in (field, "SHAPES")}
        )
        shapes = list(listed.get(field) or listed.get("SHAPES") or [{}])
        self.skipped: list[str] = []
        self.shapes: list[dict[str, Any]] = []
        for shape in shapes:
            dtype = str(shape.get("dtype", "float32"))
            if interpreter and dtype in INTERPRETER_SKIPS:
                self.skipped.append(f"{shape_label(shape)}: {INTERPRETER_SKIPS[dtype]}")
            else:
                self.shapes.append(dict(shape))
        if not self.shapes:
            raise InvalidOutput(f"{path}: {field} leaves no shape to test")
        self.tolerances = dict(getattr(module, "TOLERANCE", {}) or {})
        self.deterministic = bool(getattr(module, "DETERMINISTIC", True))
        self.flops = getattr(module, "flops", None)


def shape_label(shape: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in shape.items())


def evaluate_kernel(
    candidate: Candidate,
    reference_path: str | Path,
    *,
    trials: int = 5,
    timed_trials: int = 100,
    warmup: int = 10,
    mode: str | None = None,
    require_triton: bool = True,
    compile_reference: bool = True,
    shapes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate a candidate kernel program against a reference; raise CandidateRejected on failure.

    mode: "gpu", "interpreter" or None (auto: gpu when CUDA is available here).
    shapes: {"SHAPES": [...], "CPU_SHAPES": [...]} instead of the reference's own (held-out shapes).
    Returns metrics: correct, correctness_only, trials, and on a GPU speedup (primary),
    speedup_compile, runtime_us (median), spread (IQR/median), ref_runtime_us, suspicious.
    """
    import torch

    from syslab.evaluators import kernel_checks as kc
    from syslab.evaluators.gpu import gpu_available
    from syslab.evaluators.kernel_wire import inputs_to_wire, to_wire

    if mode is None:
        mode = "gpu" if gpu_available() else "interpreter"
    if mode not in ("gpu", "interpreter"):
        raise ValueError(f"mode must be 'gpu' or 'interpreter', not {mode!r}")
    interpreter = mode == "interpreter"
    device = torch.device("cpu" if interpreter else "cuda")
    ref_path = Path(reference_path)
    module = load_module(ref_path, f"syslab_reference_{os.urandom(6).hex()}")
    ref = _Reference(module, ref_path, interpreter, shapes)
    init_inputs = list(ref.get_init_inputs())
    init_seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(init_seed)
    ref_model = ref.model_cls(*init_inputs).to(device).eval()
    state = {k: to_wire(v) for k, v in ref_model.state_dict().items()}
    runner = candidate.new("kernel_model", device.type, init_inputs, init_seed, state)

    def fresh_inputs(shape: dict[str, Any]) -> list[Any]:
        kwargs = dict(shape)
        kwargs["dtype"] = getattr(torch, str(kwargs.get("dtype", "float32")))
        gen = torch.Generator(device=device)
        gen.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)
        return kc.as_list(ref.get_inputs(**kwargs, device=device, generator=gen))

    def reference(inputs: list[Any]) -> list[torch.Tensor]:
        with torch.no_grad():
            return [o.detach().to("cpu", copy=True) for o in kc.as_list(ref_model(*inputs))]

    def judge(reply: Any, expected: list[torch.Tensor], where: str) -> list[torch.Tensor]:
        return kc.judge(
            reply, expected, ref.tolerances, where, device=device.type, require_triton=require_triton
        )

    # ---- correctness ----
    n_trials = max(trials, 2 * len(ref.shapes))
    slots: set[int] = set()  # shapes tried; the candidate side keeps each one's last input tensors
    reruns = 0
    for t in range(n_trials):
        si = t % len(ref.shapes)
        where = f"trial {t + 1} ({shape_label(ref.shapes[si])})"
        inputs = fresh_inputs(ref.shapes[si])
        expected = reference(inputs)
        first = judge(runner.forward(inputs_to_wire(inputs), si), expected, where)
        if si not in slots and ref.deterministic:
            again = judge(runner.rerun(si), expected, where + " re-run")
            reruns += 1
            if not kc.same_bytes(first, again):
                raise InvalidOutput(f"{where}: nondeterministic: two runs on the same inputs differ")
        slots.add(si)
    for si in sorted(slots):  # the slot's tensors, same addresses, new values
        inputs = fresh_inputs(ref.shapes[si])
        judge(
            runner.refill(inputs_to_wire(inputs), si),
            reference(inputs),
            f"refill trial ({shape_label(ref.shapes[si])})",
        )

    result: dict[str, Any] = {"correct": 1.0, "trials": float(n_trials + reruns + len(slots))}
    artifacts: dict[str, Any] = {
        "mode": mode,
        "shapes": [shape_label(s) for s in ref.shapes],
        "checks": CHECKS_NOTE,
    }
    if ref.skipped:
        artifacts["skipped"] = ref.skipped
    if interpreter:
        result["correctness_only"] = 1.0
        artifacts["note"] = INTERPRETER_NOTE
        result["artifacts"] = artifacts
        return result
    from syslab.evaluators.kernel_gpu import time_candidate

    timing = time_candidate(
        candidate,
        runner,
        ref_model,
        ref,
        fresh_inputs,
        reference,
        timed_trials=timed_trials,
        warmup=warmup,
        require_triton=require_triton,
        compile_reference=compile_reference,
    )
    result |= timing.metrics
    artifacts |= timing.artifacts
    result["artifacts"] = artifacts
    return result


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


__all__ = ["evaluate_kernel", "geomean", "shape_label"]
