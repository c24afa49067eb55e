"""Executors schedule evaluation jobs onto sandboxes: a local pool, or Ray."""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from syslab.evaluators.base import EvaluationResult
from syslab.sandbox.base import Sandbox
from syslab.task import Task, load_task


class EvalJob(BaseModel):
    """Everything a worker needs to evaluate one candidate (no population state)."""

    node_id: int
    task_dir: str
    code: str
    sandbox: str = "process"  # backend name, see make_sandbox
    image: str | None = None  # docker image override


def make_sandbox(name: str, image: str | None = None) -> Sandbox:
    """Build a sandbox backend by name."""
    if name == "process":
        from syslab.sandbox.process import ProcessSandbox

        return ProcessSandbox()
    if name == "docker":
        from syslab.sandbox.docker import DockerSandbox

        return DockerSandbox(image=image)
    raise ValueError(f"unknown sandbox backend {name!r} (expected process or docker)")


@functools.lru_cache(maxsize=16)
def _cached_task(task_dir: str) -> Task:
    return load_task(Path(task_dir))


def run_eval_job(job: EvalJob) -> EvaluationResult:
    """Evaluate one job in this worker. Used by every executor."""
    from syslab.evaluators.harness import evaluate_program

    task = _cached_task(job.task_dir)
    image = job.image or task.spec.sandbox.image
    if job.sandbox == "docker" and image is None:
        from syslab.sandbox.images import ensure_task_image

        image = ensure_task_image(task)  # base image, or its layer with the task's requirements (built once)
    sandbox = make_sandbox(job.sandbox, image)
    return evaluate_program(task, job.code, sandbox)


class Executor(Protocol):
    name: str

    def submit(self, job: EvalJob) -> Future[EvaluationResult]: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """A thread pool: each thread drives one sandboxed child process at a time."""

    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="syslab-eval")

    def submit(self, job: EvalJob) -> Future[EvaluationResult]:
        return self._pool.submit(run_eval_job, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_executor(name: str, workers: int, ray_address: str | None = None, gpu: bool = False) -> Executor:
    if name == "local":
        return LocalExecutor(workers)
    if name == "ray":
        from syslab.sandbox.ray_executor import RayExecutor

        return RayExecutor(workers=workers, address=ray_address, gpu=gpu)
    raise ValueError(f"unknown executor {name!r} (expected local or ray)")
