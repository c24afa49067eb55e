"""What a sandboxed Python may read: its runtime, its site-packages and the syslab package.

Not the directory syslab was installed from (an editable install's repo
root holds .env files, runs and other people's code), not the host's
current directory, not other entries of the host's sys.path. The candidate
imports syslab through `candidate_site()`: a private directory holding one
symlink, `syslab` -> the package, put on its PYTHONPATH.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../syslab


@lru_cache(maxsize=1)
def candidate_site() -> Path:
    """A directory (made once per host process) whose only entry is `syslab` -> the package."""
    root = Path(tempfile.mkdtemp(prefix="syslab-site-"))
    os.chmod(root, 0o755)
    (root / "syslab").symlink_to(PACKAGE_DIR, target_is_directory=True)
    return root


@lru_cache(maxsize=1)
def runtime_read_paths() -> tuple[str, ...]:
    """The interpreter, the standard library and the site-packages directories, and the package."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(value)
    paths.update(site.getsitepackages())
    user = site.getusersitepackages()
    if isinstance(user, str):
        paths.add(user)
    paths.add(str(PACKAGE_DIR))
    return tuple(sorted(os.path.realpath(p) for p in paths if os.path.exists(p)))
