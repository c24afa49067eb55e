"""Instruments the kernel adapter runs in the candidate's process: op and launch counters, input
snapshots, thread and tampering detection.

These run next to the candidate's code, so a hostile candidate can defeat every one of them; their
findings are advisory (see kernel_candidate.py). They still catch the ordinary cheats (a PyTorch
fallback, a token Triton launch, in-place inputs, a side stream, a background thread, patched
clocks), which is what keeps honest-looking shortcuts out of the search.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# aten ops a "kernel" candidate may call in its forward: allocation, views, copies and
# metadata. Anything else (sigmoid, matmul, sum, ...) is a PyTorch fallback.
ALLOWED_OPS = frozenset(
    """empty empty_like empty_strided new_empty new_empty_strided zeros zeros_like new_zeros
    fill_ zero_ view _unsafe_view reshape alias as_strided expand t transpose permute unsqueeze
    squeeze flatten unflatten select slice split narrow contiguous clone copy_ detach lift_fresh
    _to_copy to is_contiguous size stride sym_size sym_stride sym_numel numel dim
    _reshape_alias""".split()
)
# Threads the CUDA driver and torch start on their own (named by the OS): never the candidate's.
RUNTIME_THREAD_PREFIXES = ("cuda", "pt_")


@dataclass(frozen=True)
class BoundRefs:
    """Clocks and CUDA entry points bound before the candidate's program is loaded."""

    perf_counter_ns: Any
    monotonic_ns: Any
    equal: Any
    cuda_event: Any
    cuda_synchronize: Any
    current_stream: Any

    @classmethod
    def capture(cls) -> BoundRefs:
        cuda = torch.cuda
        return cls(
            perf_counter_ns=time.perf_counter_ns,
            monotonic_ns=time.monotonic_ns,
            equal=torch.equal,
            cuda_event=cuda.Event,
            cuda_synchronize=cuda.synchronize,
            current_stream=cuda.current_stream,
        )


def byte_view(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bytes as a flat uint8 tensor (NaN-safe exact comparison)."""
    flat = t.detach().contiguous().reshape(-1)
    return flat.view(torch.uint8) if flat.numel() else flat.to(torch.uint8)


def snapshot(values: list[Any]) -> list[torch.Tensor | None]:
    return [byte_view(t).clone() if isinstance(t, torch.Tensor) else None for t in values]


def mutated(values: list[Any], before: list[torch.Tensor | None], refs: BoundRefs) -> list[int]:
    """Indices of the inputs whose bytes changed since `snapshot`."""
    return [
        i
        for i, (t, snap) in enumerate(zip(values, before, strict=False))
        if snap is not None and not refs.equal(byte_view(t), snap)
    ]


def storage_span(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    start = storage.data_ptr()
    return start, start + storage.nbytes()


def overlaps(a: torch.Tensor, b: torch.Tensor) -> bool:
    (a0, a1), (b0, b1) = storage_span(a), storage_span(b)
    return a0 < b1 and b0 < a1 and a1 > a0 and b1 > b0


def poison(t: torch.Tensor) -> None:
    """Overwrite memory about to be freed so an uninitialised allocation cannot inherit an answer."""
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

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ in dynamo.disable unless this says no, and that
        # imports torch._dynamo (seconds, in every candidate process); nothing here is compiled.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: A002
        # The Triton interpreter copies arguments with aten ops inside a launch; those are ours.
        if self._launches.depth == 0:
            name = func.overloadpacket.__name__
            if name not in ALLOWED_OPS:
                self.forbidden.append(f"aten.{name}")
        return func(*args, **(kwargs or {}))


class LaunchCounter:
    """Counts Triton kernel launches by wrapping the launch entry points (installed before the
    program loads, at class level, so kernels the program defines later are counted too)."""

    def __init__(self, interpreter: bool, refs: BoundRefs) -> None:
        self.count = 0
        self.depth = 0
        self.foreign_streams = 0
        self._interpreter = interpreter
        self._refs = refs
        self._installed: list[tuple[type, Any]] = []
        self.main_stream: Any = None  # on a GPU: launches on any other stream are side streams

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
                if not counter._interpreter and counter._refs.current_stream() != counter.main_stream:
                    counter.foreign_streams += 1
            counter.depth += 1
            try:
                return original(fn_self, *args, grid=grid, warmup=warmup, **kwargs)
            finally:
                counter.depth -= 1

        return run


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


def new_threads(baseline: frozenset[str]) -> list[str]:
    """Names of threads started since `baseline` that the CUDA/torch runtime did not start."""
    return sorted(
        name
        for name in (_thread_name(t) for t in os_threads() - baseline)
        if not name.startswith(RUNTIME_THREAD_PREFIXES)
    )


def _fingerprint(value: Any) -> tuple[int, ...]:
    if isinstance(value, (types.FunctionType, types.MethodType)):
        fn = value.__func__ if isinstance(value, types.MethodType) else value
        return (id(value), id(fn.__code__), id(fn.__defaults__), id(fn.__kwdefaults__))
    return (id(value),)


class Integrity:
    """Snapshots namespaces the adapter's instruments depend on; reports what was replaced.

    `strict` namespaces (the adapter's own modules) must not change at all; in the others
    (torch, time, builtins, ...) only callables and classes are compared, since torch
    legitimately updates flags and adds lazily imported submodules.
    """

    def __init__(
        self, strict: dict[str, Any], loose: dict[str, Any], ignore: frozenset[str] = frozenset()
    ) -> None:
        self._ignore = ignore  # "namespace.name" entries that may change
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
                    if after.get(k) != fp and f"{name}.{k}" not in self._ignore:
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
