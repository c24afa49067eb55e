"""Finding and killing a sandbox's processes through /proc (by uid, or by ancestry)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable


def _status(pid: str) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def uid_processes(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _status(name)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get("State", "").strip().startswith(
            "Z"
        ):
            found.append(int(name))
    return found


def descendants(root: int) -> list[int]:
    """`root` and every live process below it (by parent pid; a snapshot)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def live(pids: list[int]) -> list[int]:
    """Those of `pids` that are neither gone nor zombies."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            out.append(pid)
    return out


def kill_uid(uid: int, deadline_s: float = 2.0) -> None:
    """SIGKILL every process of the run uid until none is left (a belt to the PID namespace's braces)."""
    kill_all(lambda: uid_processes(uid), deadline_s)


def kill_all(find: Callable[[], list[int]], deadline_s: float = 2.0) -> None:
    """SIGKILL what `find()` lists until it lists nothing (or the deadline passes)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = find()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)
