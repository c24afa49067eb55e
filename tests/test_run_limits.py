"""A metric's `max_in_runs`: `syslab eval` scores the candidate, a run rejects it and never builds on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.errors import SyslabError
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

QUADRATIC = Path(__file__).parent / "fixtures" / "tasks" / "quadratic"
LIMIT = 12.0  # the seed returns 8.5; the target is 42, so the search pushes `value` past the limit


def limited_task(tmp_path: Path, limit: float = LIMIT) -> Path:
    task = tmp_path / "quadratic"
    shutil.copytree(QUADRATIC, task)
    toml = (task / "task.toml").read_text()
    toml = toml.replace(
        '[metrics.value]\ndirection = "maximize"',
        f'[metrics.value]\ndirection = "maximize"\nmax_in_runs = {limit}',
    )
    assert "max_in_runs" in toml
    (task / "task.toml").write_text(toml)
    return task


def config(tmp_path: Path) -> RunConfig:
    return RunConfig.model_validate(
        {
            "out": str(tmp_path / "runs"),
            "progress": False,
            "proposer": "mutate",
            "seed": 3,
            "budget": {"evaluations": 24},
        }
    )


def test_a_run_rejects_candidates_over_the_limit_and_never_builds_on_them(tmp_path: Path) -> None:
    result = run_evolution(limited_task(tmp_path), config(tmp_path))
    store = RunStore.open(result.run_dir, readonly=True)
    nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis and n.metrics]
    over = [n for n in nodes if n.metrics["value"] > LIMIT]
    assert over, "the mutator pushed no candidate past the limit: the test proves nothing"
    for n in over:
        assert not n.valid and n.score is None and n.failure_kind == "wrong_answer"
        assert "value = " in n.failure_message and "max_in_runs" in n.failure_message
    rejected = {n.id for n in over}
    assert all(n.parent_id not in rejected for n in store.nodes())  # never a parent
    best = store.best_node()
    assert best is not None and best.metrics["value"] <= LIMIT
    assert result.best_score == pytest.approx(-abs(best.metrics["value"] - 42.0))


def test_eval_scores_what_a_run_rejects(tmp_path: Path) -> None:
    task = load_task(limited_task(tmp_path))
    code = task.seed_code.replace("a = 1.5", "a = 10.0")  # value 34: over the limit
    result = evaluate_program(task, code, ProcessSandbox())
    assert result.ok and result.metrics["value"] == pytest.approx(34.0)
    assert task.run_limit_breach(result.metrics) is not None
    assert task.run_limit_breach({"value": LIMIT, "distance": 1.0}) is None  # at the limit is allowed


def test_a_seed_over_the_limit_stops_the_run_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(
        SyslabError, match=r"seed program failed evaluation \(wrong_answer: value = 8.5 is above 5"
    ):
        run_evolution(limited_task(tmp_path, limit=5.0), config(tmp_path))


@pytest.mark.parametrize(
    "problem, metric",
    [
        ("cloudcast", "undelivered"),
        ("cant_be_late", "deadline_misses"),
        ("cant_be_late_multi", "deadline_misses"),
    ],
)
def test_adrs_runs_reject_what_the_leaderboard_scores_leniently(problem: str, metric: str) -> None:
    """LEVI's cloudcast file leaves 80 partitions undelivered, GEPA's cant_be_late file finishes 66 runs late:
    scored as published by `syslab eval`, rejected in an evolution run."""
    task = load_task(Path(__file__).parents[1] / "benchmarks" / "adrs" / problem)
    assert task.run_limit_breach({"score": 90.0, metric: 0.0}) is None
    breach = task.run_limit_breach({"score": 90.0, metric: 1.0})
    assert breach is not None and breach.startswith(f"{metric} = 1 is above 0")
