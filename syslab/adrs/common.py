"""Shared pieces of the ADRS evaluators: scoring, dependency checks, and loading a candidate in shared mode.

The split-mode evaluators (txn_scheduling, prism, cloudcast, llm_sql, eplb) never load a candidate:
their adapters do that in the candidate's process (adapter_support.py). `load_candidate` remains for
evaluators that still import the program themselves (shared mode, unverified scores).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from syslab.adrs.adapter_support import LIB_DIR, exec_program, materialize, seed_everything, use_lib
from syslab.errors import SyslabError
from syslab.evaluators import InvalidOutput

__all__ = [
    "LIB_DIR",
    "MissingDependency",
    "linear_score",
    "load_candidate",
    "materialize",
    "require",
    "seed_everything",
    "use_lib",
]
EXTRA_HINT = "pip install -e '.[adrs]'"  # the extra that installs what the ADRS tasks import


class MissingDependency(SyslabError):
    """A library an ADRS task needs is not installed; the message names the extra to install."""


def require(module: str, task: str) -> None:
    """MissingDependency, one line ("<task> needs <module>: pip install ..."), unless `module` is
    installed. Found, not imported: the trusted evaluator need not pay for (or hold) what only the
    candidate's side uses."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken parent
        found = False
    if not found:
        raise MissingDependency(f"{task} needs {module}: {EXTRA_HINT}")


def load_candidate(program_path: str | Path, entry: str, spec_path: str | None = None) -> ModuleType:
    """Load a candidate that defines `entry`, or a leaderboard solution whose Solution.solve() yields one."""
    use_lib()
    path = Path(program_path).resolve()
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    module = exec_program(path)
    if not hasattr(module, entry) and hasattr(module, "Solution"):
        result = module.Solution().solve(spec_path)
        module = exec_program(materialize(result, Path.cwd()))
    if not hasattr(module, entry):
        raise InvalidOutput(f"program defines no {entry!r}")
    return module


def linear_score(value: float, zero_at: float, hundred_at: float) -> float:
    """0 at `zero_at`, 100 at `hundred_at`, linear between, clamped to [0, 100]."""
    if hundred_at == zero_at:
        return 0.0
    frac = (value - zero_at) / (hundred_at - zero_at)
    return max(0.0, min(100.0, 100.0 * frac))
