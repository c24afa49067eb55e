"""Helpers shared by the artifact tests (a uniquely named module: `conftest` names clash across test dirs)."""

from __future__ import annotations

from pathlib import Path

from syslab.config import RunConfig
from syslab.engine.run import run_evolution

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
