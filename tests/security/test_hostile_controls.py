"""Controls for the red-team suite: each attack does detect what it looks for when it is there.

Without these, an attack that silently broke (a typo, a changed runtime) would make every
"held" in the matrix meaningless. Each control points an attack at something the candidate may
legitimately reach and expects the LEAK it reports.
"""

from __future__ import annotations

import os
from pathlib import Path

from .hostile_support import FAMILIES, RecordingProcessSandbox, build, run_hostile

SANDBOX = RecordingProcessSandbox()
FAMILY = FAMILIES["decision"]


def leak_of(code: str, temp_root: Path) -> str:
    out = run_hostile(FAMILY.task(), code, SANDBOX, temp_root)
    assert out.problems == [], out.problems
    return out.message


def test_read_attack_reports_a_readable_file(temp_root: Path) -> None:
    subs = {"READS": ["/etc/hostname"], "SOCKETS": [], "GLOBS": [], "ENV_CANARY": os.urandom(8).hex()}
    assert "LEAK: read /etc/hostname" in leak_of(build(FAMILY, "h_reads", **subs), temp_root)


def test_memory_attack_reports_a_tree_within_the_limit(temp_root: Path) -> None:
    message = leak_of(build(FAMILY, "g_fork_memory", N=2, MB=60), temp_root)
    assert "LEAK: 2 children held 120 MB together" in message


def test_persistence_probe_finds_what_was_planted_in_the_same_run(temp_root: Path) -> None:
    channels = ["sysv_shm", "sysv_sem", "sysv_msg", "posix_shm"]
    code = build(FAMILY, "f_persist", MODE="both", TOKEN=os.urandom(4).hex(), CHANNELS=channels)
    message = leak_of(code, temp_root)
    assert all(f"{c}:" in message for c in channels), message


def test_heap_scan_finds_a_marker_the_candidate_holds(temp_root: Path) -> None:
    code = (
        build(FAMILY, "a_gc_scan") + '\nSECRET = {"x": "syslab-hidden-" + "future:held-by-the-candidate"}\n'
    )
    message = leak_of(code, temp_root)
    assert "LEAK: " in message and "hidden marker" in message, message
