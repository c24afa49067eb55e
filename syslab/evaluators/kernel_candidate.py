"""Candidate side of the kernel evaluator: builds the program's `ModelNew` and runs it on inputs the
trusted evaluator sends, in the candidate's own sandboxed process.

Every kernel task's adapter.py imports `kernel_model` from here, so this module loads in the
candidate's process *before* the program: it puts Triton in interpreter mode when there is no CUDA
GPU (Triton reads that when it loads), binds the clocks and CUDA events, wraps Triton's launch entry
points and snapshots the namespaces the instruments depend on.

The evaluator (kernel.py) calls, through the candidate handle:

    runner = candidate.new("kernel_model", device, init_inputs, init_seed, state)
    runner.forward(inputs, slot)   # fresh tensors from the inputs, remembered as `slot`
    runner.rerun(slot)             # the same tensors again (determinism)
    runner.refill(inputs, slot)    # new values written into the slot's tensors (same addresses)
    runner.time(inputs, trials, warmup, keep_at)   # GPU only: CUDA-event samples

Each call returns plain data: the outputs as numpy arrays (kernel_wire.py) and a `KernelReport` of
what the instruments saw (Triton launches, aten compute ops, inputs changed in place, new threads,
replaced functions, side streams, each output's type and layout).

ADVISORY, by design: all of this runs next to the candidate's code, which can patch any of it (or
this whole module) and make the report say anything. What a candidate can gain that way is
limited to breaking the task's *rules*: on the CPU path the rule "all arithmetic happens in Triton"
is enforced only here, so a candidate that defeats these instruments can pass with a PyTorch
fallback. It cannot fake *correctness*: the trusted side keeps the reference and its outputs, draws
the inputs, and compares the returned values itself.
"""

from __future__ import annotations

import os
from typing import Any

import torch

# Interpreter mode without a GPU, or when asked for (a test on a GPU machine; the sandbox passes no
# such variable, so a sandboxed candidate with a GPU always compiles its kernels).
INTERPRETER = os.environ.get("TRITON_INTERPRET") == "1" or not torch.cuda.is_available()
if INTERPRETER:
    os.environ["TRITON_INTERPRET"] = "1"  # read when triton loads, which is next
else:  # compiler caches go to the (writable) scratch dir, not $HOME, which the sandbox may forbid
    os.environ.setdefault("TRITON_CACHE_DIR", os.path.abspath(".triton-cache"))
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.abspath(".inductor-cache"))

import builtins  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import torch.nn.functional  # noqa: E402
import triton  # noqa: E402
import triton.language  # noqa: E402
from triton.runtime import jit as triton_jit  # noqa: E402

from syslab.evaluators import kernel_probes, kernel_wire  # noqa: E402
from syslab.evaluators.failures import InvalidOutput  # noqa: E402
from syslab.evaluators.kernel_probes import (  # noqa: E402
    BoundRefs,
    Integrity,
    LaunchCounter,
    OpCounter,
    mutated,
    new_threads,
    os_threads,
    overlaps,
    poison,
    snapshot,
)
from syslab.evaluators.kernel_wire import (  # noqa: E402
    KernelReport,
    OutputNote,
    WireError,
    from_wire,
    is_wire,
    to_wire,
)

if INTERPRETER and isinstance(getattr(triton.language.standard, "zeros", None), triton_jit.JITFunction):
    raise RuntimeError(
        "triton was imported before TRITON_INTERPRET=1 was set, so its standard library cannot run in the "
        "interpreter: the kernel adapter must load before anything imports triton"
    )

REFS = BoundRefs.capture()
LAUNCHES = LaunchCounter(interpreter=INTERPRETER, refs=REFS)
LAUNCHES.install()
with torch.no_grad(), OpCounter(LAUNCHES):  # warm-up: lazily started thread pools are not the program's
    (torch.ones(256, 256) @ torch.ones(256, 256)).sum()
THREADS0 = os_threads()
SNAPSHOT: dict[str, Integrity] = {}  # filled last, see the end of the module


def kernel_model(program: Any, device: str, init_inputs: list, init_seed: int, state: dict) -> KernelRunner:
    """Build the program's ModelNew like the reference Model: same init inputs, same seed, and the
    reference's parameters (`state`, wire form) when both have the same parameter names."""
    cls = getattr(program, "ModelNew", None)
    if not isinstance(cls, type):
        raise InvalidOutput("the program defines no ModelNew class")
    if (device == "cpu") != INTERPRETER:
        raise RuntimeError(
            f"the evaluator asked for device {device!r} but the candidate's process "
            + ("runs Triton's interpreter (no CUDA GPU)" if INTERPRETER else "compiles for its CUDA GPU")
        )
    torch.manual_seed(init_seed)
    model = cls(*init_inputs).to(device)
    if list(state) == list(model.state_dict()):
        model.load_state_dict({k: from_wire(v).to(device) for k, v in state.items()})
    return KernelRunner(model, device)


class KernelRunner:
    """The candidate's model and the input tensors it was last given, per slot (a shape index)."""

    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = torch.device(device)
        self.slots: dict[int, list[Any]] = {}
        self._flush: Any = None
        if not INTERPRETER:
            LAUNCHES.main_stream = REFS.current_stream()

    def _values(self, inputs: list[Any]) -> list[Any]:
        return [from_wire(v).to(self.device) if is_wire(v) else v for v in inputs]

    def forward(self, inputs: list[Any], slot: int) -> dict[str, Any]:
        self.slots[slot] = self._values(inputs)
        return self._run(self.slots[slot])

    def rerun(self, slot: int) -> dict[str, Any]:
        return self._run(self.slots[slot])

    def refill(self, inputs: list[Any], slot: int) -> dict[str, Any]:
        """Write new values into the slot's tensors: a cache keyed on addresses now serves stale values."""
        old = self.slots[slot]
        for dst, src in zip(old, self._values(inputs), strict=True):
            if isinstance(dst, torch.Tensor):
                if dst.shape != src.shape or dst.dtype != src.dtype:
                    raise ValueError("refill: new inputs must have the slot's shapes and dtypes")
                dst.copy_(src)
        return self._run(old)

    def _run(self, values: list[Any]) -> dict[str, Any]:
        before = snapshot(values)
        garbage = torch.empty(
            sum(t.numel() for t in values if isinstance(t, torch.Tensor)) * 2 + 1, device=self.device
        )
        poison(garbage)  # freed NaNs where an uninitialised output might land
        del garbage
        LAUNCHES.count = LAUNCHES.foreign_streams = 0
        with torch.no_grad(), OpCounter(LAUNCHES) as ops:
            out = self.model(*values)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        pairs = [_output(o, values) for o in outs]
        notes = [note for _, note in pairs]
        report = KernelReport(
            launches=LAUNCHES.count,
            foreign_streams=LAUNCHES.foreign_streams,
            fallback_ops=sorted(set(ops.forbidden)),
            mutated_inputs=mutated(values, before, REFS),
            new_threads=new_threads(THREADS0),
            tampering=SNAPSHOT["integrity"].changes(),
            outputs=notes,
        )
        for o, note in zip(outs, notes, strict=True):
            if note.type == "torch.Tensor" and note.aliases_input is None:
                poison(o)  # the next call's torch.empty must not find this answer
        return {"outputs": [wire for wire, _ in pairs], "report": report.model_dump()}

    def time(self, inputs: list[Any], trials: int, warmup: int, keep_at: list[int]) -> dict[str, Any]:
        """GPU: CUDA-event samples of `trials` calls (each after an L2 flush) and a few of their outputs."""
        from syslab.evaluators.kernel_timing import L2Flusher, time_cuda

        if INTERPRETER:
            raise RuntimeError("timing needs a CUDA GPU")
        values = self._values(inputs)
        self._flush = self._flush or L2Flusher(self.device)
        LAUNCHES.count = LAUNCHES.foreign_streams = 0
        with torch.no_grad():
            samples, kept = time_cuda(
                lambda: self.model(*values), REFS, self._flush, trials, warmup, frozenset(keep_at)
            )
        report = KernelReport(
            launches=LAUNCHES.count,
            foreign_streams=LAUNCHES.foreign_streams,
            new_threads=new_threads(THREADS0),
            tampering=SNAPSHOT["integrity"].changes(),
        )
        outputs = [
            [_output(o, values)[0] for o in (k if isinstance(k, (tuple, list)) else [k])] for k in kept
        ]
        return {"samples_us": samples, "kept": outputs, "report": report.model_dump()}


def _output(o: Any, values: list[Any]) -> tuple[Any, OutputNote]:
    """(wire form or None, note) of one output; only a plain torch.Tensor crosses as values."""
    kind = type(o)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if kind is not torch.Tensor:
        return None, OutputNote(type=name[:200])
    alias = next((i for i, t in enumerate(values) if isinstance(t, torch.Tensor) and overlaps(o, t)), None)
    note = OutputNote(
        type=name,
        device=str(o.device),
        dense=o.layout == torch.strided and o.is_contiguous(),
        aliases_input=alias,
    )
    try:
        return to_wire(o), note
    except WireError as e:
        raise InvalidOutput(f"output: {e}") from None


# Last, so that this module's own names are in the snapshot: anything added or replaced later is not ours.
SNAPSHOT["integrity"] = Integrity(
    strict={
        "kernel_candidate": sys.modules[__name__],
        "kernel_probes": kernel_probes,
        "kernel_wire": kernel_wire,
    },
    loose={
        "torch": torch,
        "torch.nn.functional": torch.nn.functional,
        "torch.Tensor": torch.Tensor,
        "TensorBase": torch._C.TensorBase,
        "nn.Module": torch.nn.Module,
        "torch.cuda": torch.cuda,
        "time": time,
        "os": os,
        "builtins": builtins,
        "threading": threading,
        "JITFunction": triton_jit.JITFunction,
    },
    # torch._dynamo wraps torch.manual_seed when it first loads (a program may import it, and the
    # op counter no longer does); the seed only matters for parity of ModelNew's own init.
    ignore=frozenset({"torch.manual_seed"}),
)
