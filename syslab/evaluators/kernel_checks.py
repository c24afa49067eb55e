"""The kernel evaluator's verdict on one candidate reply, decided in the trusted process.

A reply (kernel_candidate.py) holds the outputs as plain data and a report of the candidate side's
instruments. The checks here come in two kinds, applied in this order:

1. Trusted: the outputs' count, type, shape and dtype, and their values against the reference's
   within tolerance. The reference ran here; the values were decoded here into fresh arrays; the
   comparison uses this process's torch. Nothing the candidate does can change these.
2. Advisory: the rules the candidate's report speaks to (a Triton launch happened, no aten compute
   op ran outside one, inputs unchanged, no side stream, no new thread, nothing replaced, outputs
   dense and not aliasing inputs). The report is the candidate's own account; a hostile candidate
   can forge it, and that lets it break the rules (e.g. use a PyTorch fallback), never pass off
   wrong values.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch

from syslab.evaluators.failures import InvalidOutput, SandboxViolation, WrongAnswer
from syslab.evaluators.kernel_wire import (
    KernelReport,
    OutputNote,
    WireError,
    dtype_name,
    from_wire,
    read_report,
)

# (atol, rtol) per output dtype: fp32 is held to 1e-4 so that computing in fp16 (~5e-4
# relative error) fails; half types get 1e-2.
# Read-only (a task's TOLERANCE overrides it per task, nothing else can loosen it).
TOLERANCES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "float32": (1e-4, 1e-4),
        "float64": (1e-6, 1e-6),
        "float16": (1e-2, 1e-2),
        "bfloat16": (1e-2, 1e-2),
    }
)
PLAIN_TENSOR = "torch.Tensor"


def tolerance_for(
    dtype: torch.dtype, overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float, float]:
    name = dtype_name(dtype)
    if overrides and name in overrides:
        atol, rtol = overrides[name]
        return float(atol), float(rtol)
    return TOLERANCES.get(name, (0.0, 0.0))  # integer / bool outputs must match exactly


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def read_reply(reply: Any, where: str) -> tuple[list[Any], KernelReport]:
    """(outputs in wire form, report) of a forward reply; InvalidOutput if it is malformed."""
    if type(reply) is not dict or type(reply.get("outputs")) is not list or "report" not in reply:
        raise InvalidOutput(f"{where}: malformed reply from the kernel adapter (expected outputs and report)")
    try:
        report = read_report(reply["report"])
    except WireError as e:
        raise InvalidOutput(f"{where}: {e}") from None
    if len(report.outputs) != len(reply["outputs"]):
        raise InvalidOutput(
            f"{where}: the report describes {len(report.outputs)} outputs, the reply holds "
            f"{len(reply['outputs'])}"
        )
    return reply["outputs"], report


def check_values(
    wires: list[Any],
    expected: list[torch.Tensor],
    tolerances: dict[str, tuple[float, float]] | None,
    where: str,
    notes: list[OutputNote] | None = None,
) -> list[torch.Tensor]:
    """Trusted checks of the returned outputs against the reference's (CPU tensors); the outputs as
    CPU tensors."""
    if len(wires) != len(expected):
        raise InvalidOutput(
            f"{where}: forward() returned {len(wires)} outputs, the reference {len(expected)}"
        )
    outs: list[torch.Tensor] = []
    for i, (wire, e) in enumerate(zip(wires, expected, strict=True)):
        # Only a plain tensor's values cross: a subclass or a lazy object could defer or fake them.
        type_name = notes[i].type if notes is not None else "not a tensor"
        if wire is None or (notes is not None and type_name != PLAIN_TENSOR):
            raise InvalidOutput(f"{where}: output {i} is {type_name}, not a plain torch.Tensor")
        try:
            o = from_wire(wire)
        except WireError as err:
            raise InvalidOutput(f"{where}: output {i}: {err}") from None
        if o.shape != e.shape:
            raise InvalidOutput(f"{where}: output {i} has shape {tuple(o.shape)}, expected {tuple(e.shape)}")
        if o.dtype != e.dtype:
            raise InvalidOutput(f"{where}: output {i} has dtype {o.dtype}, expected {e.dtype}")
        atol, rtol = tolerance_for(e.dtype, tolerances)
        if not torch.allclose(o, e, atol=atol, rtol=rtol, equal_nan=True):
            diff = (o.double() - e.double()).abs()
            finite = torch.isfinite(diff)
            worst = float(diff[finite].max()) if bool(finite.any()) else float("nan")
            bad = int((~finite).sum()) if not bool(finite.all()) else 0
            raise WrongAnswer(
                f"{where}: output {i} differs from the reference (max abs err {worst:.3g}, "
                f"{bad} non-finite mismatches; atol={atol:g} rtol={rtol:g})"
            )
        outs.append(o)
    return outs


def check_rules(report: KernelReport, where: str, *, device: str, launches_needed: int = 1) -> None:
    """Advisory checks: the task's rules, as the candidate side's instruments saw them."""
    if report.new_threads:
        raise SandboxViolation(
            f"background thread: {where} left {len(report.new_threads)} new thread(s) running "
            f"({', '.join(report.new_threads[:5])})"
        )
    if report.tampering:
        shown = ", ".join(report.tampering[:6])
        more = f" and {len(report.tampering) - 6} more" if len(report.tampering) > 6 else ""
        raise SandboxViolation(f"tampering: by {where} the program had replaced {shown}{more}")
    if report.fallback_ops:
        raise InvalidOutput(
            f"{where}: PyTorch fallback: forward() called {', '.join(report.fallback_ops[:5])} "
            "(a kernel task allows only allocation/view ops outside Triton kernels)"
        )
    if report.launches < launches_needed:
        what = "no Triton kernel launched" if report.launches == 0 else "calls without a Triton launch"
        raise InvalidOutput(f"{where}: {what} (PyTorch fallback is not a kernel)")
    if report.foreign_streams:
        raise InvalidOutput(f"{where}: a Triton kernel was launched on a side stream")
    if report.mutated_inputs:
        raise InvalidOutput(
            f"input mutated: {where}: forward() changed input {report.mutated_inputs[0]} in place "
            "(inputs are read-only)"
        )
    for i, note in enumerate(report.outputs):
        if note.device.split(":")[0] != device:
            raise InvalidOutput(f"{where}: output {i} is on {note.device}, expected {device}")
        if not note.dense:
            raise InvalidOutput(f"{where}: output {i} is not a contiguous strided tensor")
        if note.aliases_input is not None:
            raise InvalidOutput(
                f"{where}: output {i} aliases input {note.aliases_input} (outputs must be fresh memory)"
            )


def judge(
    reply: Any,
    expected: list[torch.Tensor],
    tolerances: dict[str, tuple[float, float]] | None,
    where: str,
    *,
    device: str,
    require_triton: bool = True,
) -> list[torch.Tensor]:
    """The verdict on one forward reply (trusted checks first, then the advisory ones); raises
    CandidateRejected, else returns the outputs as CPU tensors."""
    wires, report = read_reply(reply, where)
    outs = check_values(wires, expected, tolerances, where, report.outputs)
    check_rules(report, where, device=device, launches_needed=1 if require_triton else 0)
    return outs


def same_bytes(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    """Bit-for-bit equality of two output lists (NaN-safe)."""
    from syslab.evaluators.kernel_probes import byte_view

    return len(a) == len(b) and all(
        torch.equal(byte_view(x), byte_view(y)) for x, y in zip(a, b, strict=True)
    )
