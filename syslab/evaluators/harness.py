"""Evaluate one candidate program: the cascade of stages, each in a sandboxed child.

`evaluate_program(task, code, sandbox)` writes the candidate to a fresh scratch
dir as `program.py`, then runs each `task.spec.stages` entry (cheap first) and
finally the main evaluator (`task.spec.evaluator`, recorded as stage "main").
Each runs `_child.py` in the sandbox with the task dir mounted read-only.
A stage rejects the candidate when its evaluator fails, reports
`"valid": False`, or its primary metric is worse than the stage `threshold`;
later stages do not run. `EvaluationResult.stage` is the last stage started.

The child reports through a result file authenticated with a one-time key
(HMAC-SHA256, see _child.py); anything without a valid MAC is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from syslab.evaluators.base import EvaluationResult, Evidence, Failure, FailureKind
from syslab.sandbox.base import Limits, Mount, Sandbox, SandboxResult
from syslab.task import Task

CHILD = Path(__file__).with_name("_child.py")
MAIN_STAGE = "main"
PROGRAM_FILE = "program.py"
RESERVED = {"valid", "error", "artifacts"}


class _Outcome:
    """One stage's verified outcome."""

    def __init__(self, kind: str, message: str = "", traceback: str = "", value: Any = None):
        self.kind, self.message, self.traceback = kind, message, traceback
        self.value = value  # the evaluator's return value, as sent
        self.raw: dict = value if isinstance(value, dict) else ({} if value is None else {"value": value})


def _read_result(path: Path, key: bytes) -> dict | None:
    """The child's payload if the file exists and its MAC verifies; otherwise None."""
    try:
        doc = json.loads(path.read_text())
        body, mac = doc["payload"], doc["mac"]
        good = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
        if isinstance(mac, str) and hmac.compare_digest(mac, good):
            payload = json.loads(body)
            return payload if isinstance(payload, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _without_result(res: SandboxResult, limits: Limits) -> _Outcome:
    """Classify a run that produced no authentic result."""
    if res.timed_out:
        return _Outcome("timeout", f"no result within {limits.timeout_s:g} s (wall clock)")
    if res.signal == 24:
        return _Outcome("timeout", "CPU time limit exceeded")
    if "MemoryError" in res.stderr or (res.signal is not None and res.peak_rss_mb >= 0.9 * limits.memory_mb):
        return _Outcome("memory", f"out of memory (limit {limits.memory_mb} MB)")
    how = f"signal {res.signal}" if res.signal is not None else f"exit code {res.exit_code}"
    return _Outcome("runtime", f"evaluation ended ({how}) without an authentic result")


def check_metrics(raw: Any, where: str) -> tuple[dict[str, float], str | None]:
    """Validate an evaluator's return value: (metrics, None) or ({}, one-line error naming the key)."""
    if not isinstance(raw, dict):
        return {}, f"{where} returned {type(raw).__name__}, expected a dict of metrics"
    metrics: dict[str, float] = {}
    for key, value in raw.items():
        if key in RESERVED:
            continue
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


def _data_env(task: Task) -> tuple[dict[str, str], list[Mount]]:
    """Expose the data root holding the task's data files (read-only) as $SYSLAB_DATA."""
    if not task.spec.data:
        return {}, []
    from syslab.data import data_path

    first = task.spec.data[0].strip("/")
    path = data_path(first)
    root = Path(str(path)[: -len(first)].rstrip("/"))
    return {"SYSLAB_DATA": str(root)}, [Mount(host=root)]


def _run_stage(
    task: Task, sandbox: Sandbox, scratch: Path, entry: str, limits: Limits, env: dict, mounts: list[Mount]
) -> tuple[_Outcome, SandboxResult]:
    file_part, function = entry.split(":", 1)
    key = secrets.token_bytes(32)
    tag = secrets.token_hex(4)
    key_file, result_file = scratch / f".syslab-key-{tag}", scratch / f".syslab-result-{tag}.json"
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    python = sys.executable if sandbox.name == "process" else "python3"
    cmd = [
        python,
        "-B",
        str(CHILD),
        str(key_file),
        str(scratch / PROGRAM_FILE),
        str(task.root / file_part),
        function,
        str(result_file),
    ]
    res = sandbox.run(cmd, scratch, limits, mounts=mounts, env=env)
    payload = _read_result(result_file, key)
    for leftover in (key_file, result_file):
        leftover.unlink(missing_ok=True)
    if payload is None:
        return _without_result(res, limits), res
    outcome = _Outcome(
        str(payload.get("kind", "runtime")),
        str(payload.get("message", "")),
        str(payload.get("traceback", "")),
        payload.get("raw"),
    )
    return outcome, res


def _fail(result: EvaluationResult, kind: str, message: str) -> EvaluationResult:
    try:
        fk = FailureKind(kind)
    except ValueError:
        fk, message = FailureKind.evaluator_error, f"unknown failure kind {kind!r}: {message}"
    result.valid = False
    result.score = None
    result.failure = Failure(kind=fk, message=message)
    return result


def evaluate_program(
    task: Task, code: str, sandbox: Sandbox, *, keep_scratch: bool = False
) -> EvaluationResult:
    """Run the evaluation cascade for one candidate; never raises for candidate or evaluator faults."""
    result = EvaluationResult()
    scratch = Path(tempfile.mkdtemp(prefix="syslab-eval-"))
    try:
        (scratch / PROGRAM_FILE).write_text(code, encoding="utf-8")
        try:
            env, mounts = _data_env(task)
        except Exception as e:  # noqa: BLE001 - a missing data file is reported, not raised
            return _fail(result, "evaluator_error", str(e))
        mounts = [Mount(host=task.root)] + mounts
        stdout, stderr = [], []
        for name, entry, threshold, stage_timeout in _entries(task):
            result.stage = name
            limits = Limits(
                timeout_s=stage_timeout or task.spec.sandbox.timeout_s,
                memory_mb=task.spec.sandbox.memory_mb,
                max_output_bytes=task.spec.sandbox.max_output_bytes,
                gpu=task.spec.sandbox.gpu,
            )
            outcome, res = _run_stage(task, sandbox, scratch, entry, limits, env, mounts)
            result.wall_s += res.wall_s
            result.cpu_s += res.cpu_s
            result.peak_rss_mb = max(result.peak_rss_mb, res.peak_rss_mb)
            label = f"[{name}] " if len(_entries(task)) > 1 else ""
            stdout.append(label + res.stdout if res.stdout else "")
            stderr.append(label + res.stderr if res.stderr else "")
            result.evidence = Evidence(
                stdout="".join(stdout) + ("\n[stdout truncated]" if res.stdout_truncated else ""),
                stderr="".join(stderr) + ("\n[stderr truncated]" if res.stderr_truncated else ""),
                traceback=outcome.traceback,
                raw=outcome.raw,
            )
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
            score = task.score(metrics)
            if score is not None and math.isnan(score):
                return _fail(result, "evaluator_error", f"{where} returned NaN for {task.primary_metric!r}")
            if threshold is not None:
                bar = task.score({task.primary_metric: threshold})
                if score is None:
                    return _fail(
                        result,
                        "evaluator_error",
                        f"{where} did not report the primary metric {task.primary_metric!r}",
                    )
                if score < bar:  # type: ignore[operator]
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
            # A GPU task checked without a GPU: correct, but there is no speed to score.
            return result
        if result.score is None:
            return _fail(
                result,
                "evaluator_error",
                f"{task.spec.evaluator} did not report the primary metric {task.primary_metric!r}",
            )
        return result
    finally:
        if keep_scratch:
            result.artifacts.setdefault("scratch_dir", str(scratch))
        else:
            shutil.rmtree(scratch, ignore_errors=True)
