"""Red team 3: the warm templates (syslab/sandbox/template.py, warm.py), attacked by candidates.

Every evaluation here forks from the warm templates (each test checks that the task's candidate
and trusted templates in `warm.POOL` served it: their `uses` grew, or a new one did). The attacks:
a warm child confined less than a cold one, or holding a descriptor of the waiter (status pipe)
or the template (control socket); an evaluator's import-time files rebound to the channel in the
trusted child; an earlier candidate's traces in the template's memory; random state shared by the
children of one template, on either side; a candidate that outlives its waiter; a template killed
under a run; signals and paths towards the templates; interpreter state planted for the next
child. The three holes found (import-time files and generators of the evaluator, the template
parsing requests in its own heap) are fixed: templates holding files or their own generators after
import are never forked (those tasks start cold), and requests are parsed only after the fork.
Fixtures: tests/fixtures/hostile/redteam3/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from syslab.sandbox.warm import POOL, TEMPLATE_ROOT
from syslab.task import Task, load_task

from .hostile_support import (
    FAMILIES,
    FIXTURES,
    Family,
    Outcome,
    RecordingProcessSandbox,
    build,
    honest_result,
    outcome_error,
    run_hostile,
    with_limits,
)
from .test_hostile_persist import CHANNELS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="warm templates are used only as root")

SANDBOX = RecordingProcessSandbox()
R3 = "../redteam3/"  # attack snippets, relative to the split/ snippets build() reads
WARM = Family("warm", FIXTURES / "hostile" / "redteam3" / "warm_task", R3 + "honest_warm")
FD = Family("warm_fd", FIXTURES / "hostile" / "redteam3" / "fd_task", R3 + "honest_fd")
DECISION = FAMILIES["decision"]
UIDS = range(61000, 62000)
OTHERS_CHANNEL = re.compile(r"shared entry owned by a sandbox uid: /tmp/syslab-chan-[a-z0-9_]{8}$")


# -- helpers ---------------------------------------------------------------------------------


def templates(task: Task) -> dict[str, tuple[int, int]]:
    """(pid, uses) of the candidate and trusted templates `task`'s evaluations fork from."""
    spec = task.spec.sandbox
    imports = tuple(spec.warm_imports if spec.cpus == 1 else [])
    found = {}
    for key, pid_uses in POOL.live().items():
        if (key[0] == "candidate" and key[2] == imports) or (
            key[0] == "trusted" and key[2] == str(task.root)
        ):
            found[key[0]] = pid_uses
    return found


def assert_ran_warm(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> None:
    for kind in ("candidate", "trusted"):
        assert kind in after, f"no warm {kind} template after the run: it started cold"
        pid, uses = after[kind]
        prior = before[kind][1] if kind in before and before[kind][0] == pid else 0
        assert uses > prior, f"the {kind} template did not serve the run ({prior} -> {uses} uses)"


def run_warm(task: Task, code: str, temp_root: Path | None) -> Outcome:
    before = templates(task)
    out = run_hostile(task, code, SANDBOX, temp_root)
    assert_ran_warm(before, templates(task))
    assert out.result.artifacts.get("sandbox_start") == "warm", out.result.artifacts
    return out


def problems(out: Outcome) -> list[str]:
    """What the run left on the host, less other test runs' Docker channel dirs (/tmp/syslab-chan-*,
    owned by nobody): the process backend never makes one (its channel is two pipes), and its
    candidates cannot write in /tmp."""
    return [p for p in out.problems if not OTHERS_CHANNEL.search(p)]


def printed(text: str, tag: str) -> Any:
    """The JSON after `tag` on the last line that starts with it."""
    lines = [ln for ln in text.splitlines() if ln.startswith(tag + " ")]
    assert lines, f"no {tag} line in {text[-800:]!r}"
    return json.loads(lines[-1][len(tag) + 1 :])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- a warm child is confined exactly as a cold one --------------------------------------------


def test_warm_candidate_confined_like_a_cold_one(temp_root: Path) -> None:
    """Fails if a layer is missing from the forked child (uid, caps, no_new_privs, seccomp,
    rlimits, Landlock, pid/mount namespaces, cgroup, CPUs, env) or if `template._place` lets a
    host descriptor through (the waiter's status pipe, the template's control socket): the probe
    then writes a forged waiter report to it and leaks."""
    code = build(DECISION, R3 + "w_probe", TEMPLATE_ROOT=TEMPLATE_ROOT)
    honest = honest_result(DECISION, SANDBOX)
    warm = run_warm(DECISION.task(), code, temp_root)
    cold = run_hostile(with_limits(DECISION.task(), warm=False), code, SANDBOX, temp_root)
    for out in (warm, cold):
        assert outcome_error(out, honest, DECISION, {"honest"}) is None, outcome_error(
            out, honest, DECISION, {"honest"}
        )
        assert problems(out) == [], problems(out)
    pw = printed(warm.result.evidence.stdout, "RT3-PROBE")
    pc = printed(cold.result.evidence.stdout, "RT3-PROBE")
    uids = {pw["status"].pop(k) for k in ("Uid", "Gid")} | {pc["status"].pop(k) for k in ("Uid", "Gid")}
    for ids in uids:
        assert len(set(ids.split())) == 1 and int(ids.split()[0]) in UIDS, ids
    assert pw["pid"] == 1 and pw["processes"] == [1] and pw["ppid"] == 0  # PID 1 of its own namespace
    assert pw["fd_numbers"] == sorted({0, 1, 2, *pw["channel_fds"]}), pw["fd_numbers"]
    assert pw["status"]["CapEff"] == pw["status"]["CapPrm"] == "0000000000000000"
    assert pw["status"]["NoNewPrivs"] == "1" and pw["status"]["Seccomp"] == "2"
    assert pw["list_templates"] != "allowed" and pw["write_templates"] != "allowed"
    assert pw["cwd_is_scratch"] and pw["memory_cgroup"] == [["syslab", str(os.getpid())]]
    # The address-space limit is the cold one plus what the template had mapped (the same room).
    assert pw["rlimits"].pop("RLIMIT_AS")[0] >= pc["rlimits"].pop("RLIMIT_AS")[0]
    for key in pc:
        if key not in ("fd_numbers", "channel_fds"):  # the host's channel numbers may differ
            assert pw[key] == pc[key], f"{key}: warm {pw[key]} != cold {pc[key]}"


def test_trusted_child_holds_no_template_descriptor(temp_root: Path) -> None:
    """The trusted child is forked from the trusted template (root, unconfined by design): its
    descriptors must be those of a cold trusted process (stdio, the control socket, the two channel
    pipes). Fails if the template's SOCK_SEQPACKET control socket, a waiter's status pipe or any
    other template descriptor survives `template._place`."""
    code = build(WARM)
    warm = run_warm(WARM.task(), code, temp_root)
    cold = run_hostile(with_limits(WARM.task(), warm=False), code, SANDBOX, temp_root)
    for out in (warm, cold):
        assert out.result.valid and out.result.metrics["solved"] == 1.0, out.message
        assert problems(out) == [], problems(out)
    tw = printed(warm.result.evidence.evaluator_stdout, "TRUSTED-PROBE")
    tc = printed(cold.result.evidence.evaluator_stdout, "TRUSTED-PROBE")
    assert tw["others"] == ["pipe", "pipe", "socket AF_UNIX SOCK_STREAM"], tw["others"]
    assert tw == tc, f"warm {tw} != cold {tc}"


def test_evaluator_files_opened_at_import_stay_theirs(temp_root: Path) -> None:
    """The evaluator keeps three files open from its import on and reads its answer file after the
    candidate replied; the candidate writes its own answer, as a line, into its channel a moment
    after replying. Warm must score what cold scores: the real answer file, never the candidate's
    pipe (solved 0.0, files_intact 1.0). Fails today either way the host numbers its descriptors:
    rebound (the forged answer scores 1.0) or closed (EBADF: evaluator error). The defence: a
    template that holds files after its imports is never forked; such a task starts cold."""
    code = build(FD, R3 + "w_fdforge")
    cold = run_hostile(with_limits(FD.task(), warm=False), code, SANDBOX, temp_root)
    assert cold.result.valid and cold.result.metrics == {"solved": 0.0, "files_intact": 1.0}, cold.message
    warm = run_hostile(FD.task(), code, SANDBOX, temp_root)
    assert warm.result.artifacts.get("sandbox_start") == "cold", warm.result.artifacts
    assert any("files left open" in why for why in POOL._refused.values()), POOL._refused
    assert warm.result.valid, f"warm: {warm.kind}: {warm.message}"
    assert warm.result.metrics == cold.result.metrics, (
        f"warm {warm.result.metrics} != cold {cold.result.metrics}"
    )
    assert problems(warm) == [], problems(warm)


# -- nothing of one candidate reaches the next -------------------------------------------------


def memscan(earlier: list[str]) -> str:
    marker = "rt3-mark-" + os.urandom(6).hex()
    return build(DECISION, R3 + "w_memscan", MARKER=marker, EARLIER_HEX=json.dumps(earlier).encode().hex())


def test_no_trace_of_an_earlier_candidate_in_memory(temp_root: Path) -> None:
    """Each child is a copy of the template, which received every earlier request. Fails if the
    template still holds an earlier run's request (scratch dir, cgroup) or ever held a program: a
    later candidate then finds the earlier one's names or marker in its own memory and leaks. Three
    victim/attacker pairs, as the template's heap differs from one run to the next."""
    task = DECISION.task()
    honest = honest_result(DECISION, SANDBOX)
    for _ in range(3):
        first = run_warm(task, memscan([]), temp_root)
        assert first.result.valid, first.message
        ident = printed(first.result.evidence.stdout, "RT3-IDENT")
        second = run_warm(task, memscan([ident["scratch"], ident["cgroup"], ident["marker"]]), temp_root)
        error = outcome_error(second, honest, DECISION, {"honest"})
        assert error is None, error
        scan = printed(second.result.evidence.stdout, "RT3-SCAN")
        assert scan == {"control": True, "searched": 3}, f"the search saw not even its own run: {scan}"
        assert problems(second) == [], problems(second)


@pytest.fixture(scope="module")
def rng_pair() -> tuple[Outcome, Outcome]:
    """Two warm evaluations of w_rng: the second built with what the first drew and was sent."""
    task = WARM.task()
    first = run_warm(task, build(WARM, R3 + "w_rng", EARLIER=None), None)
    assert first.result.valid, first.message
    earlier = {
        "own": printed(first.result.evidence.stdout, "RT3-OWN"),
        "trusted": printed(first.result.evidence.stdout, "RT3-SEEN"),
    }
    second = run_warm(task, build(WARM, R3 + "w_rng", EARLIER=repr(earlier)), None)
    return first, second


def test_candidate_random_state_fresh_per_child(rng_pair: tuple[Outcome, Outcome]) -> None:
    """Fails if the candidate child's generators are not reseeded after the fork (numpy's global
    one does not reseed itself): the second candidate then draws what the first drew, and leaks."""
    first, second = rng_pair
    assert "LEAK" not in second.message, second.message
    assert second.result.valid, second.message
    assert printed(first.result.evidence.stdout, "RT3-OWN") != printed(
        second.result.evidence.stdout, "RT3-OWN"
    )


def test_trusted_global_random_state_fresh_per_child(rng_pair: tuple[Outcome, Outcome]) -> None:
    """An evaluator drawing its challenge from `random` or numpy's global generator: fails if the
    trusted child is not reseeded after the fork (the second candidate, told the first one's
    challenge, would predict its own)."""
    _, second = rng_pair
    assert second.result.valid, second.message
    assert second.result.metrics["global_rng_predicted"] == 0.0
    assert second.result.metrics["global_np_predicted"] == 0.0


def test_trusted_import_time_random_state_fresh_per_child(tmp_path: Path) -> None:
    """Generators an evaluator module makes at import (random.Random(), np.random.default_rng())
    would be made once in a trusted template and copied into every warm evaluation, so each would
    draw the same 'fresh' challenge. The defence: such a template is never forked (cold starts);
    fails if the run is warm or the second candidate, told the first one's draws, predicts its own."""
    root = tmp_path / "warm_task"
    shutil.copytree(WARM.task().root, root)
    (root / "IMPORT_RNG").write_text("make the generators at import\n")
    task = load_task(root)
    first = run_hostile(task, build(WARM, R3 + "w_rng", EARLIER=None), SANDBOX, None)
    assert first.result.valid, first.message
    earlier = {
        "own": printed(first.result.evidence.stdout, "RT3-OWN"),
        "trusted": printed(first.result.evidence.stdout, "RT3-SEEN"),
    }
    second = run_hostile(task, build(WARM, R3 + "w_rng", EARLIER=repr(earlier)), SANDBOX, None)
    assert second.result.artifacts.get("sandbox_start") == "cold", second.result.artifacts
    assert second.result.valid, second.message
    assert second.result.metrics["import_rng_predicted"] == 0.0
    assert second.result.metrics["import_np_predicted"] == 0.0


def test_no_interpreter_state_carried_between_warm_children(temp_root: Path) -> None:
    """Plant in one warm child, probe in the next: interpreter state (builtins, sys.modules, env,
    sys.path, numpy options, recursion limit, signal handlers, re cache, umask, gc) and every
    f_persist channel (IPC objects, keys, files). Fails if a child's state reaches the template (or
    a child is reused) and so the next child."""
    task = DECISION.task()
    token = os.urandom(4).hex()
    honest = honest_result(DECISION, SANDBOX)
    for mode in ("plant", "probe"):
        code = build(DECISION, "f_persist", R3 + "w_plant", MODE=mode, TOKEN=token, CHANNELS=CHANNELS)
        out = run_warm(task, code, temp_root)
        error = outcome_error(out, honest, DECISION, {"honest"})
        assert error is None, f"{mode}: {error}"
        assert problems(out) == [], f"{mode}: {problems(out)}"


# -- the templates themselves ----------------------------------------------------------------


def test_candidate_cannot_reach_the_templates(temp_root: Path) -> None:
    """SIGKILL to everything it may signal and to pids 1..4095, a look at /proc and the templates'
    directory. Fails if the child shares the templates' pid namespace or uid (they would die, or
    show in /proc) or Landlock lets it list the templates' directory."""
    task = DECISION.task()
    honest_result(DECISION, SANDBOX)  # the templates exist before the attack
    before = templates(task)
    out = run_warm(task, build(DECISION, R3 + "w_reach", TEMPLATE_ROOT=TEMPLATE_ROOT), temp_root)
    error = outcome_error(out, honest_result(DECISION, SANDBOX), DECISION, {"honest"})
    assert error is None, error
    after = templates(task)
    for kind, (pid, _) in before.items():
        assert after[kind][0] == pid and alive(pid), f"the {kind} template died or was replaced"
    assert problems(out) == [], problems(out)


def test_candidate_that_outlives_its_waiter_is_killed(temp_root: Path) -> None:
    """The candidate drops its death signal (so the waiter's SIGKILL does not take it along), leaves
    a detached grandchild and hangs. Fails if only the waiter is killed at the timeout: the
    candidate (PID 1 of its namespace) would live on with its uid, in its cgroup."""
    out = run_warm(WARM.task(), build(WARM, R3 + "w_orphan"), temp_root)
    assert out.kind == "timeout", f"{out.kind}: {out.message}"
    assert problems(out) == [], problems(out)


@pytest.mark.parametrize("kind", ["candidate", "trusted"])
def test_template_killed_mid_run(kind: str, temp_root: Path) -> None:
    """SIGKILL the task's candidate (or trusted) template while an evaluation forked from it runs.
    Fails if the run dies with its template (wrong result, leftovers), or if the pool hands the
    dead template to the next evaluation (that one would stall and start cold) instead of a new,
    equally confined one."""
    task = WARM.task()
    honest_result(WARM, SANDBOX)  # both templates started
    before = templates(task)
    result: list[Outcome] = []
    runner = threading.Thread(
        target=lambda: result.append(
            run_hostile(task, build(WARM, R3 + "w_slow", SLEEP_S=1.0), SANDBOX, temp_root)
        )
    )
    runner.start()
    deadline = time.monotonic() + 10
    while templates(task).get(kind, (0, 0))[1] <= before[kind][1] and time.monotonic() < deadline:
        time.sleep(0.005)
    assert runner.is_alive(), "the evaluation ended before the template could be killed under it"
    os.kill(before[kind][0], signal.SIGKILL)
    runner.join(timeout=30)
    assert result, "the evaluation did not finish"
    out = result[0]
    assert out.result.valid and out.result.metrics["solved"] == 1.0, f"{out.kind}: {out.message}"
    assert problems(out) == [], problems(out)
    after = run_warm(task, build(WARM, R3 + "w_probe", TEMPLATE_ROOT=TEMPLATE_ROOT), temp_root)
    assert templates(task)[kind][0] != before[kind][0], "the dead template was not replaced"
    assert after.result.valid, after.message
    probe = printed(after.result.evidence.stdout, "RT3-PROBE")
    assert (
        probe["status"]["Seccomp"] == "2"
        and probe["pid"] == 1
        and int(probe["status"]["Uid"].split()[0]) in UIDS
    )
