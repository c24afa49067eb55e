"""Evaluator: strict correctness against reference.py, and speed on a CUDA GPU."""

from pathlib import Path

from syslab.evaluators.kernel import evaluate_kernel


def evaluate(program_path: str) -> dict:
    return evaluate_kernel(program_path, Path(__file__).resolve().parent / "reference.py")
