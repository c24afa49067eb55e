"""Helpers shared by the ADRS tests (a uniquely named module: `conftest` names clash across test dirs)."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TASKS = REPO / "benchmarks" / "adrs"
DATA = (REPO / ".." / "shared" / "data").resolve()
_n = itertools.count()


def load_evaluator(problem: str, name: str = "evaluate"):
    path = TASKS / problem / "evaluate.py"
    spec = importlib.util.spec_from_file_location(f"_adrs_eval_{problem}_{next(_n)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def write(tmp_path: Path, code: str, name: str = "candidate.py") -> str:
    p = tmp_path / name
    p.write_text(code)
    return str(p)


def seed_code(problem: str) -> str:
    return (TASKS / problem / "seed.py").read_text()


def score(problem: str, code: str, **kwargs: Any) -> dict[str, Any]:
    """A split-mode evaluator run here, in the test process, against `code` served by an unsandboxed
    child process with the task's adapter (syslab.evaluators.local): fast, for unit tests."""
    from syslab.evaluators.local import task_candidate
    from syslab.task import load_task

    evaluate = load_evaluator(problem)
    with task_candidate(load_task(TASKS / problem), code) as candidate:
        return evaluate(candidate, **kwargs)


def sandboxed(problem: str, code: str):
    """The full evaluation as a run does it: trusted evaluator and sandboxed candidate processes."""
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.process import ProcessSandbox
    from syslab.task import load_task

    return evaluate_program(load_task(TASKS / problem), code, ProcessSandbox())
