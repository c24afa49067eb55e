"""Is there a CUDA GPU here, and what does a `gpu = true` task do on a machine without one.

Decision (documented in benchmarks/kernels/README.md): a GPU task on a machine with no GPU is
not refused if torch and triton are installed — it runs *correctness-only* through Triton's
interpreter (`TRITON_INTERPRET=1`, small shapes, no speedup metric). The run loop calls
`gpu_plan()` once, up front, and prints its message, instead of letting every candidate fail.
Without torch/triton the plan is `refuse`, with the install line.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from typing import Literal

from pydantic import BaseModel


def _nvidia_smi_sees_gpu() -> bool:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def gpu_available() -> bool:
    """True when a CUDA GPU is usable from this process (torch agrees when it is installed)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if importlib.util.find_spec("torch") is not None:
        import torch

        return bool(torch.cuda.is_available())
    return _nvidia_smi_sees_gpu()


def kernel_stack_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "triton"))


class GpuPlan(BaseModel):
    mode: Literal["gpu", "interpreter", "cpu", "refuse"]
    message: str


def gpu_plan(task_name: str, needs_gpu: bool) -> GpuPlan:
    """What a run of this task does on this machine; `message` is printed up front."""
    if not needs_gpu:
        return GpuPlan(mode="cpu", message=f"task {task_name} runs on the CPU")
    if gpu_available():
        return GpuPlan(mode="gpu", message=f"task {task_name} needs a GPU; using the local CUDA GPU")
    if kernel_stack_installed():
        return GpuPlan(
            mode="interpreter",
            message=(
                f"task {task_name} needs a GPU; this machine has none; running correctness-only in "
                "Triton interpreter mode (small shapes, no speedup is measured)"
            ),
        )
    return GpuPlan(
        mode="refuse",
        message=(
            f"task {task_name} needs a GPU; this machine has none, and torch/triton are not installed "
            "for the correctness-only fallback (pip install 'syslab[kernels]')"
        ),
    )
