"""Red team in the Docker sandbox: the attacks whose defence differs per backend, on decision_mini.

Scorer attacks and codec attacks do not depend on the backend (the trusted side is the same);
what does is the container's confinement: files and links, disk, memory and CPU of the tree,
state across evaluations, reads and sockets. Skipped (by the docker_sandbox fixture) when no
engine is reachable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .hostile_support import (
    FAMILIES,
    accepted,
    build,
    honest_result,
    open_host_socket,
    other_channel,
    outcome_error,
    read_attack_subs,
    run_hostile,
)
from .test_hostile_persist import CHANNELS
from .test_hostile_wire import FRAMES

pytestmark = pytest.mark.docker
FAMILY = FAMILIES["decision"]
# id -> (snippets, substitutions, allowed outcomes)
ATTACKS = {
    "A-gc_scan_code_swap": (("a_gc_scan",), {}, {"honest"}),
    "B-forge_files_then_exit": (("b_forge_exit",), {}, {"runtime"}),
    "D-links_fifos_dirs": (("d_links",), {}, {"honest"}),
    "E-deep_tree_many_files": (("e_deep_tree",), {}, {"honest"}),
    "E-fill_every_writable_place": (("e_fill",), {}, {"honest"}),
    "G-fork_memory": (("g_fork_memory",), {"N": 4, "MB": 100}, {"honest", "memory"}),
    "G-cpus": (("g_cpus",), {"CPUS": 1}, {"honest"}),
    "H-reads_and_sockets": (("h_reads",), {}, {"honest"}),
    "I-huge_reply": (("i_huge",), {"VARIANT": "bytes", "MB": 4}, {"invalid_output"}),
    "I-depth_bomb_frame": (
        ("i_wire_frame",),
        {"FRAME": repr(FRAMES["depth_bomb"][0]), "WHY": "depth"},
        {"invalid_output"},
    ),
}


@pytest.fixture(scope="module")
def sandbox(docker_sandbox):  # noqa: ANN001, ANN201 - a DockerSandbox that records its containers
    """The session's DockerSandbox settings, remembering each container id (to check it was removed)."""
    from syslab.sandbox.docker import DockerSandbox

    class RecordingDockerSandbox(DockerSandbox):
        def __init__(self) -> None:
            super().__init__(image=docker_sandbox.image)
            self.cids: list[str] = []

        def start(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - the parent's signature
            run = super().start(*args, **kwargs)
            self.cids.append(run.cid)
            return run

    return RecordingDockerSandbox()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_candidate_in_docker(
    attack: str,
    sandbox,
    temp_root: Path,
    tmp_path: Path,
    env_canary: str,  # noqa: ANN001
) -> None:
    task = FAMILY.task()
    canary = tmp_path / "canary.txt"
    canary.write_text("host canary")
    snippets, subs, allowed = ATTACKS[attack]
    subs = {**subs, "CANARY": canary, "TOKEN": os.urandom(4).hex()}
    with other_channel() as path:
        if attack.startswith("H-"):
            subs.update(read_attack_subs(task.root, temp_root, [path], env_canary))
        out = run_hostile(task, build(FAMILY, *snippets, **subs), sandbox, temp_root)
    error = outcome_error(out, honest_result(FAMILY, sandbox), FAMILY, allowed)
    assert error is None, error
    assert out.problems == [], out.problems
    assert canary.read_text() == "host canary"
    if attack == "G-fork_memory":
        assert out.result.peak_rss_mb <= task.spec.sandbox.memory_mb * 1.05, out.result.peak_rss_mb


def test_no_state_carried_to_the_next_evaluation(sandbox, temp_root: Path) -> None:  # noqa: ANN001
    token = os.urandom(4).hex()
    honest = honest_result(FAMILY, sandbox)
    for mode in ("plant", "probe"):
        code = build(FAMILY, "f_persist", MODE=mode, TOKEN=token, CHANNELS=CHANNELS)
        out = run_hostile(FAMILY.task(), code, sandbox, temp_root)
        error = outcome_error(out, honest, FAMILY, {"honest"})
        assert error is None, f"{mode}: {error}"
        assert out.problems == [], f"{mode}: {out.problems}"


def test_host_service_socket_unreachable(sandbox, temp_root: Path) -> None:  # noqa: ANN001
    with open_host_socket() as (path, listener):
        subs = {"READS": [], "SOCKETS": [path], "GLOBS": [], "ENV_CANARY": os.urandom(8).hex()}
        out = run_hostile(FAMILY.task(), build(FAMILY, "h_reads", **subs), sandbox, temp_root)
        connected = accepted(listener)
    error = outcome_error(out, honest_result(FAMILY, sandbox), FAMILY, {"honest"})
    assert error is None and not connected, error or "the candidate connected to the host's socket"
    assert out.problems == [], out.problems
