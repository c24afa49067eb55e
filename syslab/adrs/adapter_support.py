"""Candidate-side helpers for the ADRS task adapters (they run in the candidate's sandboxed process).

Each ADRS task's `adapter.py` imports this module. It makes the
leaderboard-facing modules (`txn_simulator`, `broadcast`, ...) importable,
seeds the global RNGs the way the evaluators always have, and finds the
function a program was written to provide: the program's own, or, for a
leaderboard `solution.py`, the program its `Solution().solve()` yields
(code or a program path), loaded here, in the candidate's process.

Nothing here is trusted: the candidate can change any of it, and it only
changes what the candidate itself computes. Only the standard library at
import time (numpy is seeded if it is importable).
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from syslab.evaluators.failures import InvalidOutput
from syslab.evaluators.loading import load_module

LIB_DIR = Path(__file__).resolve().parent / "lib"
_counter = itertools.count()
# id(program module) -> (program module, the module that defines the entry). The program is kept so
# that its id cannot be reused by a reloaded module while the entry is cached.
_entries: dict[int, tuple[ModuleType, ModuleType]] = {}


def use_lib() -> None:
    """Make the leaderboard-facing modules (txn_simulator, broadcast, sky_spot ...) importable."""
    if str(LIB_DIR) not in sys.path:
        sys.path.insert(0, str(LIB_DIR))


def prepare() -> None:
    """What an adapter does before the program loads: the lib, and the program's own directory
    (the scratch dir, where a solution may write modules it imports) on sys.path."""
    use_lib()
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.append(here)


def seed_everything(seed: int = 0) -> None:
    """Candidates often use the global RNGs; seeding them makes an evaluation repeatable."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # numpy is a syslab dependency, but stay importable without it
        pass


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


def exec_program(path: Path) -> ModuleType:
    # A fresh module name per load: two loads never share module state.
    return load_module(path, f"_syslab_candidate_{next(_counter)}")


def resolve(program: ModuleType, provides: Callable[[ModuleType], bool], what: str) -> ModuleType:
    """The module that provides `what`: the program, or the program its leaderboard Solution yields.

    A program that does not provide it but has a `Solution` class is a leaderboard solution file:
    `Solution().solve(None)` returns the program (code, {'code': ...} or {'program_path': ...}),
    which is loaded once per program module (a reload of the candidate asks again). The spec path
    the leaderboard passes is None here (no solution reads it): the candidate's process cannot
    read the task directory."""
    cached = _entries.get(id(program))
    if cached is not None and cached[0] is program:
        return cached[1]
    module = program
    if not provides(module) and hasattr(module, "Solution"):
        module = exec_program(materialize(module.Solution().solve(None), Path.cwd()))
    if not provides(module):
        raise InvalidOutput(f"program defines no {what}")
    _entries[id(program)] = (program, module)
    return module


def entry_module(program: ModuleType, entry: str) -> ModuleType:
    """The module that defines the function (or class) `entry`: see `resolve`."""
    return resolve(program, lambda m: hasattr(m, entry), repr(entry))
