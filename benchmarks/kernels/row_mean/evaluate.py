"""Evaluator: strict correctness against reference.py, and speed on a CUDA GPU (split evaluation:
the program runs in its own process behind adapter.py; the reference and the verdict stay here)."""

from pathlib import Path

from syslab.evaluators.handle import Candidate
from syslab.evaluators.kernel import evaluate_kernel


def evaluate(candidate: Candidate) -> dict:
    return evaluate_kernel(candidate, Path(__file__).resolve().parent / "reference.py")
