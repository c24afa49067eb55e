"""The local process sandbox: a confined child process, measured and killed on time.

Layers (each reported by `isolation()`):

- a launcher (`_jail.py`, not a preexec_fn: the host is multithreaded) that
  confines itself and then execs the command;
- as root: mount, network and PID namespaces (no network at all; every
  descendant dies with the command because it is PID 1 of its namespace),
  a per-run unprivileged uid/gid from 61000-61999 (so RLIMIT_NPROC bites and
  /root, /etc/shadow and other runs' files are unreadable);
- Landlock where the kernel has it: reads only below an allowlist, writes
  only in the workdir, TCP bind/connect denied (ABI >= 4), no signals or
  abstract unix sockets outside the sandbox (ABI >= 6);
- rlimits: address space, CPU time, file size, open files, processes, no cores;
- an allowlisted environment (envscrub.py);
- stdout/stderr drained by threads and capped; wall, CPU and peak RSS measured.

Not root: Landlock, rlimits and the scrubbed environment still apply; orphans
are killed best-effort (the launcher is a child subreaper) and there is no
network namespace, which `isolation()` reports.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import IO

from syslab.errors import SyslabError
from syslab.sandbox.base import Limits, Mount, SandboxResult
from syslab.sandbox.envscrub import SYSLAB_ROOT, scrubbed_env

JAIL = Path(__file__).with_name("_jail.py")
JAIL_EXIT = 125
UID_RANGE = range(61000, 62000)
LOCK_DIR = Path("/run/syslab-sandbox") if os.path.isdir("/run") else Path(tempfile.gettempdir())
SYSTEM_READ = [
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc",
    "/proc",
    "/dev",
    "/sys",
]
DEV_WRITE = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]


class SandboxError(SyslabError):
    """The sandbox itself could not be set up (not a fault of the candidate)."""


@lru_cache(maxsize=1)
def _landlock_abi() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(int(libc.syscall(444, None, ctypes.c_size_t(0), 1)), 0)


@lru_cache(maxsize=1)
def _python_read_paths() -> tuple[str, ...]:
    """Interpreter and library directories the command needs to read (not temp dirs)."""
    tmp = os.path.realpath(tempfile.gettempdir())
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent)}
    paths.add(str(SYSLAB_ROOT))
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.exists(entry):
            real = os.path.realpath(entry)
            if not real.startswith(tmp + os.sep) and real != os.getcwd():
                paths.add(real)
    return tuple(sorted(paths))


class _UidLease:
    """A per-run uid, held with an flock so concurrent runs (even other processes) never share one."""

    def __init__(self) -> None:
        LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        for uid in random.sample(UID_RANGE, 64):
            fd = os.open(LOCK_DIR / f"uid-{uid}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError(f"no free sandbox uid in {UID_RANGE.start}-{UID_RANGE.stop - 1}")

    def release(self) -> None:
        os.close(self._fd)


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def _uid_processes(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get("State", "").strip().startswith(
            "Z"
        ):
            found.append(int(name))
    return found


def _kill_uid(uid: int, deadline_s: float = 2.0) -> None:
    """SIGKILL every process of the run uid until none is left (a belt to the PID namespace's braces)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = _uid_processes(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


class _CappedReader(threading.Thread):
    """Drain a pipe to EOF, keeping at most `cap` bytes (the rest is counted and dropped)."""

    def __init__(self, stream: IO[bytes], cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.truncated = False

    def run(self) -> None:
        fd = self.stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            room = self.cap - self.kept
            if room > 0:
                self.chunks.append(data[:room])
                self.kept += min(room, len(data))
            if len(data) > room:
                self.truncated = True

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


class ProcessSandbox:
    """Runs a command as a confined local process. See the module docstring for the layers."""

    name = "process"

    def __init__(self) -> None:
        self.root = os.geteuid() == 0

    def isolation(self) -> dict[str, bool | str]:
        abi = _landlock_abi()
        return {
            "backend": "process",
            "uid_drop": self.root,
            "netns": self.root,
            "pidns": self.root,
            "mountns": self.root,
            "landlock": abi >= 1,
            "landlock_abi": str(abi),
            "landlock_net": abi >= 4,
            "landlock_scope": abi >= 6,
            "rlimits": True,
            "nproc_limit": self.root,
            "env_scrub": True,
            "orphan_kill": "pidns" if self.root else "subreaper (best effort)",
        }

    def _config(self, workdir: Path, limits: Limits, mounts: list[Mount], uid: int | None) -> dict:
        mb = 1024 * 1024
        rlimits = {
            "RLIMIT_AS": limits.memory_mb * mb,
            "RLIMIT_CPU": math.ceil(limits.cpu_s if limits.cpu_s is not None else limits.timeout_s + 1),
            "RLIMIT_FSIZE": limits.max_file_mb * mb,
            "RLIMIT_NOFILE": limits.max_open_files,
            "RLIMIT_CORE": 0,
        }
        if uid is not None:  # only meaningful per uid; unprivileged, it would count all our processes
            rlimits["RLIMIT_NPROC"] = limits.max_processes
        read = SYSTEM_READ + list(_python_read_paths()) + [str(m.host) for m in mounts if not m.writable]
        write = [str(workdir)] + DEV_WRITE + [str(m.host) for m in mounts if m.writable]
        if uid is not None:
            write.append("/dev/shm")  # a private tmpfs inside the mount namespace
        if limits.gpu:
            write += [f"/dev/{d}" for d in os.listdir("/dev") if d.startswith(("nvidia", "dri", "kfd"))]
        expose = list(_python_read_paths()) + [str(workdir)] + [str(m.host) for m in mounts]
        return {
            "uid": uid,
            "gid": uid,
            "workdir": str(workdir),
            "network": limits.network,
            "landlock": _landlock_abi() >= 1,
            "read": read,
            "write": write,
            "expose": expose,
            "rlimits": rlimits,
        }

    def run(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
    ) -> SandboxResult:
        workdir = Path(workdir).resolve()
        mounts = [Mount(host=Path(m.host).resolve(), writable=m.writable) for m in mounts or []]
        child_env = scrubbed_env(workdir, env, gpu=limits.gpu)
        lease = _UidLease() if self.root else None
        try:
            if lease is not None:
                _chown_tree(workdir, lease.uid)
            cfg = self._config(workdir, limits, mounts, lease.uid if lease else None)
            return self._run(cmd, workdir, limits, cfg, child_env, lease.uid if lease else None)
        finally:
            if lease is not None:
                lease.release()

    def _run(
        self, cmd: list[str], workdir: Path, limits: Limits, cfg: dict, env: dict[str, str], uid: int | None
    ) -> SandboxResult:
        argv = [sys.executable, "-I", "-S", str(JAIL), json.dumps(cfg), "--", *cmd]
        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir,
            start_new_session=True,
            close_fds=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            _CappedReader(proc.stdout, limits.max_output_bytes),
            _CappedReader(proc.stderr, limits.max_output_bytes),
        ]
        for r in readers:
            r.start()
        timed_out = False
        pidfd = os.pidfd_open(proc.pid)
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            if not poller.poll(max(limits.timeout_s, 0.0) * 1000):
                timed_out = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # the launcher; its PID-1 child follows (pdeathsig)
                except ProcessLookupError:
                    pass
        finally:
            os.close(pidfd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        wall = time.monotonic() - start
        if uid is not None and timed_out:
            _kill_uid(uid)
        elif uid is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # best effort: whatever stayed in the group
            except (ProcessLookupError, PermissionError):
                pass
        for r in readers:
            r.join(timeout=2.0)
        proc.stdout.close()
        proc.stderr.close()
        out, err = readers[0].text(), readers[1].text()
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        if exit_code == JAIL_EXIT and "syslab-jail:" in err:
            line = next(ln for ln in err.splitlines() if "syslab-jail:" in ln)
            raise SandboxError(f"process sandbox setup failed: {line.split('syslab-jail:', 1)[1].strip()}")
        return SandboxResult(
            exit_code=exit_code,
            signal=signum,
            stdout=out,
            stderr=err,
            stdout_truncated=readers[0].truncated,
            stderr_truncated=readers[1].truncated,
            timed_out=timed_out,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024.0,
            isolation=self.isolation(),
        )
