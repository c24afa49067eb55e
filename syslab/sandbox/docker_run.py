"""A started sandbox container: output drained and capped, usage probed, killed at the timeout.

Used by DockerSandbox (docker.py): `DockerRun.wait()` enforces the timeout,
collects stdout/stderr (demultiplexed from the attach stream), peak memory and
CPU time from the container's cgroup, whether it was OOM-killed, and removes
the container.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from syslab.sandbox.base import Limits, SandboxResult

MB = 1024 * 1024


class _Drain(threading.Thread):
    """Read a demultiplexed attach stream to its end, keeping at most `cap` bytes per stream."""

    def __init__(self, stream, cap: int):  # noqa: ANN001 - a docker SDK generator
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.parts: tuple[list[bytes], list[bytes]] = ([], [])
        self.kept = [0, 0]
        self.truncated = [False, False]

    def run(self) -> None:
        try:
            for pair in self.stream:
                for i, data in enumerate(pair):
                    if not data:
                        continue
                    room = self.cap - self.kept[i]
                    if room > 0:
                        self.parts[i].append(data[:room])
                        self.kept[i] += min(room, len(data))
                    if len(data) > room:
                        self.truncated[i] = True
        except Exception:  # noqa: BLE001 - the socket closes under us when the container is killed
            pass

    def text(self, i: int) -> str:
        return b"".join(self.parts[i]).decode("utf-8", errors="replace")


class _CgroupProbe(threading.Thread):
    """Poll the container's cgroup for peak memory and CPU time until stopped."""

    def __init__(self, cid: str, interval_s: float = 0.05):
        super().__init__(daemon=True)
        self.cid, self.interval_s = cid, interval_s
        self.peak_bytes = 0
        self.cpu_ns = 0
        self.stop = threading.Event()

    def _paths(self) -> tuple[str | None, str | None]:
        c = self.cid
        mem = [
            f"/sys/fs/cgroup/memory/docker/{c}/memory.max_usage_in_bytes",
            f"/sys/fs/cgroup/memory/system.slice/docker-{c}.scope/memory.max_usage_in_bytes",
            f"/sys/fs/cgroup/docker/{c}/memory.peak",
            f"/sys/fs/cgroup/system.slice/docker-{c}.scope/memory.peak",
        ]
        cpu = [
            f"/sys/fs/cgroup/cpuacct/docker/{c}/cpuacct.usage",
            f"/sys/fs/cgroup/cpu,cpuacct/docker/{c}/cpuacct.usage",
            f"/sys/fs/cgroup/cpuacct/system.slice/docker-{c}.scope/cpuacct.usage",
            f"/sys/fs/cgroup/docker/{c}/cpu.stat",
            f"/sys/fs/cgroup/system.slice/docker-{c}.scope/cpu.stat",
        ]
        return next((p for p in mem if os.path.exists(p)), None), next(
            (p for p in cpu if os.path.exists(p)), None
        )

    def run(self) -> None:
        mem, cpu = self._paths()
        while mem or cpu:
            try:
                if mem:
                    self.peak_bytes = max(self.peak_bytes, int(Path(mem).read_text().split()[0]))
                if cpu:
                    text = Path(cpu).read_text()
                    if cpu.endswith("cpu.stat"):  # cgroup v2: "usage_usec N" on the first line
                        self.cpu_ns = int(text.split()[1]) * 1000
                    else:
                        self.cpu_ns = int(text.strip())
            except (OSError, ValueError, IndexError):
                break  # the cgroup is gone: the container has exited
            if self.stop.wait(self.interval_s):
                break


class DockerRun:
    """A started container: `wait()` enforces the timeout, collects output and removes it."""

    def __init__(self, sandbox: Any, cid: str, limits: Limits):  # sandbox: a DockerSandbox
        self.sandbox, self.cid, self.limits = sandbox, cid, limits
        api = sandbox.client.api
        stream = api.attach(cid, stdout=True, stderr=True, stream=True, logs=False, demux=True)
        self.drain = _Drain(stream, limits.max_output_bytes)
        self.drain.start()
        self.start = time.monotonic()
        api.start(cid)
        self.probe = _CgroupProbe(cid)
        self.probe.start()
        self.killed = False
        self._result: SandboxResult | None = None

    def kill(self) -> None:
        if self._result is not None:
            return
        self.killed = True
        try:
            self.sandbox.client.api.kill(self.cid)  # SIGKILL to PID 1: the PID namespace goes with it
        except Exception:  # noqa: BLE001 - it may have exited just now
            pass

    def wait(self, grace_s: float | None = None) -> SandboxResult:
        if self._result is not None:
            return self._result
        try:
            self._result = self._wait(grace_s)
        finally:
            self.sandbox._remove(self.cid)
        return self._result

    def _wait(self, grace_s: float | None) -> SandboxResult:
        import requests

        api, limits = self.sandbox.client.api, self.limits
        limit = self.start + limits.timeout_s
        deadline = limit if grace_s is None else min(limit, time.monotonic() + grace_s)
        timed_out = False
        status: int | None = None
        try:
            left = max(deadline - time.monotonic(), 0.001)
            status = int(api.wait(self.cid, timeout=left)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = deadline >= limit and not self.killed
            self.kill()
            status = int(api.wait(self.cid, timeout=30)["StatusCode"])
        wall = time.monotonic() - self.start
        self.probe.stop.set()
        self.probe.join(timeout=1.0)
        self.drain.join(timeout=5.0)
        state = api.inspect_container(self.cid).get("State", {})
        oom = bool(state.get("OOMKilled"))
        exit_code: int | None = status
        signum: int | None = None
        if timed_out or (status is not None and 128 < status <= 128 + 64):
            exit_code, signum = None, (status - 128 if status and status > 128 else 9)
        peak_mb = probe_mb = self.probe.peak_bytes / MB
        if oom:  # the cgroup hit its limit: report it so the failure is classified as memory
            peak_mb = max(probe_mb, float(limits.memory_mb))
        return SandboxResult(
            exit_code=exit_code,
            signal=signum,
            stdout=self.drain.text(0),
            stderr=self.drain.text(1),
            stdout_truncated=self.drain.truncated[0],
            stderr_truncated=self.drain.truncated[1],
            timed_out=timed_out,
            oom_killed=oom,
            wall_s=wall,
            cpu_s=self.probe.cpu_ns / 1e9,
            peak_rss_mb=peak_mb,
            isolation=self.sandbox.isolation(),
        )
