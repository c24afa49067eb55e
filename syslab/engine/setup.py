"""Before a run starts: its directory, the platform it records, and the GPU check."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from syslab.config import RunConfig
from syslab.errors import SyslabError
from syslab.task import Task


def platform_info() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "hostname": platform.node(),
    }


def new_run_dir(config: RunConfig, task: Task) -> tuple[Path, str]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id = config.run_name or f"{task.name}-{stamp}-s{config.seed}"
    run_dir = Path(config.out) / run_id
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = Path(config.out) / f"{run_id}-{n}"
    return run_dir, run_dir.name


def check_gpu(task: Task, config: RunConfig) -> None:
    """A GPU task runs only where a GPU is: say so up front instead of failing every candidate."""
    if not task.spec.sandbox.gpu or config.executor.kind == "ray":  # a Ray cluster may hold the GPUs
        return
    from syslab.evaluators.gpu import gpu_plan

    plan = gpu_plan(task.name, True)
    if plan.mode != "gpu":
        raise SyslabError(
            f"{task.root / 'task.toml'}: sandbox.gpu: {plan.message}. An evolution needs timings to "
            f"optimise, so it is not started; `syslab eval {task.root} FILE` checks correctness here, "
            "or run on a GPU machine or with --executor ray on a cluster with GPUs"
        )
