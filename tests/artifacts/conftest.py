"""A real finished run of the quadratic fixture task, made once and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syslab.config import RunConfig
from syslab.run import run_evolution

QUADRATIC = Path(__file__).resolve().parents[1] / "fixtures" / "tasks" / "quadratic"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_run(task_dir: Path, out: Path, evaluations: int = 12) -> Path:
    cfg = RunConfig.model_validate(
        {
            "out": str(out),
            "progress": False,
            "proposer": "mutate",
            "seed": 1,
            "budget": {"evaluations": evaluations},
        }
    )
    return Path(run_evolution(task_dir, cfg).run_dir)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(QUADRATIC, tmp_path_factory.mktemp("runs"))


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / finished_run.name
    shutil.copytree(finished_run, dst)
    return dst
