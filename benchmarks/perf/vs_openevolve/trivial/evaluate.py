"""syslab evaluator of the trivial benchmark task: one call of the candidate, a constant-ish score.

Split mode (the default for a `candidate` handle): the call crosses the channel to the
sandboxed candidate process once, so what a run of this task costs is the framework's own
per-evaluation work (proposal, sandbox, two processes, recording).
"""

from __future__ import annotations

from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import Candidate


def evaluate(candidate: Candidate) -> dict[str, float]:
    value = candidate.call("run")
    if not isinstance(value, (int, float)):
        raise InvalidOutput(f"run() returned {type(value).__name__}, not a number")
    return {"score": 1.0 / (1.0 + abs(float(value)))}
