"""Helpers for the kernel tests: bundled tasks, hostile programs, one split evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syslab.evaluators.kernel import evaluate_kernel
from syslab.evaluators.local import task_candidate
from syslab.task import Task, load_task

KERNELS = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels"
HACKS = Path(__file__).resolve().parent / "hacks"
TASKS = sorted(p.name for p in KERNELS.iterdir() if (p / "task.toml").is_file())


def kernel_task(name: str = "swish_bias") -> Task:
    return load_task(KERNELS / name)


def hack(name: str) -> str:
    return (HACKS / f"{name}.py").read_text()


def evaluate_split(task: Task, code: str, reference: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """The task's trusted evaluator here, the program in a child process behind the task's adapter
    (unsandboxed: the sandbox is tested through the harness in test_kernel_harness.py)."""
    with task_candidate(task, code) as candidate:
        return evaluate_kernel(
            candidate, reference or task.root / "reference.py", mode="interpreter", **kwargs
        )
