"""Helpers shared by the ADRS tests (a uniquely named module: `conftest` names clash across test dirs)."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "benchmarks" / "adrs"
DATA = (REPO / ".." / "shared" / "data").resolve()
_n = itertools.count()


def load_evaluator(problem: str):
    path = TASKS / problem / "evaluate.py"
    spec = importlib.util.spec_from_file_location(f"_adrs_eval_{problem}_{next(_n)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate


def write(tmp_path: Path, code: str, name: str = "candidate.py") -> str:
    p = tmp_path / name
    p.write_text(code)
    return str(p)
