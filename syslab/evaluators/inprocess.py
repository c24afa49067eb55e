"""A candidate handle for shared mode: the same evaluator API, the program in this very process.

A split-style evaluator (`evaluate(candidate)`) run with `mode = "shared"` gets
an `InProcessCandidate`: calls go straight to the program's functions (or the
task adapter's), objects are passed by reference, nothing is copied or
checked. It exists so that one evaluator can run both ways, to measure what
isolation costs (benchmarks/perf/split_overhead.py) or to debug; its scores
are unverified like every shared-mode score.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from syslab.evaluators.candidate_runtime import Runtime
from syslab.evaluators.failures import InvalidOutput


class InProcessCandidate:
    """The `Candidate` interface over a module loaded into this process (see the module docstring).

    Loading and name resolution are the candidate runtime's own (`Runtime`), so both modes see the
    program and the adapter the same way."""

    def __init__(self, program_path: str | Path, adapter_path: str | Path | None = None):
        self.source = Path(program_path).read_text(encoding="utf-8")
        adapter = Path(adapter_path).read_text(encoding="utf-8") if adapter_path else None
        self._runtime = Runtime(self.source, adapter)
        self.calls = 0
        self.elapsed_s = 0.0
        self.timeout_s: float | None = None
        self.stage_timeout_s: float | None = None  # shared mode is not told its stage's limit
        self.gone = False  # the program runs in this process: it cannot end apart from it
        self.reload()

    def reload(self) -> None:
        self._runtime.load()

    def _resolve(self, name: str) -> Any:
        try:
            return self._runtime._resolve(name)
        except LookupError:
            raise InvalidOutput(f"the program defines no function {name!r}") from None

    def function(self, name: str) -> Any:
        fn = self._resolve(name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.elapsed_s += time.perf_counter() - start
                self.calls += 1

        return Batchable(timed)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.function(name)(*args, **kwargs)

    def new(self, name: str, *args: Any, **kwargs: Any) -> LocalObject:
        return LocalObject(self.function(name)(*args, **kwargs))

    def has(self, name: str) -> bool:
        try:
            self._runtime._resolve(name)
            return True
        except LookupError:
            return False

    def get(self, name: str) -> Any:
        if not hasattr(self._runtime.program, name):
            raise InvalidOutput(f"the program defines no {name!r}")
        return getattr(self._runtime.program, name)

    def restart(self) -> None:
        """Shared mode has only this process: the program is run again (unverified runs anyway)."""
        self.reload()

    def close(self) -> None:
        pass


class Batchable:
    """A local callable with the remote one's `map` (RemoteFunction.map): one call per args tuple."""

    def __init__(self, fn: Any):
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def map(self, calls: Any) -> list:
        return [self._fn(*args) for args in calls]


class LocalObject:
    """The `RemoteObject` interface over an object of this process: methods by attribute, `method`,
    and a `drop` that does nothing."""

    def __init__(self, obj: Any):
        self._obj = obj

    def method(self, name: str) -> Any:
        return Batchable(getattr(self._obj, name))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return Batchable(getattr(self._obj, name))

    def drop(self) -> None:
        self._obj = None
