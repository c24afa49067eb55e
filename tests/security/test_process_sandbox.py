"""Hostile candidates evaluated through the harness in the process sandbox: each is contained."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import pytest

from syslab.evaluators.base import FailureKind
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.base import Limits
from syslab.sandbox.process import ProcessSandbox
from syslab.task import Task, load_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ISO = ProcessSandbox().isolation()
needs_root = pytest.mark.skipif(
    not (ISO["uid_drop"] and ISO["netns"] and ISO["pidns"]),
    reason="needs root: uid drop, network and PID namespaces are only set up when the host runs as root",
)
needs_landlock = pytest.mark.skipif(not ISO["landlock"], reason="kernel has no Landlock")


@pytest.fixture(scope="module")
def task() -> Task:
    return load_task(FIXTURES / "tasks" / "hostile")


def hostile(name: str, **subs: object) -> str:
    code = (FIXTURES / "hostile" / f"{name}.py").read_text()
    for key, value in subs.items():
        code = code.replace(f"__{key}__", str(value))
    return code


def with_timeout(task: Task, timeout_s: float) -> Task:
    sandbox = task.spec.sandbox.model_copy(update={"timeout_s": timeout_s})
    return task.model_copy(update={"spec": task.spec.model_copy(update={"sandbox": sandbox})})


def report(result) -> dict:  # noqa: ANN001
    return result.artifacts.get("report", {})


def test_env_secrets_not_visible(task: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("SYSLAB_TEST_SECRET", secret)
    result = evaluate_program(task, hostile("env_secret"), ProcessSandbox())
    assert result.ok, result.failure
    seen = report(result)
    assert "PATH" in seen["env"]  # the candidate did report its environment
    assert "OPENAI_API_KEY" not in seen["env"] and "SYSLAB_TEST_SECRET" not in seen["env"]
    assert secret not in json.dumps(result.model_dump(mode="json"))


@needs_root
def test_no_network_to_host_loopback(task: Task) -> None:
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    try:
        result = evaluate_program(task, hostile("connect_out", PORT=port), ProcessSandbox())
        assert result.failure is not None
        assert result.failure.kind == FailureKind.sandbox_violation, result.failure
        for sock in (tcp, udp):
            sock.settimeout(0.2)
            with pytest.raises(socket.timeout):
                sock.accept() if sock is tcp else sock.recv(16)
    finally:
        tcp.close()
        udp.close()


@needs_landlock
def test_cannot_write_outside_scratch(task: Task, tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    name = f"syslab-escape-{secrets.token_hex(4)}"
    result = evaluate_program(task, hostile("write_outside", TARGET=target, NAME=name), ProcessSandbox())
    assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
    assert "Permission denied" in result.failure.message
    assert not target.exists()
    assert not Path("/root", name).exists()


@needs_root
def test_fork_bomb_contained(task: Task) -> None:
    start = time.monotonic()
    result = evaluate_program(with_timeout(task, 5), hostile("fork_bomb"), ProcessSandbox())
    assert result.failure is not None
    # Stopped by the task limit (256: threads count as tasks) or, first, by the tree's memory limit.
    kinds = (FailureKind.sandbox_violation, FailureKind.timeout, FailureKind.memory)
    assert result.failure.kind in kinds, result.failure
    assert time.monotonic() - start < 15
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def test_big_allocation_is_memory_failure(task: Task) -> None:
    result = evaluate_program(task, hostile("big_alloc"), ProcessSandbox())
    assert result.failure is not None and result.failure.kind == FailureKind.memory, result.failure


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


@needs_root
def test_timeout_kills_detached_grandchild(task: Task) -> None:
    marker = f"syslab-sleeper-{secrets.token_hex(6)}"
    start = time.monotonic()
    result = evaluate_program(
        with_timeout(task, 1.5), hostile("detached_sleeper", MARKER=marker), ProcessSandbox()
    )
    assert result.failure is not None and result.failure.kind == FailureKind.timeout, result.failure
    assert time.monotonic() - start < 10
    assert _processes_with(marker) == []


@needs_root
def test_cannot_read_secrets_or_run_files(task: Task, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("top secret")
    result = evaluate_program(task, hostile("read_secrets", SECRET_FILE=secret_file), ProcessSandbox())
    assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
    assert "/etc/shadow" in result.failure.message
    seen = json.loads(result.evidence.stdout.strip().splitlines()[0])
    assert seen["key_files"] == []  # the one-time key was deleted before candidate code ran
    assert seen[str(secret_file)].startswith("denied")
    assert seen["/root"] == [] or str(seen["/root"]).startswith("denied")  # /root is an empty tmpfs


def test_huge_stdout_is_capped(task: Task) -> None:
    result = evaluate_program(task, hostile("huge_stdout"), ProcessSandbox())
    assert result.ok, result.failure
    cap = task.spec.sandbox.max_output_bytes
    assert len(result.evidence.stdout) <= cap + 100
    assert "[stdout truncated]" in result.evidence.stdout


@needs_root
def test_cannot_signal_parent_or_host(task: Task) -> None:
    result = evaluate_program(task, hostile("signal_parent", HOSTPID=os.getpid()), ProcessSandbox())
    assert result.ok, result.failure  # the reporter (PID 1 of the sandbox) survived
    assert report(result)["host"].startswith("denied")  # not even visible from the sandbox


def test_forged_results_are_ignored(task: Task) -> None:
    result = evaluate_program(task, hostile("forge_result"), ProcessSandbox())
    assert not result.valid and result.score is None
    assert result.failure is not None and result.failure.kind == FailureKind.runtime
    assert result.metrics.get("ok") != 1e9


@needs_root
def test_sandbox_run_direct_limits(tmp_path: Path) -> None:
    """The sandbox itself (no harness): runs as the run uid, no network, output capped, timeout kills."""
    sb = ProcessSandbox()
    res = sb.run(["/bin/sh", "-c", "id -u; cat /proc/net/dev | wc -l"], tmp_path, Limits(timeout_s=5))
    uid, lines = res.stdout.split()
    assert res.exit_code == 0 and 61000 <= int(uid) < 62000
    assert int(lines) == 3  # header (2 lines) + loopback only: a fresh network namespace
    res = sb.run(["/bin/sh", "-c", "yes"], tmp_path, Limits(timeout_s=0.5, max_output_bytes=4096))
    assert res.timed_out and res.exit_code is None and res.stdout_truncated and len(res.stdout) == 4096


def test_a_uid_lease_released_twice_leaves_a_reused_fd_open(tmp_path):
    """The jail's setup-failure path releases the lease, and so may a cleanup after it: the second
    release must not close whatever file has since reused the lease's fd number."""
    from syslab.sandbox.process import _UidLease

    lease = _UidLease()
    lease.release()
    with open(tmp_path / "other", "w") as other:  # takes the lowest free fd: the lease's old one
        lease.release()
        os.fstat(other.fileno())  # still open
        other.write("kept")
    assert (tmp_path / "other").read_text() == "kept"
