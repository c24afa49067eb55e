"""What crosses between the kernel evaluator and the candidate's process: tensors as plain data, and
the candidate-side check report.

The candidate channel carries numpy arrays, never torch tensors. A tensor of a dtype numpy has
travels as a contiguous numpy array; bfloat16 (numpy has none) travels as `("bfloat16", bits)`
with the raw bits in a uint16 array. Both sides use these helpers, but each side runs its own
copy: what the candidate does to its copy changes only what it sends.

`KernelReport` is the contract of the candidate side's advisory checks (kernel_probes.py). It is
validated strictly on the trusted side: a malformed report is the candidate's fault.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

BF16 = "bfloat16"
# torch dtypes that numpy represents exactly (the tensor's bytes are the array's bytes).
NUMPY_DTYPES = {
    torch.float16: np.float16,
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.int8: np.int8,
    torch.int16: np.int16,
    torch.int32: np.int32,
    torch.int64: np.int64,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
}


class WireError(ValueError):
    """A value that is not a tensor in wire form (the message says what it was)."""


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def to_wire(t: torch.Tensor) -> Any:
    """A private copy of the tensor's values as plain data (a contiguous numpy array, or bf16 bits)."""
    host = t.detach().to("cpu").contiguous()
    if host.dtype == torch.bfloat16:
        return (BF16, host.view(torch.int16).numpy().view(np.uint16).copy())
    if host.dtype not in NUMPY_DTYPES:
        raise WireError(f"a tensor of dtype {dtype_name(host.dtype)} cannot be sent")
    return host.numpy().copy()  # a copy: the tensor may be overwritten before the reply is encoded


def is_wire(value: Any) -> bool:
    """Is this a tensor in wire form (as opposed to a plain number passed as an input)?"""
    return type(value) is np.ndarray or (type(value) is tuple and len(value) == 2 and value[0] == BF16)


def from_wire(value: Any) -> torch.Tensor:
    """A CPU tensor that owns the values of a wire-form tensor; WireError for anything else."""
    if type(value) is np.ndarray:
        if value.dtype.type not in NUMPY_DTYPES.values():
            raise WireError(f"an array of dtype {value.dtype} is not a kernel tensor")
        return torch.from_numpy(np.ascontiguousarray(value))
    if type(value) is tuple and len(value) == 2 and value[0] == BF16:
        bits = value[1]
        if type(bits) is not np.ndarray or bits.dtype != np.uint16:
            raise WireError("bfloat16 values must come as a uint16 array of their bits")
        return torch.from_numpy(np.ascontiguousarray(bits).view(np.int16)).view(torch.bfloat16)
    raise WireError(f"expected a tensor as a numpy array, got {type(value).__name__}")


def inputs_to_wire(values: list[Any]) -> list[Any]:
    """Reference inputs as plain data: tensors converted, plain numbers passed as they are."""
    return [to_wire(v) if isinstance(v, torch.Tensor) else v for v in values]


class OutputNote(BaseModel):
    """What the candidate side saw of one output before converting it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    type: str = Field(max_length=200)  # qualified type name; only "Tensor" crosses as values
    device: str = Field("", max_length=64)
    dense: bool = True  # a contiguous strided tensor
    aliases_input: int | None = None  # index of an input whose memory it shares


class KernelReport(BaseModel):
    """The candidate side's advisory checks of one forward (or one timed loop)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    launches: int = Field(ge=0)  # Triton kernel launches counted during the call(s)
    foreign_streams: int = Field(0, ge=0)  # launches on a stream other than the evaluator's
    fallback_ops: list[str] = Field(default_factory=list, max_length=1000)  # aten compute ops called
    mutated_inputs: list[int] = Field(default_factory=list, max_length=1000)
    new_threads: list[str] = Field(default_factory=list, max_length=1000)
    tampering: list[str] = Field(default_factory=list, max_length=1000)  # replaced names and hooks
    outputs: list[OutputNote] = Field(default_factory=list, max_length=1000)


def read_report(value: Any) -> KernelReport:
    """Validate a report that came from the candidate; WireError names the bad field."""
    try:
        return KernelReport.model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(report)"
        raise WireError(f"malformed check report: {where}: {first['msg']}") from None
