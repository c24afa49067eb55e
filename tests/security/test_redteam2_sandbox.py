"""Red team 2 on the process sandbox: io_uring does, without the syscalls seccomp filters, what the
filter is there to refuse.

The seccomp layer refuses socket(AF_UNIX) (Landlock does not govern connect(), so a world-writable
socket of a host service would be reachable) and sched_setaffinity (the CPU lease). io_uring is
not filtered: IORING_OP_SOCKET + IORING_OP_CONNECT make and connect a unix socket, and an
IORING_SETUP_SQ_AFF polling thread is pinned by the kernel to any CPU the candidate names.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    RecordingProcessSandbox,
    accepted,
    build,
    honest_result,
    open_host_socket,
    other_channel,
    outcome_error,
    run_hostile,
)

SANDBOX = RecordingProcessSandbox()
FAMILY = FAMILIES["decision"]


def test_host_service_socket_unreachable_through_io_uring(temp_root: Path) -> None:
    """A world-writable socket of a host service, and another evaluation's Docker channel socket
    (that one is held today by its directory's mode, 0700)."""
    with open_host_socket() as (path, listener), other_channel() as channel:
        code = build(FAMILY, "../redteam2/uring_connect", SOCKETS=[path, channel])
        out = run_hostile(FAMILY.task(), code, SANDBOX, temp_root)
        connected = accepted(listener)
    error = outcome_error(out, honest_result(FAMILY, SANDBOX), FAMILY, {"honest", "sandbox_violation"})
    assert error is None and not connected, error or "HOLE: the candidate connected to the host's socket"
    assert out.problems == [], out.problems


def test_io_uring_polling_thread_stays_in_the_cpu_lease(temp_root: Path) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: there is no CPU outside the lease to escape to")
    out = run_hostile(FAMILY.task(), build(FAMILY, "../redteam2/sqpoll_cpus"), SANDBOX, temp_root)
    error = outcome_error(out, honest_result(FAMILY, SANDBOX), FAMILY, {"honest", "sandbox_violation"})
    assert error is None, error
    assert out.problems == [], out.problems
