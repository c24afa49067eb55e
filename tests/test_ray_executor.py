"""The Ray executor on a real local Ray (2 workers): jobs evaluate, failures come back, a lost
worker's evaluation is retried and the retry recorded."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from syslab.evaluators.base import FailureKind
from syslab.sandbox.executor import EvalJob, make_executor

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'syslab[ray]')")

HOSTILE_TASK = str(Path(__file__).resolve().parent / "fixtures" / "tasks" / "hostile")


@pytest.fixture(scope="module")
def executor():
    if ray.is_initialized():
        ray.shutdown()
    ex = make_executor("ray", workers=2)
    yield ex
    ex.shutdown()
    assert not ray.is_initialized()  # it started Ray, so it stops it


def _job(node_id: int, code: str) -> EvalJob:
    return EvalJob(node_id=node_id, task_dir=HOSTILE_TASK, code=code)


def test_jobs_run_on_two_workers_in_the_sandbox(executor) -> None:  # noqa: ANN001
    code = "import os, time\ntime.sleep(0.3)\nREPORT = {'pid': os.getpid(), 'uid': os.getuid(), 'i': __I__}\n"
    futures = [executor.submit(_job(i, code.replace("__I__", str(i)))) for i in range(4)]
    results = [f.result(timeout=60) for f in futures]
    assert all(r.ok for r in results), [r.failure for r in results]
    assert [r.artifacts["report"]["i"] for r in results] == [0, 1, 2, 3]
    assert all(r.artifacts["ray_attempts"] == 1 and "ray_lost_workers" not in r.artifacts for r in results)
    assert ray.available_resources().get("CPU", 0) <= 2 and ray.cluster_resources()["CPU"] == 2
    if os.geteuid() == 0:  # the process sandbox still drops to an unprivileged uid inside the Ray worker
        assert all(r.artifacts["report"]["uid"] != 0 for r in results)


def test_candidate_failure_comes_back_as_a_result(executor) -> None:  # noqa: ANN001
    result = executor.submit(_job(10, "raise ValueError('bad candidate')")).result(timeout=60)
    assert result.failure is not None and result.failure.kind == FailureKind.runtime
    assert "bad candidate" in result.failure.message and result.artifacts["ray_attempts"] == 1


def _ray_task_workers() -> list[int]:
    """Ray worker processes currently executing an evaluation (their title is ray::_ray_evaluate)."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::_ray_evaluate"):
                pids.append(int(pid))
        except (OSError, ValueError):
            continue
    return pids


def test_lost_worker_is_retried_and_recorded(executor) -> None:  # noqa: ANN001
    fut = executor.submit(_job(20, "import time\ntime.sleep(2.0)\nREPORT = {'done': 1}\n"))
    deadline = time.monotonic() + 20
    while not (busy := _ray_task_workers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert busy, "no Ray worker picked up the evaluation"
    os.kill(busy[0], signal.SIGKILL)  # the worker dies mid-evaluation
    result = fut.result(timeout=90)
    assert result.ok, result.failure
    assert result.artifacts["report"] == {"done": 1}
    assert result.artifacts["ray_attempts"] == 2
    assert "WorkerCrashedError" in result.artifacts["ray_lost_workers"][0]


def test_gpu_task_on_a_ray_without_gpus_is_refused(executor) -> None:  # noqa: ANN001
    from syslab.errors import SyslabError

    with pytest.raises(SyslabError, match="needs a GPU and this Ray has none"):
        make_executor("ray", workers=1, gpu=True)
    assert ray.is_initialized()  # the shared Ray (not started by the refused executor) is still up
