"""Failure kinds and the exceptions evaluators raise to reject a candidate.

Kept free of heavy imports (no pydantic): every evaluator imports these in
its sandboxed child, once per evaluation stage.
"""

from __future__ import annotations

import errno
from enum import Enum

# errno values of an OSError that mean "refused by the sandbox": permissions / Landlock / seccomp,
# no network, the file size and scratch size caps. (EAGAIN, the process limit, is decided by callers:
# a thread that cannot start raises it too.)
VIOLATION_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EFBIG,
        errno.ENOSPC,
        errno.EDQUOT,
    }
)


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
