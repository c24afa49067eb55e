"""Shared pieces of the ADRS evaluators: loading a candidate, seeding, scoring."""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from syslab.evaluators import InvalidOutput
from syslab.evaluators.loading import load_module

LIB_DIR = Path(__file__).resolve().parent / "lib"
_counter = itertools.count()


def _exec_module(path: Path) -> ModuleType:
    # A fresh name per load: evaluators run in-process in tests, candidates must not share state.
    return load_module(path, f"_syslab_candidate_{next(_counter)}")


def use_lib() -> None:
    """Make the leaderboard-facing modules (txn_simulator, broadcast, sky_spot ...) importable."""
    if str(LIB_DIR) not in sys.path:
        sys.path.insert(0, str(LIB_DIR))


def materialize(result: Any, scratch: Path) -> Path:
    """Turn what a leaderboard `Solution.solve()` returned into a program file."""
    if isinstance(result, dict) and "program_path" in result:
        path = Path(result["program_path"]).expanduser()
        if not path.is_file():
            raise InvalidOutput(f"Solution.solve() returned program_path {path} which does not exist")
        return path
    code = result.get("code") if isinstance(result, dict) else result
    if not isinstance(code, str):
        raise InvalidOutput("Solution.solve() must return {'code': str}, {'program_path': str} or a str")
    out = scratch / f"solution_program_{next(_counter)}.py"
    out.write_text(code, encoding="utf-8")
    return out


def load_candidate(program_path: str | Path, entry: str, spec_path: str | None = None) -> ModuleType:
    """Load a candidate that defines `entry`, or a leaderboard solution whose Solution.solve() yields one."""
    use_lib()
    path = Path(program_path).resolve()
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    module = _exec_module(path)
    if not hasattr(module, entry) and hasattr(module, "Solution"):
        result = module.Solution().solve(spec_path)
        module = _exec_module(materialize(result, Path.cwd()))
    if not hasattr(module, entry):
        raise InvalidOutput(f"program defines no {entry!r}")
    return module


def seed_everything(seed: int = 0) -> None:
    """Candidates often use the global RNGs; seeding them makes an evaluation repeatable."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # numpy is a syslab dependency, but stay importable without it
        pass


def linear_score(value: float, zero_at: float, hundred_at: float) -> float:
    """0 at `zero_at`, 100 at `hundred_at`, linear between, clamped to [0, 100]."""
    if hundred_at == zero_at:
        return 0.0
    frac = (value - zero_at) / (hundred_at - zero_at)
    return max(0.0, min(100.0, 100.0 * frac))
