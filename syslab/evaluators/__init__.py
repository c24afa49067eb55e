"""Evaluator contract (base) and the sandboxed harness that runs it."""

from syslab.evaluators.base import (
    EvaluationResult,
    Evidence,
    Failure,
    FailureKind,
    InvalidOutput,
    WrongAnswer,
)

__all__ = ["EvaluationResult", "Evidence", "Failure", "FailureKind", "InvalidOutput", "WrongAnswer"]
