"""A memory limit on a sandbox's whole process tree: a child cgroup of our own (v2 or v1).

`MemoryCgroup.create(limit_bytes)` makes `syslab-<random>` under the cgroup this
process lives in, with the memory (and swap) limit set; the process launcher
writes its pid to `procs` before it forks the candidate, so every descendant
and every page of its tmpfs scratch is charged there. Afterwards
`oom_killed()` says whether the kernel killed something for memory, and
`remove()` deletes the group. `create` returns None where no writable memory
controller is reachable (not root, a read-only /sys/fs/cgroup, a v2 parent
that does not delegate memory); the process sandbox then falls back to
summing the tree's resident memory itself (see process.py).
"""

from __future__ import annotations

import os
import secrets
import time
from functools import lru_cache
from pathlib import Path


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def _mounts() -> dict[str, Path]:
    """Mount point per cgroup hierarchy: "unified" (v2) and v1 controller names."""
    found: dict[str, Path] = {}
    for line in _read(Path("/proc/self/mountinfo")).splitlines():
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) < 5 or not extra:
            continue
        point = Path(fields[4])
        if extra[0] == "cgroup2":
            found.setdefault("unified", point)
        elif extra[0] == "cgroup" and len(extra) >= 3:
            for opt in extra[2].split(","):
                found.setdefault(opt, point)
    return found


@lru_cache(maxsize=1)
def memory_parent() -> tuple[str, Path] | None:
    """("v2" | "v1", directory of our own memory cgroup) if we can make children in it."""
    mounts = _mounts()
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        hid, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if "memory" in controllers.split(",") and "memory" in mounts:
            base = mounts["memory"] / rel
            if (base / "memory.limit_in_bytes").exists() and os.access(base, os.W_OK):
                return "v1", base
        if hid == "0" and "unified" in mounts:
            base = mounts["unified"] / rel
            if "memory" in _read(base / "cgroup.subtree_control").split() and os.access(base, os.W_OK):
                return "v2", base
    return None


def _reap_stale(base: Path) -> None:
    """Remove empty groups left by a syslab process that died before cleaning up (killed mid-run)."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if (
            len(parts) == 3
            and parts[0] == "syslab"
            and parts[1].isdigit()
            and not os.path.exists(f"/proc/{parts[1]}")
        ):
            try:
                os.rmdir(base / name)
            except OSError:
                pass  # still has processes, or another reaper was first


class MemoryCgroup:
    """One sandbox run's memory cgroup; see the module docstring."""

    def __init__(self, version: str, path: Path):
        self.version, self.path = version, path
        self.procs = str(path / "cgroup.procs")

    @classmethod
    def create(cls, limit_bytes: int) -> MemoryCgroup | None:
        parent = memory_parent()
        if parent is None:
            return None
        version, base = parent
        _reap_stale(base)
        path = base / f"syslab-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except OSError:
            return None
        group = cls(version, path)
        try:
            if version == "v1":
                (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                if (path / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit
                    (path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
            else:
                (path / "memory.max").write_text(str(limit_bytes))
                if (path / "memory.swap.max").exists():
                    (path / "memory.swap.max").write_text("0")
        except OSError:
            group.remove()
            return None
        return group

    def add(self, pid: int) -> bool:
        """Move a running process (and its future children) into the group."""
        try:
            with open(self.procs, "w") as f:
                f.write(str(pid))
            return True
        except OSError:
            return False

    def pids(self) -> list[int]:
        """Its live processes. A process cannot leave the group without write access to another
        group's cgroup.procs (root's), so for a sandbox this lists everything it started."""
        from syslab.sandbox.procs import live

        return live([int(x) for x in _read(Path(self.procs)).split() if x.isdigit()])

    def oom_killed(self) -> bool:
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        for line in _read(self.path / name).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def peak_bytes(self) -> int:
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        text = _read(self.path / name).strip()
        return int(text) if text.isdigit() else 0

    def remove(self, wait_s: float = 2.0) -> None:
        """rmdir the group (it empties once its last process is reaped)."""
        end = time.monotonic() + wait_s
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > end:
                    return  # left behind empty-to-be; harmless, and named syslab-<pid>-...
                time.sleep(0.01)
