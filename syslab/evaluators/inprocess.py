"""A candidate handle for shared mode: the same evaluator API, the program in this very process.

A split-style evaluator (`evaluate(candidate)`) run with `mode = "shared"` gets
an `InProcessCandidate`: calls go straight to the program's functions (or the
task adapter's), objects are passed by reference, nothing is copied or
checked. It exists so that one evaluator can run both ways, to measure what
isolation costs (benchmarks/perf/split_overhead.py) or to debug; its scores
are unverified like every shared-mode score.
"""

from __future__ import annotations

import itertools
import sys
import time
import types
from pathlib import Path
from typing import Any

from syslab.evaluators.failures import InvalidOutput

_names = itertools.count()


def _exec(path: Path, source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


class InProcessCandidate:
    """The `Candidate` interface over a module loaded into this process (see the module docstring)."""

    def __init__(self, program_path: str | Path, adapter_path: str | Path | None = None):
        self._path = Path(program_path)
        self._adapter_path = Path(adapter_path) if adapter_path else None
        self.source = self._path.read_text(encoding="utf-8")
        self.calls = 0
        self.elapsed_s = 0.0
        self.timeout_s: float | None = None
        self.reload()

    def reload(self) -> None:
        n = next(_names)
        self._adapter = None
        if self._adapter_path is not None:
            src = self._adapter_path.read_text(encoding="utf-8")
            self._adapter = _exec(self._adapter_path, src, f"syslab_adapter_{n}")
        self._program = _exec(self._path, self.source, f"syslab_program_{n}")

    def _resolve(self, name: str) -> Any:
        fn = getattr(self._adapter, name, None)
        if callable(fn):
            program = self._program
            return lambda *args, **kwargs: fn(program, *args, **kwargs)
        fn = getattr(self._program, name, None)
        if not callable(fn):
            raise InvalidOutput(f"the program defines no function {name!r}")
        return fn

    def function(self, name: str) -> Any:
        fn = self._resolve(name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.elapsed_s += time.perf_counter() - start
                self.calls += 1

        return timed

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.function(name)(*args, **kwargs)

    def new(self, name: str, *args: Any, **kwargs: Any) -> LocalObject:
        return LocalObject(self.function(name)(*args, **kwargs))

    def has(self, name: str) -> bool:
        return callable(getattr(self._adapter, name, None)) or callable(getattr(self._program, name, None))

    def get(self, name: str) -> Any:
        if not hasattr(self._program, name):
            raise InvalidOutput(f"the program defines no {name!r}")
        return getattr(self._program, name)

    def close(self) -> None:
        pass


class LocalObject:
    """The `RemoteObject` interface over an object of this process: methods by attribute, `method`,
    and a `drop` that does nothing."""

    def __init__(self, obj: Any):
        self._obj = obj

    def method(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._obj, name)

    def drop(self) -> None:
        self._obj = None
