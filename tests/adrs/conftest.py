"""ADRS tests: evaluators are called in-process with SYSLAB_DATA pointing at the shared data."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "benchmarks" / "adrs"
DATA = (REPO / ".." / "shared" / "data").resolve()
_n = itertools.count()


@pytest.fixture(autouse=True)
def adrs_data(monkeypatch, tmp_path):
    if not (DATA / "adrs").is_dir():
        pytest.skip(f"ADRS data not present at {DATA} (see syslab.data for where to get it)")
    monkeypatch.setenv("SYSLAB_DATA", str(DATA))
    monkeypatch.chdir(tmp_path)  # evaluators run with a scratch working dir


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
