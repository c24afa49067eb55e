"""Red team, class F: state that outlives one evaluation and reaches the next.

The same hostile program is evaluated twice (a different run uid each time, as in a real run):
first it plants a marker through an IPC or storage channel, then it probes for it and leaks what
it finds. The second evaluation must score exactly as the honest candidate, and neither may leave
an object on the host (SysV IPC, kernel keys, shared files, processes).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    RecordingProcessSandbox,
    build,
    honest_result,
    outcome_error,
    run_hostile,
)

SANDBOX = RecordingProcessSandbox()
CHANNELS = [
    "sysv_shm",
    "sysv_sem",
    "sysv_msg",
    "posix_shm",
    "posix_mq",
    "abstract_socket",
    "keyring",
    "files",
]
KEYCTL_INVALIDATE = 21


@pytest.fixture
def token() -> str:
    """A marker unique to the test; whatever a candidate planted under it is removed afterwards."""
    value = os.urandom(4).hex()
    yield value
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    with open("/proc/keys") as f:
        for line in f:
            if f"syslab-rt-{value}" in line:
                libc.syscall(250, KEYCTL_INVALIDATE, ctypes.c_long(int(line.split()[0], 16)))


def plant_then_probe(family_name: str, channels: list[str], token: str, temp_root: Path) -> None:
    family = FAMILIES[family_name]
    task = family.task()
    honest = honest_result(family, SANDBOX)
    outs = []
    for mode in ("plant", "probe"):
        code = build(family, "f_persist", MODE=mode, TOKEN=token, CHANNELS=channels)
        outs.append(run_hostile(task, code, SANDBOX, temp_root))
    for mode, out in zip(("plant", "probe"), outs, strict=True):
        error = outcome_error(out, honest, family, {"honest"})
        assert error is None, f"{mode}: {error}"
    for mode, out in zip(("plant", "probe"), outs, strict=True):
        assert out.problems == [], f"{mode}: {out.problems}"


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_state_carried_to_the_next_evaluation(channel: str, token: str, temp_root: Path) -> None:
    plant_then_probe("decision", [channel], token, temp_root)


@pytest.mark.parametrize("family_name", ["oneshot", "stateful", "kernel"])
def test_no_state_carried_any_family(family_name: str, token: str, temp_root: Path) -> None:
    plant_then_probe(family_name, CHANNELS, token, temp_root)
