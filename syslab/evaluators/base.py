"""The evaluator contract: what an evaluation returns and how it fails.

A task's evaluator is a Python function `evaluate(program_path) -> dict`
run inside the sandbox by the harness. It returns a dict of metrics
(numbers), optionally with `"valid": False` and `"error": "..."`, and may
put extra JSON-able details under `"artifacts"`. To reject a candidate
with a typed failure it raises `InvalidOutput` (the program's output
breaks the problem's rules) or `WrongAnswer` (a result is incorrect).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from syslab.evaluators.failures import (  # noqa: F401 - re-exported
    CandidateRejected,
    FailureKind,
    InvalidOutput,
    SandboxViolation,
    WrongAnswer,
)


class Failure(BaseModel):
    kind: FailureKind
    message: str = ""


class Evidence(BaseModel):
    """Raw outputs of an evaluation. Stored as content-addressed blobs."""

    stdout: str = ""  # the candidate's (in shared mode: the evaluation process's)
    stderr: str = ""
    evaluator_stdout: str = ""  # the trusted evaluator's (split mode)
    evaluator_stderr: str = ""
    traceback: str = ""
    raw: dict[str, Any] = Field(default_factory=dict)  # the evaluator's raw return value

    def blobs(self, put_blob: Callable[[str], str]) -> dict[str, str]:
        """Store each non-empty output (and the raw metrics as JSON) with `put_blob`: name -> sha."""
        texts = {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "evaluator_stdout": self.evaluator_stdout,
            "evaluator_stderr": self.evaluator_stderr,
            "traceback": self.traceback,
        }
        out = {name: put_blob(text) for name, text in texts.items() if text}
        if self.raw:
            out["raw_metrics"] = put_blob(json.dumps(self.raw, sort_keys=True, default=str))
        return out


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
    verified: bool = True  # False: the candidate shared the scorer's process (shared mode)

    @property
    def ok(self) -> bool:
        return self.valid and self.failure is None
