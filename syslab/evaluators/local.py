"""A candidate process without a sandbox, for tests and debugging of split evaluators.

    with local_candidate(code, adapter=adapter_source) as candidate:
        metrics = evaluate(candidate)          # the evaluator runs here, in this process

The candidate runs `candidate_runtime.py` in a plain child process (same
protocol, same codec, no isolation), so an evaluator can be stepped through
in a debugger or called from a unit test in milliseconds. Real evaluations
go through `harness.evaluate_program`, which sandboxes the candidate.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from syslab.evaluators.channel import Channel
from syslab.evaluators.handle import Candidate
from syslab.sandbox.envscrub import SYSLAB_ROOT
from syslab.sandbox.scratch import remove_tree
from syslab.task import Task

RUNTIME = Path(__file__).with_name("candidate_runtime.py")


def _spawn() -> tuple[Channel, subprocess.Popen, Path]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    scratch = Path(tempfile.mkdtemp(prefix="syslab-local-"))
    fd = theirs.fileno()
    env = {**os.environ, "SYSLAB_CHANNEL_FD": str(fd), "PYTHONPATH": str(SYSLAB_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-B", str(RUNTIME)], pass_fds=(fd,), env=env, cwd=scratch, stdin=subprocess.DEVNULL
    )
    theirs.close()
    return Channel(ours.detach()), proc, scratch


def _end(proc: subprocess.Popen, scratch: Path) -> None:
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    remove_tree(scratch)


@contextlib.contextmanager
def local_candidate(
    code: str, adapter: str | None = None, *, allow_nonfinite: bool = False, load: bool = True
) -> Iterator[Candidate]:
    """A Candidate served by an unsandboxed child process; `load=False` leaves the init to the caller.
    `candidate.restart()` starts a new child process."""
    chan, proc, scratch = _spawn()
    ended: list[tuple[subprocess.Popen, Path]] = []
    cand = Candidate(chan, code, allow_nonfinite=allow_nonfinite)

    def respawn() -> Channel:
        nonlocal proc, scratch
        ended.append((proc, scratch))
        chan, proc, scratch = _spawn()
        return chan

    cand._respawn = respawn
    try:
        if load:
            cand._ready(adapter)
        yield cand
    finally:
        cand.close()
        for old in [*ended, (proc, scratch)]:
            _end(*old)
        cand._chan.close()


@contextlib.contextmanager
def task_candidate(task: Task, code: str) -> Iterator[Candidate]:
    """`local_candidate` with the task's adapter and non-finite setting."""
    adapter = (task.root / task.spec.adapter).read_text(encoding="utf-8") if task.spec.adapter else None
    with local_candidate(code, adapter, allow_nonfinite=task.spec.allow_nonfinite) as cand:
        yield cand
