"""Crash-safe resume: SIGKILL a running `syslab run` at random points, resume to completion."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from syslab.artifacts.schema import NodeKind, NodeStatus
from syslab.artifacts.store import RunStore

QUADRATIC = Path(__file__).parent / "fixtures" / "tasks" / "quadratic"
BUDGET = 60


def _completed(run_dir: Path) -> dict[int, tuple]:
    """node id -> (status, score, code_sha) of every completed evaluation."""
    s = RunStore.open(run_dir, readonly=True)
    out = {
        n.id: (n.status.value, n.score, n.code_sha, n.finished_at)
        for n in s.nodes()
        if n.kind != NodeKind.analysis and n.wall_s is not None and n.status != NodeStatus.interrupted
    }
    s.close()
    return out


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "syslab.cli", *args, "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_sigkill_and_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    rng = random.Random(1234)
    out = tmp_path / "runs"
    proc = _start(
        [
            "run",
            str(QUADRATIC),
            "--budget",
            str(BUDGET),
            "--workers",
            "2",
            "--out",
            str(out),
            "--proposer",
            "mutate",
            "--name",
            "r",
        ]
    )
    run_dir = out / "r"
    kills = 0
    seen: dict[int, tuple] = {}
    for _ in range(12):
        # Let it make some progress (the seed must be recorded before the first kill).
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                if (run_dir / "manifest.json").exists() and len(_completed(run_dir)) >= 1:
                    break
            except Exception:  # noqa: BLE001 - the store may be mid-creation
                continue
        time.sleep(rng.uniform(0.2, 0.9))
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        now = _completed(run_dir)
        # Nothing completed before is lost or changed.
        for nid, rec in seen.items():
            assert now.get(nid) == rec, f"completed evaluation {nid} changed or vanished after a kill"
        seen = now
        proc = _start(["resume", str(run_dir)])
    rc = proc.wait(timeout=180)
    assert rc == 0, proc.stderr.read().decode()[-2000:]
    assert kills >= 2
    final = _completed(run_dir)
    for nid, rec in seen.items():
        assert final.get(nid) == rec
    # Exactly the budget of evaluations, each recorded once.
    assert len(final) == BUDGET
    s = RunStore.open(run_dir, readonly=True)
    interrupted = s.nodes(status=NodeStatus.interrupted)
    codes = {n.code_sha for n in s.nodes() if n.id in final}
    for n in interrupted:
        assert n.failure_kind == "interrupted"
        assert n.code_sha in codes  # re-queued and evaluated after the resume
    assert s.manifest.status == "finished"
    assert not s.nodes(status=NodeStatus.running)
    s.close()
