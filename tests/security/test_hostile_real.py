"""Red team on the bundled split tasks (examples/bin_packing, examples/load_balancer).

The mini fixtures cover every attack class cheaply; here the attacks that depend on a real
task's evaluator and adapter run against it (and the load-time ones against a bundled one-shot
solver, ADRS txn_scheduling, whose workload data stays on the trusted side's $SYSLAB_DATA): the scorer search (stack walk, heap scan for the
hidden trace with code swap), non-finite scores, the read attack, lying objects and out-of-range
integers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    RecordingProcessSandbox,
    build,
    honest_result,
    other_channel,
    outcome_error,
    read_attack_subs,
    run_hostile,
)

SANDBOX = RecordingProcessSandbox()
REAL = ["bin_packing", "load_balancer"]
# id -> (snippets, substitutions, allowed outcomes)
ATTACKS = {
    # The patches and trace hooks of a_patch_scorer cost ~30 us per call on the shared core (25,000
    # calls here); they are family-independent and run on every mini family instead.
    "A-scorer_search": (("a_stack_walk", "a_gc_scan"), {}, {"honest"}),
    "C-inf": (("c_nonfinite",), {"VALUE": 'float("inf")'}, {"invalid_output"}),
    "H-reads_and_sockets": (("h_reads",), {}, {"honest"}),
    "I-liar_objects": (("i_forged_types",), {"VARIANT": "liar"}, {"invalid_output"}),
    "I-huge_integers": (("i_bigint",), {}, {"invalid_output"}),
}


DATA = Path(os.environ.get("SYSLAB_DATA", "/work/shared/data"))
CASES = [(a, f) for a in sorted(ATTACKS) for f in REAL] + [
    (a, "txn_scheduling") for a in ("A-scorer_search", "H-reads_and_sockets")
]


@pytest.mark.parametrize("attack,family_name", CASES)
def test_hostile_candidate_on_bundled_task(
    attack: str, family_name: str, temp_root: Path, env_canary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = FAMILIES[family_name]
    task = family.task()
    if task.spec.data:
        if not (DATA / task.spec.data[0]).exists():
            pytest.skip(f"ADRS data not present at {DATA} (see syslab.data for where to get it)")
        monkeypatch.setenv("SYSLAB_DATA", str(DATA))
    snippets, subs, allowed = ATTACKS[attack]
    subs = {**subs, "CANARY": os.urandom(8).hex()}
    with other_channel() as path:
        if attack.startswith("H-"):
            subs.update(read_attack_subs(task.root, temp_root, [path], env_canary))
        out = run_hostile(task, build(family, *snippets, **subs), SANDBOX, temp_root)
    error = outcome_error(out, honest_result(family, SANDBOX), family, allowed)
    assert error is None, error
    assert out.problems == [], out.problems
