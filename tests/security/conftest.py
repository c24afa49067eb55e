"""Sandbox backends available on this host, for the hostile-candidate suite.

`sandbox_backend` is parametrised over every backend: "process" always runs,
"docker" skips with the reason when no engine is reachable (or the base image
cannot be built). The Docker base image is built at most once per test session.
"""

from __future__ import annotations

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
