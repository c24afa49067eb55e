"""Hostile candidates evaluated through the harness in the Docker sandbox: each is contained.

The same attacks as test_process_sandbox.py (same fixture programs), plus a
disk-filling write; expectations differ where the container answers
differently (e.g. a host path is simply absent rather than denied).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from syslab.evaluators.base import FailureKind
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.base import Sandbox
from syslab.task import Task, load_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
pytestmark = pytest.mark.docker


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


def _sandbox_containers(sb: Sandbox) -> list[dict]:
    from syslab.sandbox.docker import LABEL

    return sb.client.api.containers(all=True, filters={"label": LABEL})  # type: ignore[attr-defined]


def test_env_secrets_not_visible(
    task: Task, docker_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("SYSLAB_TEST_SECRET", secret)
    result = evaluate_program(task, hostile("env_secret"), docker_sandbox)
    assert result.ok, result.failure
    seen = report(result)
    assert "PATH" in seen["env"]
    assert "OPENAI_API_KEY" not in seen["env"] and "SYSLAB_TEST_SECRET" not in seen["env"]
    assert secret not in json.dumps(result.model_dump(mode="json"))
    # A PID namespace: only the container's own processes are listed, none of the host's.
    assert str(os.getpid()) not in seen["proc_environ"] and len(seen["proc_environ"]) <= 4


def test_no_network_to_host_or_outside(task: Task, docker_sandbox: Sandbox) -> None:
    tcp = socket.socket()
    tcp.bind(("0.0.0.0", 0))
    tcp.listen(1)
    port = tcp.getsockname()[1]
    try:
        # The container's 127.0.0.1 is its own loopback: the host's server is not there.
        result = evaluate_program(task, hostile("connect_out", PORT=port), docker_sandbox)
        assert result.failure is not None and result.failure.kind == FailureKind.runtime, result.failure
        assert "Connection refused" in result.failure.message
        # Any other address (the docker bridge gateway, the internet) has no route at all.
        code = f"import socket\nsocket.create_connection(('172.17.0.1', {port}), timeout=2)\n"
        result = evaluate_program(task, code, docker_sandbox)
        assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
        assert "unreachable" in result.failure.message
        tcp.settimeout(0.2)
        with pytest.raises(socket.timeout):
            tcp.accept()
    finally:
        tcp.close()


def test_cannot_read_run_files_root_or_shadow(task: Task, docker_sandbox: Sandbox, tmp_path: Path) -> None:
    run_db = tmp_path / "syslab.db"  # stands in for the run's own SQLite file
    run_db.write_text("nodes, metrics and secrets of the run")
    result = evaluate_program(task, hostile("read_secrets", SECRET_FILE=run_db), docker_sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
    assert "/etc/shadow" in result.failure.message
    seen = json.loads(result.evidence.stdout.strip().splitlines()[0])
    assert seen["key_files"] == []  # the one-time key was consumed before candidate code ran
    assert seen[str(run_db)] == "denied: 2"  # not mounted: the host path does not exist in the container
    assert seen["/root"] == "denied: 13"  # the image's /root belongs to root; we are nobody


def test_cannot_write_outside_scratch(task: Task, docker_sandbox: Sandbox) -> None:
    name = f"syslab-escape-{secrets.token_hex(4)}"
    target = task.root / name  # the task dir is mounted, read-only
    result = evaluate_program(task, hostile("write_outside", TARGET=target, NAME=name), docker_sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
    assert "Read-only file system" in result.failure.message
    assert not target.exists() and not Path("/root", name).exists()


def test_fork_bomb_contained(task: Task, docker_sandbox: Sandbox) -> None:
    start = time.monotonic()
    result = evaluate_program(with_timeout(task, 5), hostile("fork_bomb"), docker_sandbox)
    assert result.failure is not None
    # Stopped by the pids limit (256: threads count as tasks) or, first, by the memory limit.
    kinds = (FailureKind.sandbox_violation, FailureKind.timeout, FailureKind.memory)
    assert result.failure.kind in kinds, result.failure
    assert time.monotonic() - start < 15
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def test_memory_bomb_is_memory_failure(task: Task, docker_sandbox: Sandbox) -> None:
    result = evaluate_program(task, hostile("big_alloc"), docker_sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.memory, result.failure


def test_disk_filling_write_is_capped(task: Task, docker_sandbox: Sandbox) -> None:
    free_before = shutil.disk_usage(tempfile.gettempdir()).free
    result = evaluate_program(task, hostile("fill_disk"), docker_sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.sandbox_violation
    assert "File too large" in result.failure.message or "No space left" in result.failure.message
    assert "blocked by the sandbox" in result.failure.message
    seen = json.loads(result.evidence.stdout.strip().splitlines()[0])
    assert seen["tmp"].startswith("stopped: 28")  # ENOSPC: /tmp is a small tmpfs
    # The scratch is a size-capped tmpfs inside the container: nothing reached the host's disk.
    assert shutil.disk_usage(tempfile.gettempdir()).free > free_before - 64 * 1024 * 1024


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except (OSError, ValueError):
            continue
    return found


def test_timeout_kills_loop_and_detached_grandchild(task: Task, docker_sandbox: Sandbox) -> None:
    marker = f"syslab-sleeper-{secrets.token_hex(6)}"
    start = time.monotonic()
    result = evaluate_program(
        with_timeout(task, 1.5), hostile("detached_sleeper", MARKER=marker), docker_sandbox
    )
    assert result.failure is not None and result.failure.kind == FailureKind.timeout, result.failure
    assert time.monotonic() - start < 10
    assert _processes_with(marker) == []
    assert _sandbox_containers(docker_sandbox) == []  # killed and removed


def test_huge_stdout_is_capped(task: Task, docker_sandbox: Sandbox) -> None:
    result = evaluate_program(task, hostile("huge_stdout"), docker_sandbox)
    assert result.ok, result.failure
    cap = task.spec.sandbox.max_output_bytes
    assert len(result.evidence.stdout) <= cap + 100
    assert "[stdout truncated]" in result.evidence.stdout


def test_cannot_signal_parent_or_host(task: Task, docker_sandbox: Sandbox) -> None:
    result = evaluate_program(task, hostile("signal_parent", HOSTPID=os.getpid()), docker_sandbox)
    assert result.ok, result.failure  # the reporter is PID 1 of the container: immune to SIGKILL from inside
    assert report(result)["host"].startswith("denied")  # the host PID does not exist in the container


def test_forged_results_are_ignored(task: Task, docker_sandbox: Sandbox) -> None:
    result = evaluate_program(task, hostile("forge_result"), docker_sandbox)
    assert not result.valid and result.score is None
    assert result.failure is not None and result.failure.kind == FailureKind.runtime
    assert result.metrics.get("ok") != 1e9


@pytest.mark.parametrize("attack", ["env_secret", "huge_stdout", "forge_result"])
def test_every_backend_contains(task: Task, sandbox_backend: Sandbox, attack: str) -> None:
    """Attacks whose outcome is the same on every backend, run against each one available."""
    result = evaluate_program(task, hostile(attack), sandbox_backend)
    if attack == "forge_result":
        assert result.failure is not None and result.failure.kind == FailureKind.runtime
    else:
        assert result.ok, result.failure
        assert "OPENAI_API_KEY" not in report(result).get("env", {})
