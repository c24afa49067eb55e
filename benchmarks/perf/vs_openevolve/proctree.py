"""Run a command and measure everything it starts: wall time, CPU (user+sys), peak summed RSS.

The command runs in a cgroup of its own in the cgroup-v1 `cpuacct` hierarchy (as root, where
one exists; every process it forks, orphans and daemons included, stays in it): CPU is the
group's `cpuacct.usage_user + usage_sys`, exact for processes that already exited too, and
the processes whose RSS is summed are the group's members. `getrusage(RUSAGE_CHILDREN)`
deltas are recorded beside it but are not the figure used: they miss every process whose
parent ignores SIGCHLD (the kernel reaps it and its usage is dropped), which syslab's warm
process templates do. Without a usable cpuacct hierarchy the rusage delta and the process
tree below this process (read from /proc) are used instead, and `cpu_method` says so.

RSS is sampled every `interval_s`; pages shared between forked processes are counted in
each of them, the same way for every framework.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from pathlib import Path

from pydantic import BaseModel, Field

CPUACCT = Path("/sys/fs/cgroup/cpuacct")
PAGE = os.sysconf("SC_PAGE_SIZE")


class Measurement(BaseModel):
    returncode: int
    wall_s: float
    cpu_s: float  # user + sys of everything the command started
    cpu_user_s: float
    cpu_sys_s: float
    cpu_method: str  # "cgroup cpuacct" | "rusage children"
    cpu_rusage_s: float  # getrusage(RUSAGE_CHILDREN) delta, for comparison
    peak_rss_mb: float  # peak of the summed RSS of its processes (sampled)
    peak_procs: int  # most processes seen at once
    samples: int
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]
    started_at: float  # epoch seconds when the command was started
    # (epoch seconds, CPU seconds so far) per sample, cgroup only: the CPU spent between two moments
    timeline: list[tuple[float, float]] = Field(default_factory=list, exclude=True)

    def cpu_at(self, when: float) -> float | None:
        """CPU seconds used by `when` (the nearest sample at or after it); None without a timeline."""
        later = [cpu for t, cpu in self.timeline if t >= when]
        if later:
            return later[0]
        return self.timeline[-1][1] if self.timeline else None


class CpuGroup:
    """A fresh cpuacct cgroup, or None from `make` where none can be created."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def make(cls, name: str) -> CpuGroup | None:
        if not (CPUACCT / "cgroup.procs").exists():
            return None
        path = CPUACCT / name
        try:
            path.mkdir()
            (path / "cpuacct.usage").write_text("0")
        except OSError:
            return None
        return cls(path)

    def wrap(self, cmd: list[str]) -> list[str]:
        """cmd, started by a shell that first moves itself into the group (no preexec_fn: we have threads)."""
        script = 'echo $$ > "$0" && exec "$@"'
        return ["/bin/sh", "-c", script, str(self.path / "cgroup.procs"), *cmd]

    def pids(self) -> list[int]:
        try:
            return [int(x) for x in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def cpu(self) -> tuple[float, float]:
        """(user, sys) seconds of every task that ran in the group."""
        user = int((self.path / "cpuacct.usage_user").read_text()) / 1e9
        system = int((self.path / "cpuacct.usage_sys").read_text()) / 1e9
        return user, system

    def drain(self, wait_s: float = 10.0) -> None:
        """Wait until the run's leftovers are gone (killed, by pid, after wait_s: they are the run's)."""
        deadline = time.monotonic() + wait_s
        while self.pids():
            if time.monotonic() > deadline:
                for pid in self.pids():
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
            time.sleep(0.05)

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0  # gone between listing and reading


def _ppid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rfind(b")") + 2 :].split()[1])  # the command name may hold spaces and ')'


def descendants(root: int) -> list[int]:
    """Every process below `root` (read from /proc); the fallback when there is no cgroup."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (ppid := _ppid(name)) is not None:
            children.setdefault(ppid, []).append(int(name))
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _cpu(r: resource.struct_rusage) -> tuple[float, float]:
    return r.ru_utime, r.ru_stime


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    timeout_s: float,
    interval_s: float = 0.05,
) -> Measurement:
    """Run cmd (output to log_path) and measure it; a run past timeout_s is killed (returncode -9)."""
    group = CpuGroup.make(f"syslab-bench-{os.getpid()}-{time.monotonic_ns()}")
    members = group.pids if group else (lambda: descendants(os.getpid()))
    load_before = os.getloadavg()
    peak, peak_procs, samples, done = 0, 0, 0, threading.Event()
    timeline: list[tuple[float, float]] = []
    before = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    started_at, t0 = time.time(), time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            group.wrap(cmd) if group else cmd,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def sample() -> None:
        nonlocal peak, peak_procs, samples
        while not done.is_set():
            pids = members()
            peak = max(peak, sum(_rss(p) for p in pids))
            peak_procs = max(peak_procs, len(pids))
            if group is not None:
                timeline.append((time.time(), sum(group.cpu())))
            samples += 1
            done.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        returncode = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        returncode = proc.wait()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    rusage = (after[0] - before[0], after[1] - before[1])
    if group is not None:
        group.drain()  # leftovers finish first, so their CPU is in the figures read next
        user, system = group.cpu()
        group.remove()
        method = "cgroup cpuacct"
    else:
        (user, system), method = rusage, "rusage children"
    return Measurement(
        returncode=returncode,
        wall_s=wall,
        cpu_s=user + system,
        cpu_user_s=user,
        cpu_sys_s=system,
        cpu_method=method,
        cpu_rusage_s=sum(rusage),
        peak_rss_mb=peak / 2**20,
        peak_procs=peak_procs,
        samples=samples,
        loadavg_before=load_before,
        loadavg_after=os.getloadavg(),
        started_at=started_at,
        timeline=timeline,
    )
