"""Time each ADRS evaluator on its seed program and print seed score vs the published baseline.

Usage: SYSLAB_DATA=../shared/data python benchmarks/adrs/time_evaluators.py [problem ...]

Per problem and evaluator entry: `cold` and `warm` are two runs in this process (the first loads
data), the candidate served by an unsandboxed child process (syslab.evaluators.local) for
split-mode tasks, or imported here for shared-mode ones; `sandboxed` is one full
`evaluate_program` through the process sandbox (both processes, all stages), wall seconds.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from syslab.adrs.reproduce import PROBLEMS, published  # noqa: E402
from syslab.task import Task, load_task  # noqa: E402


def entries(task: Task) -> list[tuple[str, str]]:
    stages = [(s.entry.split(":", 1)[1], f"stage {s.name}") for s in task.spec.stages]
    return stages + [(task.spec.evaluator.split(":", 1)[1], "full")]


def run_once(task: Task, module: Any, fn: str) -> float:
    if task.evaluation_mode == "split":
        from syslab.evaluators.local import task_candidate

        with task_candidate(task, task.seed_code) as candidate:
            return getattr(module, fn)(candidate)["score"]
    return getattr(module, fn)(str(task.seed_path))["score"]


def sandboxed(task: Task) -> tuple[float, float | None]:
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.process import ProcessSandbox

    t0 = time.perf_counter()
    result = evaluate_program(task, task.seed_code, ProcessSandbox())
    return time.perf_counter() - t0, result.metrics.get("score") if result.valid else None


def main() -> None:
    os.environ.setdefault("SYSLAB_DATA", str((HERE.parents[1] / ".." / "shared" / "data").resolve()))
    print(
        f"{'problem':<20} {'mode':<6} {'evaluator':<16} {'cold s':>7} {'warm s':>7} {'seed score':>10} "
        f"{'sandboxed s':>11} {'published baseline':>18}"
    )
    for problem in sys.argv[1:] or PROBLEMS:
        task = load_task(HERE / problem)
        spec = importlib.util.spec_from_file_location(f"eval_{problem}", task.root / "evaluate.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        base = published(problem)["baseline"]
        for fn, label in entries(task):
            with tempfile.TemporaryDirectory() as scratch:
                os.chdir(scratch)
                times, score = [], 0.0
                for _ in range(2):
                    t0 = time.perf_counter()
                    score = run_once(task, module, fn)
                    times.append(time.perf_counter() - t0)
            full = label == "full"
            wall, _ = sandboxed(task) if full else (None, None)
            pub = "-" if base is None or not full else f"{base:.2f}"
            shown = "-" if wall is None else f"{wall:.2f}"
            print(
                f"{problem:<20} {task.evaluation_mode:<6} {label:<16} {times[0]:>7.2f} {times[1]:>7.2f} "
                f"{score:>10.2f} {shown:>11} {pub:>18}"
            )


if __name__ == "__main__":
    main()
