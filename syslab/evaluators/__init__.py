"""Evaluator contract (base) and the sandboxed harness that runs it.

`from syslab.evaluators import InvalidOutput` stays cheap (no pydantic) because
evaluators import it inside every sandboxed evaluation; the pydantic models
load on first use.
"""

from syslab.evaluators.failures import (
    CandidateRejected,
    FailureKind,
    InvalidOutput,
    SandboxViolation,
    WrongAnswer,
)

__all__ = [
    "CandidateRejected",
    "EvaluationResult",
    "Evidence",
    "Failure",
    "FailureKind",
    "InvalidOutput",
    "SandboxViolation",
    "WrongAnswer",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy re-export of the pydantic models
    if name in ("EvaluationResult", "Evidence", "Failure"):
        from syslab.evaluators import base

        return getattr(base, name)
    raise AttributeError(name)
