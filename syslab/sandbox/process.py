"""The local process sandbox: a confined child process, measured and killed on time.

Layers (each reported by `isolation()`):

- a launcher (`_jail.py`, not a preexec_fn: the host is multithreaded) that
  confines itself and then execs the command;
- as root: mount, network, PID, IPC and UTS namespaces (no network at all;
  SysV IPC objects die with the run; every descendant dies with the command
  because it is PID 1 of its namespace), a per-run unprivileged uid/gid from
  61000-61999 (so RLIMIT_NPROC bites and /root, /etc/shadow and other runs'
  files are unreadable), the scratch dir as a size-capped tmpfs that vanishes
  with the namespace, and a memory cgroup over the whole tree (cgroup.py);
- Landlock where the kernel has it: reads only below an allowlist (system
  dirs, the Python runtime and its site-packages, the syslab package — not
  the directory it was installed from — and what the caller mounts), writes
  only in the scratch dir, TCP bind/connect denied (ABI >= 4), no signals or
  abstract unix sockets outside the sandbox (ABI >= 6);
- seccomp: kernel keyrings (they outlive the process), CPU affinity changes (the
  candidate stays on the CPUs it was given), new unix sockets (a host
  service's world-writable socket is reached by path, which Landlock does not
  govern) and io_uring (which would do the same without those syscalls) are
  refused; so is any syscall of a foreign ABI (x32, i386);
- rlimits: address space, CPU time, file size, open files, processes, no cores;
- an allowlisted environment (envscrub.py);
- stdout/stderr drained by threads and capped; wall, CPU and peak memory measured.

Where no memory cgroup can be made (not root, read-only cgroupfs) the host
sums the resident memory of the sandbox's processes every 50 ms and kills the
tree above the limit; without root there are also no namespaces, no private
scratch tmpfs (files are capped per file and the scratch size is checked
while it runs) and orphans are killed best-effort (the launcher is a child
subreaper). `isolation()` says which applies.
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
import time
from functools import lru_cache
from pathlib import Path

from syslab.errors import SyslabError
from syslab.sandbox.base import ChannelEnds, Limits, Mount, SandboxResult
from syslab.sandbox.cgroup import MemoryCgroup, memory_parent
from syslab.sandbox.envscrub import scrubbed_env
from syslab.sandbox.procs import descendants, kill_all, kill_uid, rss_bytes, uid_processes
from syslab.sandbox.scratch import tree_bytes
from syslab.sandbox.sitedir import candidate_site, runtime_read_paths
from syslab.sandbox.streams import CappedReader
from syslab.sandbox.warm import Template, WarmChild

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
WATCH_S = 0.05  # memory watchdog period (fallback without a cgroup)


class SandboxError(SyslabError):
    """The sandbox itself could not be set up (not a fault of the candidate)."""


@lru_cache(maxsize=1)
def _landlock_abi() -> int:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(int(libc.syscall(444, None, ctypes.c_size_t(0), 1)), 0)


class _UidLease:
    """A per-run uid, held with an flock so concurrent runs (even other processes) never share one."""

    def __init__(self) -> None:
        self._fd: int | None = None
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
        # Idempotent: closing the fd twice could close an unrelated file that reused its number.
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class ProcessRun:
    """A started, confined command: `wait()` enforces the limits and collects the result."""

    def __init__(
        self,
        sandbox: ProcessSandbox,
        argv: list[str],
        workdir: Path,
        limits: Limits,
        env: dict[str, str],
        pass_fds: tuple[int, ...],
        lease: _UidLease | None,
        cgroup: MemoryCgroup | None,
        template: tuple[Template, dict] | None = None,
    ):
        self.sandbox, self.workdir, self.limits = sandbox, workdir, limits
        self.lease, self.cgroup = lease, cgroup
        self.uid = lease.uid if lease else None
        self.start = time.monotonic()
        self.warm: WarmChild | None = None
        if template is not None:  # forked from a warm template: argv is the template's payload
            self.proc = None
            self.warm = template[0].spawn(template[1], list(pass_fds))
            self.pid, streams = self.warm.pid, (self.warm.stdout, self.warm.stderr)
        else:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=workdir,
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
            self.pid, streams = self.proc.pid, (self.proc.stdout, self.proc.stderr)
        self.streams = streams
        self.readers = [CappedReader(st, limits.max_output_bytes) for st in streams]  # type: ignore[arg-type]
        for r in self.readers:
            r.start()
        self.killed = False
        self.over_memory = False
        self.over_disk = False
        self.peak_tree_bytes = 0
        self._result: SandboxResult | None = None

    def kill(self) -> None:
        if self._result is not None:
            return  # already reaped: its uid may belong to another run by now
        self.killed = True
        if self.warm is not None:
            self.warm.kill()
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the launcher; its PID-1 child follows (pdeathsig)
            except (ProcessLookupError, PermissionError):
                pass
        self._kill_rest()

    def _kill_rest(self) -> None:
        """The belt: whatever of the run is left (its cgroup's processes, or its uid's)."""
        if self.cgroup is not None:
            kill_all(self.cgroup.pids)
        elif self.uid is not None:
            kill_uid(self.uid)

    def _watch(self) -> None:
        """Fallback limits checked from outside: the tree's memory (no cgroup) and scratch size."""
        if self.cgroup is None:
            pids = uid_processes(self.uid) if self.uid is not None else descendants(self.pid)
            total = sum(rss_bytes(p) for p in pids)
            self.peak_tree_bytes = max(self.peak_tree_bytes, total)
            if total > self.limits.memory_mb * 1024 * 1024:
                self.over_memory = True
                self.kill()
        if not self.sandbox.root and int((time.monotonic() - self.start) / WATCH_S) % 10 == 0:
            cap = self.limits.max_scratch_mb * 1024 * 1024
            if tree_bytes(self.workdir, limit=cap) > cap:
                self.over_disk = True
                self.kill()

    def wait(self, grace_s: float | None = None) -> SandboxResult:
        """Wait until it ends; kill it at its timeout (timed_out) or after `grace_s` more (not)."""
        if self._result is not None:
            return self._result
        limits = self.limits
        timed_out = False
        if self.warm is not None:
            pidfd = None if self.warm.pidfd is None else os.dup(self.warm.pidfd)
        else:
            pidfd = os.pidfd_open(self.pid)
        try:
            poller = select.poll()
            if pidfd is not None:
                poller.register(pidfd, select.POLLIN)
            limit = self.start + max(limits.timeout_s, 0.0)
            deadline = limit if grace_s is None else min(limit, time.monotonic() + grace_s)
            while pidfd is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = deadline >= limit and not self.killed
                    self.kill()
                    break
                if poller.poll(min(left, WATCH_S) * 1000):
                    break
                self._watch()
        finally:
            if pidfd is not None:
                os.close(pidfd)
        if self.warm is not None:
            status, cpu_s = self.warm.result()
        else:
            _, status, usage = os.wait4(self.pid, 0)
            self.proc.returncode = os.waitstatus_to_exitcode(status)  # type: ignore[union-attr]
            cpu_s = usage.ru_utime + usage.ru_stime
        wall = time.monotonic() - self.start
        if self.uid is not None:
            self._kill_rest()  # the PID namespace is gone with its init; this is the belt
        elif self.warm is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # best effort: whatever stayed in the group
            except (ProcessLookupError, PermissionError):
                pass
        for r in self.readers:
            r.join(timeout=2.0)
        for st in self.streams:
            st.close()  # type: ignore[union-attr]
        out, err = self.readers[0].text(), self.readers[1].text()
        oom = self.over_memory
        # Not ru_maxrss: a process's maxrss starts at its parent's RSS when it execs (here, the
        # host's), so it says nothing about the candidate. The cgroup's peak, or the watchdog's.
        peak = self.peak_tree_bytes
        if self.cgroup is not None:
            oom = oom or self.cgroup.oom_killed()
            peak = max(peak, self.cgroup.peak_bytes())
            self.cgroup.remove()
        if self.lease is not None:
            self.lease.release()
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        if exit_code == JAIL_EXIT and "syslab-jail:" in err:
            line = next(ln for ln in err.splitlines() if "syslab-jail:" in ln)
            raise SandboxError(f"process sandbox setup failed: {line.split('syslab-jail:', 1)[1].strip()}")
        if self.over_disk:
            err += f"\nsyslab: scratch dir over its {limits.max_scratch_mb} MB cap; killed"
        self._result = SandboxResult(
            exit_code=exit_code,
            signal=signum,
            stdout=out,
            stderr=err,
            stdout_truncated=self.readers[0].truncated,
            stderr_truncated=self.readers[1].truncated,
            timed_out=timed_out,
            oom_killed=oom,
            wall_s=wall,
            cpu_s=cpu_s,
            peak_rss_mb=peak / (1024 * 1024),
            isolation=self.sandbox.isolation(),
        )
        return self._result


class ProcessSandbox:
    """Runs a command as a confined local process. See the module docstring for the layers."""

    name = "process"

    def __init__(self) -> None:
        self.root = os.geteuid() == 0

    def isolation(self) -> dict[str, bool | str]:
        abi = _landlock_abi()
        cgroup = memory_parent() if self.root else None
        return {
            "backend": "process",
            "uid_drop": self.root,
            "netns": self.root,
            "pidns": self.root,
            "mountns": self.root,
            "ipcns": self.root,
            "landlock": abi >= 1,
            "landlock_abi": str(abi),
            "landlock_net": abi >= 4,
            "landlock_scope": abi >= 6,
            "rlimits": True,
            "seccomp": os.uname().machine in ("x86_64", "aarch64"),
            "nproc_limit": self.root,
            "env_scrub": True,
            "memory_limit": f"cgroup {cgroup[0]}" if cgroup else "rss watchdog (50 ms)",
            "scratch": "tmpfs (size-capped)" if self.root else "host dir (file size rlimit, size watched)",
            "orphan_kill": "pidns" if self.root else "subreaper (best effort)",
        }

    def channel(self) -> ChannelEnds:
        """Two pipes (a same-core wakeup through a pipe is cheaper than through a socket)."""
        to_cand_r, to_cand_w = os.pipe()
        to_trusted_r, to_trusted_w = os.pipe()
        return ChannelEnds(
            trusted_fds=[to_trusted_r, to_cand_w],
            trusted_spec=f"{to_trusted_r},{to_cand_w}",
            candidate_fds=[to_cand_r, to_trusted_w],
            candidate_env={"SYSLAB_CHANNEL_FD": f"{to_cand_r},{to_trusted_w}"},
        )

    def _config(
        self, workdir: Path, limits: Limits, mounts: list[Mount], uid: int | None, cgroup: MemoryCgroup | None
    ) -> dict:
        mb = 1024 * 1024
        rlimits = {
            "RLIMIT_AS": limits.memory_mb * mb,
            "RLIMIT_CPU": math.ceil(limits.cpu_s if limits.cpu_s is not None else limits.timeout_s + 1),
            "RLIMIT_FSIZE": min(limits.max_file_mb, limits.max_scratch_mb) * mb,
            "RLIMIT_NOFILE": limits.max_open_files,
            "RLIMIT_CORE": 0,
        }
        if uid is not None:  # only meaningful per uid; unprivileged, it would count all our processes
            rlimits["RLIMIT_NPROC"] = limits.max_processes
        runtime = list(runtime_read_paths()) + [str(candidate_site())]
        read = SYSTEM_READ + runtime + [str(m.host) for m in mounts if not m.writable]
        write = [str(workdir)] + DEV_WRITE + [str(m.host) for m in mounts if m.writable]
        if uid is not None:
            write.append("/dev/shm")  # a private tmpfs inside the mount namespace
        if limits.gpu:
            write += [f"/dev/{d}" for d in os.listdir("/dev") if d.startswith(("nvidia", "dri", "kfd"))]
        expose = runtime + [str(workdir)] + [str(m.host) for m in mounts]
        return {
            "uid": uid,
            "gid": uid,
            "workdir": str(workdir),
            "scratch_mb": limits.max_scratch_mb if uid is not None else None,
            "network": limits.network,
            "landlock": _landlock_abi() >= 1,
            "read": read,
            "write": write,
            "expose": expose,
            "rlimits": rlimits,
            "cgroup_procs": cgroup.procs if cgroup else None,
            "cpus": limits.cpus,
        }

    def start(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
        template: Template | None = None,
    ) -> ProcessRun:
        """Start `cmd` confined; with a warm `template`, its payload is forked from it instead
        (the same layers, see template.py) and `cmd` only names what runs."""
        workdir = Path(workdir).resolve()
        mounts = [Mount(host=Path(m.host).resolve(), writable=m.writable) for m in mounts or []]
        child_env = scrubbed_env(workdir, env, gpu=limits.gpu)
        child_env["PYTHONPATH"] = str(candidate_site())
        lease = _UidLease() if self.root else None
        cgroup = MemoryCgroup.create(limits.memory_mb * 1024 * 1024) if self.root else None
        try:
            if lease is not None:
                os.chown(workdir, lease.uid, lease.uid)
            cfg = self._config(workdir, limits, mounts, lease.uid if lease else None, cgroup)
            argv = [sys.executable, "-I", "-S", str(JAIL), json.dumps(cfg), "--", *cmd]
            warm = None
            if template is not None:
                req = {"jail": cfg, "env": child_env, "fd_numbers": list(pass_fds), "argv0": cmd[-1]}
                warm = (template, req)
            return ProcessRun(self, argv, workdir, limits, child_env, tuple(pass_fds), lease, cgroup, warm)
        except BaseException:
            if lease is not None:
                lease.release()
            if cgroup is not None:
                cgroup.remove()
            raise

    def run(
        self,
        cmd: list[str],
        workdir: Path,
        limits: Limits,
        mounts: list[Mount] | None = None,
        env: dict[str, str] | None = None,
    ) -> SandboxResult:
        return self.start(cmd, workdir, limits, mounts, env).wait()
