"""The sandbox contract: run a command in isolation, measure it, kill it on time."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field


class Limits(BaseModel):
    timeout_s: float = 60.0
    memory_mb: int = 2048  # address space (process) / memory limit (docker)
    cpu_s: float | None = None  # CPU-time rlimit; defaults to timeout + 1
    max_output_bytes: int = 1_000_000  # per stream
    max_file_mb: int = 256  # largest file the candidate may write
    max_open_files: int = 256
    max_processes: int = 64
    network: bool = False
    gpu: bool = False


class Mount(BaseModel):
    """A host path made readable (or writable) inside the sandbox."""

    host: Path
    writable: bool = False


class SandboxResult(BaseModel):
    exit_code: int | None  # None when killed before exiting
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    isolation: dict[str, bool | str] = Field(default_factory=dict)  # what was actually in force


class Sandbox(Protocol):
    name: str

    def isolation(self) -> dict[str, bool | str]:
        """What this backend enforces on this host (recorded in the run manifest)."""
        ...

    def run(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
    ) -> SandboxResult:
        """Run cmd with workdir as its writable scratch dir; never raises for candidate faults."""
        ...
