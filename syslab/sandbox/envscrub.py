"""The environment a sandboxed command sees: an allowlist, never the host's secrets."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# Names that look like credentials are refused even when a caller passes them explicitly.
SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|PRIVATE_KEY)", re.IGNORECASE)
PASSTHROUGH = ("LANG", "LC_ALL", "TZ")
GPU_PASSTHROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")
SYSLAB_ROOT = Path(__file__).resolve().parents[2]  # the directory that holds the syslab package


def scrubbed_env(workdir: Path, extra: dict[str, str] | None = None, gpu: bool = False) -> dict[str, str]:
    """Build the child's environment from an allowlist plus the caller's explicit `extra`.

    Raises ValueError if `extra` names something that looks like a credential.
    """
    py_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{py_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(SYSLAB_ROOT),
        "LANG": "C.UTF-8",
    }
    names = PASSTHROUGH + (GPU_PASSTHROUGH if gpu else ())
    env.update({k: os.environ[k] for k in names if k in os.environ})
    for key, value in (extra or {}).items():
        if SECRET_NAME.search(key):
            raise ValueError(f"sandbox env: refusing to pass {key!r} (looks like a credential)")
        env[key] = str(value)
    return env
