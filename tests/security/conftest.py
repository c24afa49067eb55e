"""Sandbox backends available on this host, for the hostile-candidate suite.

`sandbox_backend` is parametrised over every backend: "process" always runs,
"docker" skips with the reason when no engine is reachable (or the base image
cannot be built). The Docker base image is built at most once per test session.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from syslab.sandbox.base import Sandbox


@pytest.fixture(scope="session")
def docker_sandbox() -> Sandbox:
    from syslab.sandbox.images import docker_ready

    ok, detail = docker_ready()
    if not ok:
        pytest.skip(f"no Docker engine: {detail}")
    from syslab.sandbox.docker import DockerSandbox

    return DockerSandbox(image=detail)


@pytest.fixture(scope="session", params=["process", "docker"])
def sandbox_backend(request: pytest.FixtureRequest) -> Sandbox:
    if request.param == "docker":
        return request.getfixturevalue("docker_sandbox")
    from syslab.sandbox.process import ProcessSandbox

    return ProcessSandbox()


@pytest.fixture
def temp_root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp dir for everything the harness makes (scratch, trusted and channel dirs)."""
    root = tmp_path_factory.mktemp("redteam")
    os.chmod(root, 0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def env_canary(monkeypatch: pytest.MonkeyPatch) -> str:
    """A value only the host's environment holds: no process the candidate can see may show it."""
    value = "canary-" + os.urandom(8).hex()
    monkeypatch.setenv("SYSLAB_REDTEAM_CANARY", value)
    return value
