"""A real finished run of the quadratic fixture task, made once and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from artifacts_support import QUADRATIC, make_run


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(QUADRATIC, tmp_path_factory.mktemp("runs"))


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / finished_run.name
    shutil.copytree(finished_run, dst)
    return dst
