"""The sandbox contract: run a command in isolation, measure it, kill it on time."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field


class Limits(BaseModel):
    timeout_s: float = 60.0
    memory_mb: int = 2048  # address space (process) / memory limit (docker)
    cpu_s: float | None = None  # CPU-time rlimit; defaults to timeout + 1
    max_output_bytes: int = 1_000_000  # per stream
    max_file_mb: int = 256  # largest file the candidate may write
    max_scratch_mb: int = 256  # all files in its scratch dir together (a tmpfs where the host allows)
    max_open_files: int = 256
    # Tasks, threads included: the kernel counts each thread against RLIMIT_NPROC (and a cgroup's
    # pids.max), so this is the thread budget too. 256 lets thread pools run (64 did not: 100
    # threads failed with "can't start new thread"; RLIMIT_AS allows ~130 threads per 2 GB anyway)
    # and still stops a fork bomb before it fills a 512 MB memory limit.
    max_processes: int = 256
    network: bool = False
    gpu: bool = False
    cpus: list[int] | None = None  # pin the command to these CPUs (None: wherever the host runs it)


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
    oom_killed: bool = False  # the tree went over its memory limit and was killed for it
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    isolation: dict[str, bool | str] = Field(default_factory=dict)  # what was actually in force


@dataclass
class ChannelEnds:
    """A channel between the trusted evaluator and the candidate, as a backend provides it.

    The trusted side gets `trusted_fds` (a connected socket, a read and a write pipe, or with
    `listening` a socket to accept one connection on), named to it by `trusted_spec`
    (see Channel.from_spec); the candidate gets `candidate_fds` (inherited) and/or
    `candidate_env` / `candidate_mounts` (a socket path it connects to).
    """

    trusted_fds: list[int]
    trusted_spec: str
    listening: bool = False
    candidate_fds: list[int] = field(default_factory=list)
    candidate_env: dict[str, str] = field(default_factory=dict)
    candidate_mounts: list[Mount] = field(default_factory=list)
    cleanup: Callable[[], None] = lambda: None

    def close_candidate_side(self) -> None:
        """The host's copies of the candidate's fds, once the candidate has inherited them."""
        for fd in self.candidate_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.candidate_fds = []


class SandboxRun(Protocol):
    """A started sandboxed command."""

    def wait(self, grace_s: float | None = None) -> SandboxResult:
        """Wait for it to end and collect what it did: killed at its timeout (`timed_out`), or
        after `grace_s` more seconds when given (not a timeout: the caller is done with it)."""
        ...

    def kill(self) -> None:
        """Kill it and everything it started, now."""
        ...


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

    def start(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> SandboxRun:
        """Start cmd without waiting; `pass_fds` stay open in it (where the backend can)."""
        ...

    def channel(self) -> ChannelEnds:
        """A fresh trusted-evaluator <-> candidate channel for this backend."""
        ...
