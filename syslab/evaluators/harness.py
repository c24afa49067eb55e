"""Evaluate one candidate program: the cascade of stages, in split or shared mode.

`evaluate_program(task, code, sandbox)` runs each `task.spec.stages` entry
(cheap first) and then the main evaluator (recorded as stage "main"). A stage
rejects the candidate when its evaluator fails, reports `"valid": False`,
returns a non-finite metric, or its primary metric is worse than the stage
`threshold`; later stages do not run. `EvaluationResult.stage` is the last
stage started.

Two modes (`Task.evaluation_mode`):

- **split** (split_session.py): the task's evaluator runs in a trusted process
  that never executes candidate code, and reaches the candidate, sandboxed in
  its own process, through a `Candidate` handle. Results come back to the
  host over a socket the host created. Scores are verified.
- **shared** (shared_session.py): an OpenEvolve-style `evaluate(program_path)`
  imports the program inside one sandboxed process. The candidate can reach
  the scorer's memory, so these scores are marked unverified everywhere.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syslab.data import DataMissing
from syslab.evaluators.base import EvaluationResult, Evidence, Failure, FailureKind
from syslab.evaluators.program_files import ProgramFiles
from syslab.sandbox.base import Sandbox
from syslab.sandbox.scratch import remove_tree
from syslab.task import Task

MAIN_STAGE = "main"
PROGRAM_FILE = "program.py"
RESERVED = {"valid", "error", "artifacts"}


@dataclass
class StageOutcome:
    """One stage's outcome as the trusted side reported it."""

    kind: str
    message: str = ""
    traceback: str = ""
    value: Any = None  # the evaluator's return value
    channel: dict[str, float] | None = None  # split mode: calls and time spent in the candidate

    @property
    def raw(self) -> dict:
        v = self.value
        return v if isinstance(v, dict) else ({} if v is None else {"value": v})


@dataclass
class SessionOutput:
    """What the processes printed and used, over the whole evaluation."""

    stdout: str = ""
    stderr: str = ""
    evaluator_stdout: str = ""
    evaluator_stderr: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    start: str = "cold"  # "warm": both processes were forked from warm templates (sandbox/warm.py)


def check_metrics(raw: Any, where: str) -> tuple[dict[str, float], str | None]:
    """Validate an evaluator's return value: (metrics, None) or ({}, one-line error naming the key)."""
    if not isinstance(raw, dict):
        return {}, f"{where} returned {type(raw).__name__}, expected a dict of metrics"
    metrics: dict[str, float] = {}
    for key, value in raw.items():
        if key in RESERVED:
            continue
        if isinstance(value, dict) and "__float__" in value and len(value) == 1:
            value = float(value["__float__"])  # a non-finite number, as the trusted process sends it
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, bool):
                metrics[key] = float(value)
                continue
            shown = value.get("__unserializable__") if isinstance(value, dict) else type(value).__name__
            return {}, f"{where} returned a non-numeric value for metric {key!r} ({shown})"
        metrics[key] = float(value)
    if "valid" in raw and not isinstance(raw["valid"], bool):
        return {}, f"{where} returned 'valid' = {raw['valid']!r}, expected true or false"
    return metrics, None


def _entries(task: Task) -> list[tuple[str, str, float | None, float | None]]:
    """(stage name, entry, threshold, timeout) in cascade order, the main evaluator last."""
    stages = [(s.name, s.entry, s.threshold, s.timeout_s) for s in task.spec.stages]
    return stages + [(MAIN_STAGE, task.spec.evaluator, None, None)]


def stage_entries(task: Task) -> list[str]:
    return [entry for _, entry, _, _ in _entries(task)]


def stage_timeouts(task: Task) -> list[float]:
    return [t or task.spec.sandbox.timeout_s for _, _, _, t in _entries(task)]


def _fail(result: EvaluationResult, kind: str, message: str) -> EvaluationResult:
    try:
        fk = FailureKind(kind)
    except ValueError:
        fk, message = FailureKind.evaluator_error, f"unknown failure kind {kind!r}: {message}"
    result.valid = False
    result.score = None
    result.failure = Failure(kind=fk, message=message)
    return result


def _open_session(  # noqa: ANN202 - a session
    task: Task, code: str, sandbox: Sandbox, scratch: Path, files: ProgramFiles | None = None
):
    if task.evaluation_mode == "split":
        from syslab.evaluators.split_session import SplitSession

        return SplitSession(task, code, sandbox, scratch, files)
    from syslab.evaluators.shared_session import SharedSession

    return SharedSession(task, code, sandbox, scratch)


def evaluate_program(
    task: Task, code: str, sandbox: Sandbox, files: ProgramFiles | None = None
) -> EvaluationResult:
    """Run the evaluation cascade for one candidate; never raises for candidate or evaluator faults.

    `files` (split mode only): where the program lands in the candidate's scratch dir and the
    files that go with it (a leaderboard solution's layout and helper modules)."""
    result = EvaluationResult()
    if files is not None and task.evaluation_mode != "split":
        return _fail(result, "evaluator_error", "a program with files of its own needs a split-mode task")
    scratch = Path(tempfile.mkdtemp(prefix="syslab-eval-"))
    try:
        try:
            session = _open_session(task, code, sandbox, scratch, files)
        except (FileNotFoundError, DataMissing) as e:  # a missing data file is reported, not raised
            return _fail(result, "evaluator_error", str(e))
        try:
            _cascade(task, session, result)
        finally:
            out = session.finish()
            result.wall_s, result.cpu_s, result.peak_rss_mb = out.wall_s, out.cpu_s, out.peak_rss_mb
            result.evidence.stdout, result.evidence.stderr = out.stdout, out.stderr
            result.evidence.evaluator_stdout = out.evaluator_stdout
            result.evidence.evaluator_stderr = out.evaluator_stderr
            result.verified = task.verified
            if out.notes:
                result.artifacts["sandbox_notes"] = out.notes
            result.artifacts["sandbox_start"] = out.start
        return result
    finally:
        remove_tree(scratch)


def _cascade(task: Task, session: Any, result: EvaluationResult) -> EvaluationResult:
    entries = _entries(task)
    for (name, entry, threshold, _), timeout_s in zip(entries, stage_timeouts(task), strict=True):
        result.stage = name
        outcome: StageOutcome = session.stage(name, entry, timeout_s)
        result.evidence = Evidence(traceback=outcome.traceback, raw=outcome.raw)
        if outcome.channel:
            result.artifacts.setdefault("channel", {})[name] = outcome.channel
        if outcome.kind != "ok":
            return _fail(result, outcome.kind, outcome.message)
        where = f"{Path(entry.split(':', 1)[0]).name}:{entry.split(':', 1)[1]}"
        metrics, error = check_metrics(outcome.value, where)
        if error:
            return _fail(result, "evaluator_error", error)
        result.metrics = metrics
        artifacts = outcome.raw.get("artifacts")
        if isinstance(artifacts, dict):
            result.artifacts.update(artifacts)
        if outcome.raw.get("valid") is False:
            return _fail(
                result, "invalid_output", str(outcome.raw.get("error") or f"{where} reported invalid")
            )
        bad = sorted(
            k
            for k, v in metrics.items()
            if not math.isfinite(v) and (k == task.primary_metric or not task.spec.allow_nonfinite)
        )
        if bad:
            return _fail(
                result, "invalid_output", f"{where} returned a non-finite value for {', '.join(bad)}"
            )
        score = task.score(metrics)
        if threshold is not None:
            if score is None:
                return _fail(
                    result,
                    "evaluator_error",
                    f"{where} did not report the primary metric {task.primary_metric!r}",
                )
            if score < task.score({task.primary_metric: threshold}):  # type: ignore[operator]
                raw_value = metrics[task.primary_metric]
                return _fail(
                    result,
                    "invalid_output",
                    f"below stage threshold: stage {name!r} {task.primary_metric}={raw_value:g}, "
                    f"threshold {threshold:g}",
                )
    result.valid = True
    result.score = task.score(result.metrics)
    if result.score is None and result.metrics.get("correctness_only") == 1.0:
        return result  # a GPU task checked without a GPU: correct, but there is no speed to score
    if result.score is None:
        return _fail(
            result,
            "evaluator_error",
            f"{task.spec.evaluator} did not report the primary metric {task.primary_metric!r}",
        )
    return result
