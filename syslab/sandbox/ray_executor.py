"""Ray executor: each evaluation is a Ray task (1 CPU, and 1 GPU for GPU tasks) that runs
`run_eval_job` on a worker, inside the job's sandbox.

`RayExecutor()` starts a private local Ray (`num_cpus=workers`, a capped object
store, no dashboard) unless Ray is already initialised; `RayExecutor(address=...)`
joins an existing cluster, whose workers must have syslab installed and see the
task directory at the same path (a shared filesystem).

A job carries only the node id, the task dir and the code (no population
state), and a result is one EvaluationResult, so nothing sent grows with the
run. A lost worker (crashed, killed, its node gone) is retried here, on the
driver, up to `max_retries` times; the attempts are recorded in the result's
`artifacts["ray_attempts"]` and the errors in `artifacts["ray_lost_workers"]`.
If every attempt is lost, the result is an `evaluator_error` failure, so the
node is still recorded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import Future, InvalidStateError

from syslab.evaluators.base import EvaluationResult, Failure, FailureKind
from syslab.sandbox.executor import EvalJob, run_eval_job

MB = 1024 * 1024
DEFAULT_OBJECT_STORE_MB = 200  # Ray's default (30% of RAM) starves small machines


def _ray_evaluate(job: EvalJob) -> EvaluationResult:
    """The Ray task body (its name shows in worker process titles as ray::_ray_evaluate)."""
    return run_eval_job(job)


def _lost_worker_errors() -> tuple[type[BaseException], ...]:
    import ray.exceptions as rex

    names = [
        "WorkerCrashedError",
        "NodeDiedError",
        "LocalRayletDiedError",
        "OwnerDiedError",
        "ObjectLostError",
    ]
    return tuple(getattr(rex, n) for n in names if hasattr(rex, n))


class RayExecutor:
    """Schedules evaluation jobs as Ray tasks; see the module docstring."""

    name = "ray"

    def __init__(
        self,
        workers: int = 1,
        address: str | None = None,
        gpu: bool = False,
        object_store_mb: int = DEFAULT_OBJECT_STORE_MB,
        max_retries: int = 2,
    ):
        try:
            import ray
        except ImportError:
            from syslab.errors import SyslabError

            raise SyslabError("--executor ray needs Ray: pip install 'syslab[ray]'") from None
        self.workers = max(1, workers)
        self.gpu = gpu
        self.max_retries = max(0, max_retries)
        self._owns_ray = False
        self._lock = threading.Lock()
        self._pending: set[Future] = set()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report from a sandbox host
            common = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}
            if address:
                ray.init(address=address, **common)
            else:
                ray.init(
                    num_cpus=self.workers,
                    num_gpus=None if gpu else 0,
                    object_store_memory=max(object_store_mb, 80) * MB,
                    **common,
                )
            self._owns_ray = True
        if gpu and not ray.cluster_resources().get("GPU"):
            # A GPU task would wait forever for a GPU that is not there; an autoscaling
            # cluster may add one later, so only the local case is refused.
            if not address:
                from syslab.errors import SyslabError

                self.shutdown()
                raise SyslabError("--executor ray: the task needs a GPU and this Ray has none (num_gpus=0)")
            logging.getLogger(__name__).warning("Ray cluster reports no GPU yet; GPU evaluations will wait")
        # Retries are ours (see _attempt) so that each one is counted and recorded.
        self._remote = ray.remote(_ray_evaluate).options(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=0)
        self._lost = _lost_worker_errors()

    def submit(self, job: EvalJob) -> Future[EvaluationResult]:
        outer: Future[EvaluationResult] = Future()
        outer.set_running_or_notify_cancel()
        with self._lock:
            self._pending.add(outer)
        outer.add_done_callback(self._forget)
        self._attempt(job, outer, 1, [])
        return outer

    def _forget(self, fut: Future) -> None:
        with self._lock:
            self._pending.discard(fut)

    def _attempt(self, job: EvalJob, outer: Future, attempt: int, lost: list[str]) -> None:
        ref = self._remote.remote(job)
        ref.future().add_done_callback(lambda inner: self._settle(job, outer, attempt, lost, inner))

    def _settle(self, job: EvalJob, outer: Future, attempt: int, lost: list[str], inner: Future) -> None:
        if outer.done():
            return
        try:
            result: EvaluationResult = inner.result()
        except self._lost as e:
            lost.append(f"attempt {attempt}: {type(e).__name__}: {str(e).strip().splitlines()[0][:200]}")
            if attempt <= self.max_retries:
                try:
                    self._attempt(job, outer, attempt + 1, lost)
                    return
                except Exception as resubmit_error:  # noqa: BLE001 - Ray itself is gone (shutdown)
                    lost.append(f"resubmit failed: {resubmit_error}")
            message = f"Ray worker lost on every attempt ({attempt}); last: {lost[-1]}"
            result = EvaluationResult(failure=Failure(kind=FailureKind.evaluator_error, message=message))
        except BaseException as e:  # noqa: BLE001 - the job itself raised: hand it to the caller
            with contextlib.suppress(InvalidStateError):  # shutdown may have settled it
                outer.set_exception(getattr(e, "cause", None) or e)
            return
        result.artifacts["ray_attempts"] = attempt
        if lost:
            result.artifacts["ray_lost_workers"] = list(lost)
        with contextlib.suppress(InvalidStateError):
            outer.set_result(result)

    def shutdown(self) -> None:
        """Cancel what has not finished and stop the local Ray this executor started."""
        import ray

        with self._lock:
            pending = list(self._pending)
        for fut in pending:
            try:
                fut.set_exception(RuntimeError("Ray executor shut down before this evaluation finished"))
            except InvalidStateError:
                pass  # it finished meanwhile
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
            self._owns_ray = False
