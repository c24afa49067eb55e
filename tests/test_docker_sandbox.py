"""The Docker sandbox itself (no harness) and the registry-free images it runs."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from syslab.errors import SpecError
from syslab.sandbox.base import Limits
from syslab.sandbox.executor import EvalJob, run_eval_job
from syslab.sandbox.images import apt_mirror
from syslab.task import load_task

HOSTILE_TASK = Path(__file__).resolve().parent / "fixtures" / "tasks" / "hostile"


@pytest.fixture(scope="module")
def sandbox():
    from syslab.sandbox.images import docker_ready

    ok, detail = docker_ready()
    if not ok:
        pytest.skip(f"no Docker engine: {detail}")
    from syslab.sandbox.docker import DockerSandbox

    return DockerSandbox(image=detail)


def test_apt_mirror_reads_both_source_formats(tmp_path: Path) -> None:
    deb822 = tmp_path / "debian.sources"
    deb822.write_text("Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    one_line = tmp_path / "sources.list"
    one_line.write_text("# comment\ndeb [arch=amd64] http://other.example/debian bookworm main\n")
    assert apt_mirror([deb822]) == "http://mirror.example/debian"
    assert apt_mirror([one_line]) == "http://other.example/debian"
    assert apt_mirror([tmp_path / "missing"]) == "http://deb.debian.org/debian"


@pytest.mark.docker
def test_unprivileged_offline_read_only(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    script = (
        "id -u; wc -l < /proc/net/dev; touch /etc/x 2>&1 || echo ro-root; "
        "echo data > out.txt && echo scratch-ok; echo t > /tmp/t && echo tmp-ok; "
        "env | grep -c OPENAI || true"
    )
    (tmp_path / "in.txt").write_text("input-ok\n")  # the host's files are copied into the scratch
    script += "; cat in.txt"
    res = sandbox.run(["/bin/sh", "-c", script], tmp_path, Limits(timeout_s=10))
    lines = res.stdout.split("\n")
    assert res.exit_code == 0, res.stderr
    assert lines[0] == "65534"
    assert lines[1] == "3"  # header (2 lines) + loopback only: no network interface
    assert "Read-only file system" in lines[2] or "ro-root" in res.stdout
    assert "scratch-ok" in res.stdout and "tmp-ok" in res.stdout
    assert "input-ok" in res.stdout
    assert not (tmp_path / "out.txt").exists()  # the scratch is a tmpfs: nothing reaches the host's disk
    assert "sk-must-not-leak" not in res.stdout + res.stderr
    iso = sandbox.isolation()
    assert (
        iso["backend"] == "docker"
        and iso["read_only_root"]
        and iso["netns"]
        and iso["user"].startswith("65534")
    )


@pytest.mark.docker
def test_timeout_kills_and_removes_the_container(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    from syslab.sandbox.docker import LABEL

    start = time.monotonic()
    res = sandbox.run(["sleep", "30"], tmp_path, Limits(timeout_s=1.0))
    assert res.timed_out and res.exit_code is None and res.signal == 9
    assert time.monotonic() - start < 8
    assert sandbox.client.api.containers(all=True, filters={"label": LABEL}) == []


@pytest.mark.docker
def test_streams_are_separate_and_capped(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    cmd = ["/bin/sh", "-c", "echo to-err >&2; head -c 3000000 /dev/zero | tr '\\0' y; exit 3"]
    res = sandbox.run(cmd, tmp_path, Limits(timeout_s=20, max_output_bytes=4096))
    assert res.exit_code == 3 and not res.timed_out
    assert res.stdout == "y" * 4096 and res.stdout_truncated
    assert res.stderr == "to-err\n" and not res.stderr_truncated


@pytest.mark.docker
def test_memory_measured_and_capped(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    grow = "import time; b = bytearray(200 * 2**20); time.sleep(0.3); print(len(b))"
    res = sandbox.run(["python3", "-c", grow], tmp_path, Limits(timeout_s=20, memory_mb=512))
    assert res.exit_code == 0 and res.stdout.strip() == str(200 * 2**20)
    assert res.peak_rss_mb >= 190  # read from the container's cgroup while it ran
    res = sandbox.run(
        ["python3", "-c", "b = bytearray(900 * 2**20)"], tmp_path, Limits(timeout_s=20, memory_mb=512)
    )
    assert res.exit_code == 1 and "MemoryError" in res.stderr


@pytest.mark.docker
def test_run_eval_job_uses_docker(sandbox) -> None:  # noqa: ANN001
    job = EvalJob(node_id=1, task_dir=str(HOSTILE_TASK), code="import os\nREPORT = {'uid': os.getuid()}\n")
    result = run_eval_job(job.model_copy(update={"sandbox": "docker"}))
    assert result.ok, result.failure
    assert result.artifacts["report"]["uid"] == (65534 if os.geteuid() == 0 else os.getuid())


@pytest.mark.docker
def test_task_requirements_become_an_image_layer(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    from syslab.sandbox.docker import DockerSandbox
    from syslab.sandbox.images import ensure_task_image

    task_dir = tmp_path / "reqtask"
    shutil.copytree(HOSTILE_TASK, task_dir)
    (task_dir / "task.toml").write_text(
        (HOSTILE_TASK / "task.toml").read_text().replace('"hostile"', '"reqtask"')
    )
    (task_dir / "requirements.txt").write_text("# a tiny pure-Python wheel\ntomli==2.0.1\n")
    task = load_task(task_dir)
    try:
        tag = ensure_task_image(task)
    except Exception as e:  # noqa: BLE001 - PyPI unreachable is an environment fact, not a failure here
        if "pip install" in str(e):
            pytest.skip(f"cannot fetch the wheel from PyPI: {e}")
        raise
    assert tag.startswith("syslab-task-reqtask:") and ensure_task_image(task) == tag
    res = DockerSandbox(image=tag).run(
        ["python3", "-c", "import tomli, numpy; print(tomli.loads('a = 1')['a'])"],
        tmp_path,
        Limits(timeout_s=20),
    )
    assert res.exit_code == 0 and res.stdout.strip() == "1", res.stderr
    sandbox.client.images.remove(tag, force=True)


@pytest.mark.docker
def test_missing_task_image_is_a_spec_error(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    from syslab.sandbox.images import ensure_task_image

    task_dir = tmp_path / "imgtask"
    shutil.copytree(HOSTILE_TASK, task_dir)
    toml = (HOSTILE_TASK / "task.toml").read_text().replace('"hostile"', '"imgtask"')
    (task_dir / "task.toml").write_text(toml + 'image = "no-such-image:1"\n')  # appended under [sandbox]
    with pytest.raises(SpecError, match=r"task.toml: sandbox.image: image 'no-such-image:1' is not present"):
        ensure_task_image(load_task(task_dir))


@pytest.mark.docker
def test_task_dockerfile_is_built_locally(sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    from syslab.sandbox.docker import DockerSandbox
    from syslab.sandbox.images import ensure_task_image

    task_dir = tmp_path / "dftask"
    shutil.copytree(HOSTILE_TASK, task_dir)
    toml = (HOSTILE_TASK / "task.toml").read_text().replace('"hostile"', '"dftask"')
    (task_dir / "task.toml").write_text(toml + 'dockerfile = "Dockerfile"\n')  # appended under [sandbox]
    (task_dir / "Dockerfile").write_text("FROM syslab-base:py3\nRUN echo built-here > /etc/syslab-marker\n")
    tag = ensure_task_image(load_task(task_dir))
    assert tag.startswith("syslab-task-dftask:")
    res = DockerSandbox(image=tag).run(["cat", "/etc/syslab-marker"], tmp_path, Limits(timeout_s=20))
    assert res.exit_code == 0 and res.stdout == "built-here\n", res.stderr
    sandbox.client.images.remove(tag, force=True)
