"""Red team on the bundled kernel family (benchmarks/kernels, split mode), on the CPU.

Without a GPU a kernel task is correctness-only in Triton's interpreter (no score, `correct` = 1),
and one evaluation takes seconds (torch and Triton load in both processes), so the attacks are
bundled: the load-time attacks in one candidate (scorer search and stack walk, the reads, forged
output), and a non-finite output in another (kernel tasks allow NaN to cross, so the
comparison with the reference must catch it). The timing side of the family is covered by
kernel_mini (test_hostile_matrix.py, test_hostile_wire.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    RecordingProcessSandbox,
    build,
    other_channel,
    outcome_error,
    read_attack_subs,
    run_hostile,
)

SANDBOX = RecordingProcessSandbox()
FAMILY = FAMILIES["kernel_row_mean"]
ATTACKS = {
    "A_B_D_H-load_time_bundle": (
        ("a_stack_walk", "a_gc_scan", "h_reads", "b_stdout_claims"),
        {},
        {"honest"},
    ),
    "C-nan_output": (("c_nonfinite",), {"VALUE": "math.nan"}, {"wrong_answer", "invalid_output"}),
}


@pytest.fixture
def env_canary(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "canary-" + os.urandom(8).hex()
    monkeypatch.setenv("SYSLAB_REDTEAM_CANARY", value)
    return value


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_kernel_candidate(attack: str, temp_root: Path, env_canary: str, tmp_path: Path) -> None:
    task = FAMILY.task()
    assert task.evaluation_mode == "split", "bundled kernel tasks must be split (verified scores)"
    canary = tmp_path / "canary.txt"
    canary.write_text("host canary")
    snippets, subs, allowed = ATTACKS[attack]
    subs = {**subs, "CANARY": canary}
    with other_channel() as path:
        subs.update(read_attack_subs(task.root, temp_root, [path], env_canary))
        out = run_hostile(task, build(FAMILY, *snippets, **subs), SANDBOX, temp_root)
    error = outcome_error(out, None, FAMILY, allowed)
    assert error is None, error
    assert out.problems == [], out.problems
    assert canary.read_text() == "host canary"
