"""OpenEvolve in a virtual environment of its own (so its dependencies never touch syslab's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEFAULT_VENV = Path.home() / ".cache" / "syslab-bench" / "openevolve-venv"
VERSION_CODE = "import importlib.metadata as m, openevolve.cli; print(m.version('openevolve'))"


class OpenEvolveUnavailable(RuntimeError):
    """OpenEvolve could not be found or installed; the message says what failed and what to do."""


def _version(python: Path) -> str | None:
    try:
        out = subprocess.run([str(python), "-c", VERSION_CODE], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_openevolve(
    python: Path | None, venv: Path = DEFAULT_VENV, spec: str = "openevolve"
) -> tuple[Path, str]:
    """(interpreter that imports openevolve, its version); installs `spec` into `venv` if needed."""
    if python is not None:
        version = _version(python)
        if version is None:
            raise OpenEvolveUnavailable(
                f"{python} cannot import openevolve; install it there (`{python} -m pip install openevolve`) "
                "or drop --openevolve-python to let the benchmark make its own venv"
            )
        return python, version
    vpython = venv / "bin" / "python"
    if not vpython.exists():
        print(f"creating a venv for OpenEvolve at {venv}", file=sys.stderr)
        made = subprocess.run(["python3", "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            raise OpenEvolveUnavailable(f"python3 -m venv {venv} failed:\n{_tail(made.stderr)}")
    version = _version(vpython)
    if version is None:
        print(f"installing {spec} into {venv} (pip)", file=sys.stderr)
        pip = subprocess.run(
            [str(vpython), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
            capture_output=True,
            text=True,
        )
        version = _version(vpython)
        if pip.returncode != 0 or version is None:
            raise OpenEvolveUnavailable(
                f"could not install {spec} into {venv} (pip exit {pip.returncode}):\n"
                f"{_tail(pip.stderr or pip.stdout)}\n"
                "Check network access to PyPI, or pass --openevolve-python PATH of an interpreter "
                "that has openevolve installed."
            )
    return vpython, version
