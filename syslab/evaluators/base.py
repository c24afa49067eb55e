"""The evaluator contract: what an evaluation returns and how it fails.

A task's evaluator is a Python function `evaluate(program_path) -> dict`
run inside the sandbox by the harness. It returns a dict of metrics
(numbers), optionally with `"valid": False` and `"error": "..."`, and may
put extra JSON-able details under `"artifacts"`. To reject a candidate
with a typed failure it raises `InvalidOutput` (the program's output
breaks the problem's rules) or `WrongAnswer` (a result is incorrect).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class FailureKind(str, Enum):
    syntax = "syntax"
    import_error = "import"
    runtime = "runtime"
    timeout = "timeout"
    memory = "memory"
    invalid_output = "invalid_output"
    wrong_answer = "wrong_answer"
    sandbox_violation = "sandbox_violation"
    evaluator_error = "evaluator_error"
    # Failures that happen before evaluation (recorded as nodes too).
    malformed_response = "malformed_response"
    patch_failed = "patch_failed"
    duplicate = "duplicate"
    interrupted = "interrupted"
    llm_error = "llm_error"


class Failure(BaseModel):
    kind: FailureKind
    message: str = ""


class Evidence(BaseModel):
    """Raw outputs of an evaluation. Stored as content-addressed blobs."""

    stdout: str = ""
    stderr: str = ""
    traceback: str = ""
    raw: dict[str, Any] = Field(default_factory=dict)  # the evaluator's raw return value


class EvaluationResult(BaseModel):
    metrics: dict[str, float] = Field(default_factory=dict)
    score: float | None = None  # primary metric, higher is better
    valid: bool = False
    stage: str = ""  # the last stage reached ("" if none started)
    failure: Failure | None = None
    evidence: Evidence = Field(default_factory=Evidence)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    artifacts: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.valid and self.failure is None


class CandidateRejected(Exception):
    """Base for exceptions an evaluator raises to reject a candidate."""

    kind = FailureKind.invalid_output


class InvalidOutput(CandidateRejected):
    kind = FailureKind.invalid_output


class WrongAnswer(CandidateRejected):
    kind = FailureKind.wrong_answer


class SandboxViolation(CandidateRejected):
    """The candidate tried to escape or tamper with the evaluation (threads, scorer patching)."""

    kind = FailureKind.sandbox_violation
