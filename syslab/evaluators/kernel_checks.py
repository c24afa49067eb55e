"""Checks the kernel evaluator applies to a candidate: outputs, inputs, ops, launches, threads, tampering.

Every check here assumes the candidate is hostile. The functions take the
scorer's own references (captured before the candidate loaded, see
`ScorerRefs`) as arguments instead of reading them from module globals, so a
candidate that patches `torch.allclose` or this module's attributes changes
nothing the scorer uses — and `Integrity` notices that it tried.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from syslab.evaluators.base import InvalidOutput, SandboxViolation, WrongAnswer

# (atol, rtol) per output dtype: fp32 is held to 1e-4 so that computing in fp16 (~5e-4
# relative error) fails; half types get 1e-2.
# Read-only (a candidate cannot loosen them in place).
TOLERANCES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "float32": (1e-4, 1e-4),
        "float64": (1e-6, 1e-6),
        "float16": (1e-2, 1e-2),
        "bfloat16": (1e-2, 1e-2),
    }
)

# aten ops a "kernel" candidate may call in its forward: allocation, views, copies and
# metadata. Anything else (sigmoid, matmul, sum, ...) is a PyTorch fallback.
ALLOWED_OPS = frozenset(
    """empty empty_like empty_strided new_empty new_empty_strided zeros zeros_like new_zeros
    fill_ zero_ view _unsafe_view reshape alias as_strided expand t transpose permute unsqueeze
    squeeze flatten unflatten select slice split narrow contiguous clone copy_ detach lift_fresh
    _to_copy to is_contiguous size stride sym_size sym_stride sym_numel numel dim
    _reshape_alias""".split()
)


@dataclass(frozen=True)
class ScorerRefs:
    """The functions the scorer relies on, bound before candidate code is imported."""

    perf_counter_ns: Any
    monotonic_ns: Any
    urandom: Any
    allclose: Any
    equal: Any
    isfinite: Any
    cuda_event: Any
    cuda_synchronize: Any
    current_stream: Any

    @classmethod
    def capture(cls) -> ScorerRefs:
        cuda = torch.cuda
        return cls(
            perf_counter_ns=time.perf_counter_ns,
            monotonic_ns=time.monotonic_ns,
            urandom=os.urandom,
            allclose=torch.allclose,
            equal=torch.equal,
            isfinite=torch.isfinite,
            cuda_event=cuda.Event,
            cuda_synchronize=cuda.synchronize,
            current_stream=cuda.current_stream,
        )


def tolerance_for(
    dtype: torch.dtype, overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float, float]:
    name = str(dtype).removeprefix("torch.")
    if overrides and name in overrides:
        atol, rtol = overrides[name]
        return float(atol), float(rtol)
    return TOLERANCES.get(name, (0.0, 0.0))  # integer / bool outputs must match exactly


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def byte_view(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bytes as a flat uint8 tensor (NaN-safe exact comparison)."""
    flat = t.detach().contiguous().reshape(-1)
    return flat.view(torch.uint8) if flat.numel() else flat.to(torch.uint8)


def snapshot(tensors: list[Any]) -> list[torch.Tensor | None]:
    return [byte_view(t).clone() if isinstance(t, torch.Tensor) else None for t in tensors]


def check_unchanged(tensors: list[Any], before: list[torch.Tensor | None], refs: ScorerRefs) -> None:
    for i, (t, snap) in enumerate(zip(tensors, before, strict=False)):
        if snap is not None and not refs.equal(byte_view(t), snap):
            raise InvalidOutput(f"input mutated: forward() changed input {i} in place (inputs are read-only)")


def storage_span(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    start = storage.data_ptr()
    return start, start + storage.nbytes()


def overlaps(a: torch.Tensor, b: torch.Tensor) -> bool:
    (a0, a1), (b0, b1) = storage_span(a), storage_span(b)
    return a0 < b1 and b0 < a1 and a1 > a0 and b1 > b0


def check_output(
    out: Any,
    expected: list[torch.Tensor],
    inputs: list[Any],
    refs: ScorerRefs,
    tolerances: dict[str, tuple[float, float]] | None,
    where: str,
) -> list[torch.Tensor]:
    """Validate the candidate's output against the reference's; return it as a list of tensors."""
    outs = as_list(out)
    if len(outs) != len(expected):
        raise InvalidOutput(f"{where}: forward() returned {len(outs)} outputs, the reference {len(expected)}")
    for i, (o, e) in enumerate(zip(outs, expected, strict=False)):
        # Exact type: a subclass can defer or fake its values (lazy tensors, __torch_function__).
        if type(o) is not torch.Tensor:
            raise InvalidOutput(f"{where}: output {i} is {type(o).__qualname__}, not a plain torch.Tensor")
        if o.shape != e.shape:
            raise InvalidOutput(f"{where}: output {i} has shape {tuple(o.shape)}, expected {tuple(e.shape)}")
        if o.dtype != e.dtype:
            raise InvalidOutput(f"{where}: output {i} has dtype {o.dtype}, expected {e.dtype}")
        if o.device != e.device:
            raise InvalidOutput(f"{where}: output {i} is on {o.device}, expected {e.device}")
        if o.layout != torch.strided or not o.is_contiguous():
            raise InvalidOutput(f"{where}: output {i} is not a contiguous strided tensor")
        if overlaps(o, e):
            raise InvalidOutput(f"{where}: output {i} reuses the reference output's memory")
        for j, t in enumerate(inputs):
            if isinstance(t, torch.Tensor) and overlaps(o, t):
                raise InvalidOutput(f"{where}: output {i} aliases input {j} (outputs must be fresh memory)")
        atol, rtol = tolerance_for(e.dtype, tolerances)
        if not refs.allclose(o, e, atol=atol, rtol=rtol, equal_nan=True):
            diff = (o.double() - e.double()).abs()
            finite = refs.isfinite(diff)
            worst = float(diff[finite].max()) if bool(finite.any()) else float("nan")
            bad = int((~finite).sum()) if not bool(finite.all()) else 0
            raise WrongAnswer(
                f"{where}: output {i} differs from the reference (max abs err {worst:.3g}, "
                f"{bad} non-finite mismatches; atol={atol:g} rtol={rtol:g})"
            )
    return outs


def poison(t: torch.Tensor) -> None:
    """Overwrite memory about to be freed so an uninitialised allocation cannot inherit the answer."""
    with torch.no_grad():
        if t.is_floating_point():
            t.fill_(float("nan"))
        elif t.dtype == torch.bool:
            t.logical_not_()
        else:
            t.fill_(-7)


class OpCounter(TorchDispatchMode):
    """Records every aten op the candidate calls that is not allocation/view/metadata."""

    def __init__(self, launches: LaunchCounter) -> None:
        super().__init__()
        self.forbidden: list[str] = []
        self._launches = launches

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: A002
        # The Triton interpreter copies arguments with aten ops inside a launch; those are ours.
        if self._launches.depth == 0:
            name = func.overloadpacket.__name__
            if name not in ALLOWED_OPS:
                self.forbidden.append(f"aten.{name}")
        return func(*args, **(kwargs or {}))


class LaunchCounter:
    """Counts Triton kernel launches by wrapping the launch entry points (installed before import)."""

    def __init__(self, interpreter: bool, refs: ScorerRefs) -> None:
        self.count = 0
        self.depth = 0
        self.foreign_streams = 0
        self._interpreter = interpreter
        self._refs = refs
        self._installed: list[tuple[type, Any]] = []
        self.scorer_stream: Any = None  # set by the scorer on GPU: launches elsewhere are side streams

    def install(self) -> None:
        from triton.runtime.jit import JITFunction

        classes: list[type] = [JITFunction]
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append(InterpretedFunction)
        except ImportError:  # pragma: no cover - triton builds without the interpreter
            pass
        for cls in classes:
            original = cls.run
            self._installed.append((cls, original))
            cls.run = self._wrap(original)

    def uninstall(self) -> None:
        for cls, original in self._installed:
            cls.run = original
        self._installed.clear()

    def _wrap(self, original: Any) -> Any:
        counter = self

        def run(fn_self, *args, grid, warmup, **kwargs):
            if not warmup:
                counter.count += 1
                if not counter._interpreter and counter._refs.current_stream() != counter.scorer_stream:
                    counter.foreign_streams += 1
            counter.depth += 1
            try:
                return original(fn_self, *args, grid=grid, warmup=warmup, **kwargs)
            finally:
                counter.depth -= 1

        return run


# Threads the CUDA driver and torch start on their own (named by the OS): never the candidate's.
RUNTIME_THREAD_PREFIXES = ("cuda", "pt_")


def _thread_name(tid: str) -> str:
    try:
        with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "?"


def os_threads() -> frozenset[str]:
    """Ids of this process's threads as the OS sees them (catches _thread.start_new_thread too)."""
    try:
        return frozenset(os.listdir("/proc/self/task"))
    except OSError:  # not Linux: Python-level threads only
        return frozenset(str(t.ident) for t in threading.enumerate())


def check_threads(baseline: frozenset[str], where: str) -> None:
    new = [t for t in os_threads() - baseline if not _thread_name(t).startswith(RUNTIME_THREAD_PREFIXES)]
    if new:
        names = sorted(t.name for t in threading.enumerate())
        raise SandboxViolation(
            f"background thread: {where} left {len(new)} new thread(s) running (Python threads: {', '.join(names)})"
        )


def _fingerprint(value: Any) -> tuple[int, ...]:
    if isinstance(value, (types.FunctionType, types.MethodType)):
        fn = value.__func__ if isinstance(value, types.MethodType) else value
        return (id(value), id(fn.__code__), id(fn.__defaults__), id(fn.__kwdefaults__))
    return (id(value),)


class Integrity:
    """Snapshots namespaces the scorer and the reference depend on; reports what was replaced.

    `strict` namespaces (the scorer's modules, the reference module and class) must not change
    at all; in the others (torch, time, builtins, ...) only callables and classes are compared,
    since torch legitimately updates flags and adds lazily imported submodules.
    """

    def __init__(self, strict: dict[str, Any], loose: dict[str, Any]) -> None:
        self._strict = {name: self._take(ns, loose=False) for name, ns in strict.items()}
        self._loose = {name: self._take(ns, loose=True) for name, ns in loose.items()}
        self._spaces = {**strict, **loose}
        self._trace = (sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile())
        self._modes = _mode_depths()
        self._numerics = _numerics()

    @staticmethod
    def _take(ns: Any, loose: bool) -> dict[str, tuple[int, ...]]:
        d = ns if isinstance(ns, dict) else vars(ns)
        return {
            k: _fingerprint(v) for k, v in list(d.items()) if not loose or callable(v) or isinstance(v, type)
        }

    def changes(self) -> list[str]:
        found: list[str] = []
        for group, loose in ((self._strict, False), (self._loose, True)):
            for name, before in group.items():
                after = self._take(self._spaces[name], loose)
                for k, fp in before.items():
                    if after.get(k) != fp:
                        found.append(f"{name}.{k}")
                if not loose:
                    found += [f"{name}.{k} (added)" for k in after.keys() - before.keys()]
        trace = (sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile())
        if trace != self._trace:
            found.append("sys/threading trace or profile hook")
        if _mode_depths() != self._modes:
            found.append("a global TorchFunctionMode/TorchDispatchMode")
        if _numerics() != self._numerics:
            found.append("torch numerics settings (tf32 / matmul precision / deterministic algorithms)")
        return found

    def check(self, where: str) -> None:
        changed = self.changes()
        if changed:
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            raise SandboxViolation(f"scorer tampering: {where} replaced {shown}")


def _mode_depths() -> tuple[int, int]:
    return torch._C._len_torch_function_stack(), torch._C._len_torch_dispatch_stack()


def _numerics() -> tuple[Any, ...]:
    return (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.get_float32_matmul_precision(),
        torch.are_deterministic_algorithms_enabled(),
        torch.get_default_dtype(),
    )
