"""Which CPUs an evaluation runs on: the least busy ones, leased per evaluation.

A split evaluation's trusted process and candidate process take turns (one
waits while the other works), so putting both on the same CPU costs nothing
in parallelism and makes each hand-over a same-core wakeup, several times
faster than waking a process on another core. The candidate gets as many
CPUs as the task declares (`[sandbox] cpus`, default 1, as a container gets
one CPU); concurrent evaluations of this process spread over the allowed set,
and separate syslab processes (Ray workers, several runs) start from
different CPUs. `SYSLAB_PIN_CPUS=0` turns pinning off (the host's scheduler
places both processes).
"""

from __future__ import annotations

import os
import random
import threading

_lock = threading.Lock()
_active: dict[int, int] = {}
_offset = random.Random(os.getpid()).randrange(1 << 16)  # this process's starting point among CPUs


def enabled() -> bool:
    return os.environ.get("SYSLAB_PIN_CPUS", "1") not in ("0", "false", "no")


def lease(n: int) -> list[int]:
    """The `n` allowed CPUs with the fewest evaluations on them now (all of them if fewer); [] if off."""
    if not enabled():
        return []
    allowed = sorted(os.sched_getaffinity(0))
    start = _offset % len(allowed)
    with _lock:
        order = sorted(
            range(len(allowed)), key=lambda i: (_active.get(allowed[i], 0), (i - start) % len(allowed))
        )
        chosen = [allowed[i] for i in order[: max(1, n)]]
        for c in chosen:
            _active[c] = _active.get(c, 0) + 1
    return sorted(chosen)


def release(cpus: list[int]) -> None:
    with _lock:
        for c in cpus:
            left = _active.get(c, 0) - 1
            if left > 0:
                _active[c] = left
            else:
                _active.pop(c, None)
