"""Red team, attack classes A-I x the mini task families, evaluated for real in the process sandbox.

Each case builds a hostile candidate (an attack around the family's honest policy, see
hostile_support.py), evaluates it with `evaluate_program` (trusted process + sandboxed candidate)
and asserts two things: the result is the honest candidate's score or a failure of the right
kind (never a better score, never a LEAK), and the host is as it was (no processes, IPC objects,
keys, shared files, cgroups or temp dirs left behind, our memory not blown up).
Cross-evaluation state (class F) is in test_hostile_persist.py, raw channel frames in
test_hostile_wire.py, the bundled tasks in test_hostile_real.py, Docker in test_hostile_docker.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    MINI,
    RecordingProcessSandbox,
    accepted,
    build,
    honest_result,
    open_host_socket,
    other_channel,
    outcome_error,
    read_attack_subs,
    run_hostile,
    snippet,
)

SANDBOX = RecordingProcessSandbox()
ALL = frozenset(MINI)
# Variants of a class run on the cheap families; kernel_mini (1500 timed calls per evaluation) gets
# one representative attack per class (the ones with families=ALL).
CHEAP = frozenset({"decision", "oneshot", "stateful"})


@dataclass(frozen=True)
class Attack:
    id: str
    snippets: tuple[str, ...]
    allowed: frozenset[str]  # "honest" and/or failure kinds
    subs: dict = field(default_factory=dict, hash=False)
    families: frozenset[str] = CHEAP
    per_family: dict = field(default_factory=dict, hash=False)  # family -> allowed, where it differs


GATED = repr("\n".join(snippet(s) for s in ("a_stack_walk", "a_gc_scan", "a_patch_scorer")))
HONEST = frozenset({"honest"})
REJECTED = frozenset({"invalid_output", "wrong_answer"})


ATTACKS = [
    Attack("A-stack_walk", ("a_stack_walk",), HONEST),
    Attack("A-gc_scan_code_swap", ("a_gc_scan",), HONEST),
    Attack("A-patch_scorer_and_profile", ("a_patch_scorer",), HONEST),
    Attack("A-stage_gated", ("a_stage_gated",), HONEST, {"GATED": GATED}, ALL),
    Attack("B-forge_files_then_exit", ("b_forge_exit",), frozenset({"runtime"})),
    Attack("B-forge_control_frames", ("b_forge_frames",), frozenset({"invalid_output"}), families=ALL),
    Attack("B-stdout_claims", ("b_stdout_claims",), HONEST),
    Attack(
        "C-inf",
        ("c_nonfinite",),
        frozenset({"invalid_output"}),
        {"VALUE": 'float("inf")'},
        per_family={"oneshot": HONEST},
    ),
    Attack(
        "C-nan",
        ("c_nonfinite",),
        frozenset({"invalid_output"}),
        {"VALUE": 'float("nan")'},
        ALL,
        per_family={"oneshot": HONEST},
    ),
    Attack(
        "C-complex_inf", ("c_nonfinite",), frozenset({"invalid_output"}), {"VALUE": "complex(0, -math.inf)"}
    ),
    Attack("D-links_fifos_dirs", ("d_links",), HONEST, families=ALL),
    Attack("E-deep_tree_many_files", ("e_deep_tree",), HONEST),
    Attack("E-fill_every_writable_place", ("e_fill",), HONEST, families=ALL),
    Attack("G-fork_memory", ("g_fork_memory",), frozenset({"honest", "memory"}), {"N": 4, "MB": 100}, ALL),
    Attack("G-cpus", ("g_cpus",), HONEST, {"CPUS": 1}, families=frozenset({"decision", "kernel"})),
    Attack("H-reads_and_sockets", ("h_reads",), HONEST, families=ALL),
    Attack("I-liar_objects", ("i_forged_types",), REJECTED, {"VARIANT": "liar"}, ALL),
    Attack("I-container_subclass", ("i_forged_types",), REJECTED, {"VARIANT": "container"}),
    Attack(
        "I-class_spoof", ("i_forged_types",), frozenset({"invalid_output", "runtime"}), {"VARIANT": "spoof"}
    ),
    Attack("I-object_array", ("i_forged_types",), frozenset({"invalid_output"}), {"VARIANT": "object_array"}),
    Attack("I-object_graph", ("i_object_graph",), HONEST),
    Attack("I-huge_reply", ("i_huge",), frozenset({"invalid_output"}), {"VARIANT": "bytes", "MB": 4}),
    Attack("I-nested_reply", ("i_huge",), frozenset({"invalid_output"}), {"VARIANT": "nested", "MB": 4}),
]
CASES = [pytest.param(a, f, id=f"{a.id}-{f}") for a in ATTACKS for f in MINI if f in a.families]


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_text("host canary")
    return path


@pytest.mark.parametrize("attack,family_name", CASES)
def test_hostile_candidate(
    attack: Attack, family_name: str, temp_root: Path, canary: Path, env_canary: str
) -> None:
    family = FAMILIES[family_name]
    task = family.task()
    honest = honest_result(family, SANDBOX)
    subs = {**attack.subs, "CANARY": canary, "TOKEN": os.urandom(4).hex()}
    with other_channel() as path:
        if attack.id.startswith("H-"):
            subs.update(read_attack_subs(task.root, temp_root, [path], env_canary))
        out = run_hostile(task, build(family, *attack.snippets, **subs), SANDBOX, temp_root)
    allowed = attack.per_family.get(family_name, attack.allowed)
    error = outcome_error(out, honest, family, set(allowed))
    assert error is None, error
    assert out.problems == [], out.problems
    assert canary.read_text() == "host canary"
    budget = (
        sum(s.timeout_s or task.spec.sandbox.timeout_s for s in task.spec.stages)
        + task.spec.sandbox.timeout_s
    )
    assert out.wall_s < budget + 10, f"took {out.wall_s:.1f} s, past the wall-time budget"
    if attack.id.startswith("G-fork"):
        assert out.result.peak_rss_mb <= task.spec.sandbox.memory_mb * 1.05, out.result.peak_rss_mb


def test_host_service_socket_unreachable(temp_root: Path) -> None:
    """A unix socket any local user may use (a host service's: D-Bus, journald) is out of reach."""
    family = FAMILIES["decision"]
    with open_host_socket() as (path, listener):
        subs = {"READS": [], "SOCKETS": [path], "GLOBS": [], "ENV_CANARY": os.urandom(8).hex()}
        out = run_hostile(family.task(), build(family, "h_reads", **subs), SANDBOX, temp_root)
        connected = accepted(listener)
    error = outcome_error(out, honest_result(family, SANDBOX), family, {"honest"})
    assert error is None and not connected, error or "the candidate connected to the host's socket"
    assert out.problems == [], out.problems
