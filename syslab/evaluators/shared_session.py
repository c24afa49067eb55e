"""Shared (unverified) evaluation, host side: an OpenEvolve-style evaluator runs in the sandbox.

Each stage runs `_child.py` in a fresh sandbox with the task dir (and its
data) readable; the evaluator there imports the candidate, so the candidate
shares the scorer's interpreter and could have changed the result: every
score from this mode is marked unverified. What the host still guarantees:
the outcome arrives over a channel the host created (an inherited socket or
a socket path, never a file in the scratch dir), it is size-capped, and the
host never blocks past the stage's timeout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from syslab.evaluators.channel import Channel, ChannelClosed, ChannelTimeout, MessageTooLarge
from syslab.evaluators.harness import PROGRAM_FILE, SessionOutput, StageOutcome, stage_timeouts
from syslab.evaluators.split_session import data_env
from syslab.sandbox.base import Limits, Mount, Sandbox, SandboxResult
from syslab.task import Task, takes_candidate

CHILD = Path(__file__).with_name("_child.py")
MAX_OUTCOME = 16 * 1024 * 1024


def _without_result(res: SandboxResult, limits: Limits) -> StageOutcome:
    """Classify a run that produced no result."""
    if res.timed_out:
        return StageOutcome("timeout", f"no result within {limits.timeout_s:g} s (wall clock)")
    if res.signal == 24:
        return StageOutcome("timeout", "CPU time limit exceeded")
    if (
        res.oom_killed
        or "MemoryError" in res.stderr
        or (res.signal is not None and res.peak_rss_mb >= 0.9 * limits.memory_mb)
    ):
        return StageOutcome("memory", f"out of memory (limit {limits.memory_mb} MB)")
    how = f"signal {res.signal}" if res.signal is not None else f"exit code {res.exit_code}"
    return StageOutcome("runtime", f"evaluation ended ({how}) without a result")


class SharedSession:
    """Stages of an OpenEvolve-style evaluator, each in its own sandboxed process."""

    def __init__(self, task: Task, code: str, sandbox: Sandbox, scratch: Path):
        self.task, self.sandbox, self.scratch = task, sandbox, scratch
        env = data_env(task)
        self.env = env
        self.mounts = [Mount(host=task.root)] + ([Mount(host=Path(env["SYSLAB_DATA"]))] if env else [])
        (scratch / PROGRAM_FILE).write_text(code, encoding="utf-8")
        self.out = SessionOutput()
        self.labels = len(stage_timeouts(task)) > 1

    def stage(self, name: str, entry: str, timeout_s: float) -> StageOutcome:
        spec = self.task.spec.sandbox
        limits = Limits(
            timeout_s=timeout_s,
            memory_mb=spec.memory_mb,
            max_output_bytes=spec.max_output_bytes,
            max_scratch_mb=spec.max_scratch_mb,
            gpu=spec.gpu,
        )
        file_part, function = entry.split(":", 1)
        python = sys.executable if self.sandbox.name == "process" else "python3"
        adapter = str(self.task.root / self.task.spec.adapter) if self.task.spec.adapter else ""
        style = "candidate" if takes_candidate(self.task.root, entry) else "path"
        cmd = [
            python,
            "-B",
            str(CHILD),
            PROGRAM_FILE,
            str(self.task.root / file_part),
            function,
            adapter,
            style,
        ]
        ends = self.sandbox.channel()
        start = time.monotonic()
        try:
            run = self.sandbox.start(
                cmd,
                self.scratch,
                limits,
                mounts=self.mounts + ends.candidate_mounts,
                env={**self.env, **ends.candidate_env},
                pass_fds=tuple(ends.candidate_fds),
            )
        finally:
            ends.close_candidate_side()
        payload: bytes | None = None
        try:
            if ends.listening:
                chan = Channel.accept(ends.trusted_fds[0], timeout_s, MAX_OUTCOME)
            else:
                chan = Channel.from_spec(ends.trusted_spec, MAX_OUTCOME)
            try:
                payload = chan.recv(max(timeout_s - (time.monotonic() - start), 0.001))
            finally:
                chan.close()
        except (ChannelClosed, ChannelTimeout, MessageTooLarge):
            payload = None
        res = run.wait(grace_s=None if payload is None else 5.0)
        ends.cleanup()
        self._collect(name, res)
        outcome = self._parse(payload)
        return outcome if outcome is not None else _without_result(res, limits)

    @staticmethod
    def _parse(payload: bytes | None) -> StageOutcome | None:
        if payload is None:
            return None
        try:
            doc = json.loads(payload)
        except (ValueError, RecursionError):
            return StageOutcome("runtime", "malformed outcome from the evaluation process")
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
            return StageOutcome("runtime", "malformed outcome from the evaluation process")
        return StageOutcome(
            doc["kind"], str(doc.get("message", "")), str(doc.get("traceback", "")), doc.get("raw")
        )

    def _collect(self, name: str, res: SandboxResult) -> None:
        label = f"[{name}] " if self.labels else ""
        out = self.out
        if res.stdout:
            out.stdout += label + res.stdout + ("\n[stdout truncated]" if res.stdout_truncated else "")
        if res.stderr:
            out.stderr += label + res.stderr + ("\n[stderr truncated]" if res.stderr_truncated else "")
        out.wall_s += res.wall_s
        out.cpu_s += res.cpu_s
        out.peak_rss_mb = max(out.peak_rss_mb, res.peak_rss_mb)

    def finish(self) -> SessionOutput:
        return self.out
