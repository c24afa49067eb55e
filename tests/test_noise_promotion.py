"""Noise-aware promotion in the run loop (syslab.engine.contest): a lucky measurement does not become the best.

The runs go through the real loop, store and resume; the proposer is scripted (a fixed list of
programs, each with a true quality) and the executor returns a scripted measurement for the n-th
run of a program: true quality plus that run's noise. So each run is exact and the test can say
which candidate truly was better.
"""

from __future__ import annotations

import collections
import re
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

import syslab.agents.select as agent_select
import syslab.engine.run as run_module
from syslab.agents.base import Proposal, ProposalRequest
from syslab.agents.select import Agents
from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import resume_run, run_evolution
from syslab.evaluators.base import EvaluationResult, Failure, FailureKind

SEED_QUALITY = 10.0
# quality -> the noise of its 1st, 2nd, 3rd, ... measurement
NOISE = {
    10.0: [0.0, 0.1, -0.1],  # the seed
    9.0: [3.0, 0.1, -0.1],  # A: truly worse, lucky first measurement (12.0)
    11.0: [0.0, 0.1, -0.1],  # B: truly better
    11.3: [0.0, -1.5, 1.5],  # D: higher mean than B, but within its own noise
    12.0: [0.0, 0.1, -0.1],  # E: truly better than B
}


def program(quality: float) -> str:
    return f"# EVOLVE-BLOCK-START\nQUALITY = {quality}\n# EVOLVE-BLOCK-END\n"


def quality_of(code: str) -> float:
    return float(re.search(r"QUALITY = ([-\d.]+)", code)[1])  # type: ignore[index]


class TableExecutor:
    """Measurement n of a program = its quality + NOISE[quality][n]; counts every submission."""

    name = "table"

    def __init__(self) -> None:
        self.runs: collections.Counter[float] = collections.Counter()
        self.fail_repeats_of: set[float] = set()

    def submit(self, job: Any) -> Future[EvaluationResult]:
        q = quality_of(job.code)
        n = self.runs[q]
        self.runs[q] += 1
        f: Future[EvaluationResult] = Future()
        if n > 0 and q in self.fail_repeats_of:
            fail = Failure(kind=FailureKind.runtime, message="flaky")
            f.set_result(EvaluationResult(failure=fail, wall_s=0.01))
            return f
        noise = NOISE.get(q, [0.0])
        value = q + noise[n % len(noise)]
        f.set_result(
            EvaluationResult(metrics={"score": value}, score=value, valid=True, stage="evaluate", wall_s=0.01)
        )
        return f

    def shutdown(self) -> None:
        pass


class ScriptedProposer:
    name = "scripted"

    def __init__(self, qualities: list[float]):
        self.qualities = list(qualities)

    def propose(self, request: ProposalRequest) -> Proposal:
        if not self.qualities:
            return Proposal(failure=Failure(kind=FailureKind.llm_error, message="script exhausted"))
        return Proposal(code=program(self.qualities.pop(0)), operator="scripted")


def make_task(root: Path, noise: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "seed.py").write_text(program(SEED_QUALITY))
    (root / "evaluate.py").write_text("def evaluate(program_path):\n    raise AssertionError('not run')\n")
    (root / "task.toml").write_text(
        f'name = "noisy_table"\ndescription = "maximise QUALITY"\n[metrics.score]\nprimary = true\n{noise}\n'
    )
    return root


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every run and resume in the test gets the scripted proposer and the table executor."""
    state: dict[str, Any] = {"executor": TableExecutor(), "script": []}

    def agents(config: RunConfig, task: Any, resume_store: Any = None) -> Agents:
        return Agents("mutate", "scripted", ScriptedProposer(state["script"]), None)

    monkeypatch.setattr(agent_select, "build_agents", agents)
    monkeypatch.setattr(run_module, "make_executor", lambda *a, **k: state["executor"])
    return state


def config(tmp_path: Path, budget: int) -> RunConfig:
    cfg = RunConfig(out=tmp_path / "runs", progress=False, proposer="mutate", analyst_every=0)
    cfg.budget.evaluations = budget
    cfg.executor.workers = 1
    cfg.pipeline.prefetch = 0
    return cfg


def nodes_by_quality(run_dir: Path) -> dict[float, Any]:
    with RunStore.open(run_dir, readonly=True) as store:
        return {
            quality_of(store.get_code(n.id) or ""): n for n in store.nodes() if n.kind != NodeKind.analysis
        }


def best_quality(result: Any) -> float:
    """The true quality of the run's best (the node its RunResult names)."""
    return next(q for q, n in nodes_by_quality(result.run_dir).items() if n.id == result.best_node_id)


def test_single_shot_promotes_the_lucky_worse_candidate(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [9.0, 11.0]
    result = run_evolution(make_task(tmp_path / "task", ""), config(tmp_path, budget=3))
    # A (true 9) measured 12 once: it became the best, and B (true 11, measured 11) could not replace it.
    assert best_quality(result) == 9.0
    assert result.evaluations == 3 and sum(scripted["executor"].runs.values()) == 3


def test_noise_aware_promotion_keeps_the_lucky_candidate_out(
    tmp_path: Path, scripted: dict[str, Any]
) -> None:
    scripted["script"] = [9.0, 11.0, 11.3]
    task = make_task(tmp_path / "task", "[noise]\nrepeats = 3")
    result = run_evolution(task, config(tmp_path, budget=12))
    assert best_quality(result) == 11.0  # B, the truly better one; A lost its contest, D did not beat B
    nodes = nodes_by_quality(result.run_dir)
    # Every measurement is recorded: 3 runs for each program, the incumbents' reused, never repeated.
    runs = scripted["executor"].runs
    assert dict(runs) == {10.0: 3, 9.0: 3, 11.0: 3, 11.3: 3}
    assert result.evaluations == 12 == sum(runs.values())
    for q, node in nodes.items():
        rep = node.data["repeats"]
        assert rep["n"] == 3 and len(rep["runs"]) == 3
        values = [q + e for e in NOISE[q]]
        assert rep["metrics"]["score"]["values"] == pytest.approx(values)
        assert node.score == pytest.approx(sum(values) / 3)  # selection sees the mean
        lo, hi = rep["metrics"]["score"]["ci95"]
        assert lo < node.score < hi
    a, b, d = nodes[9.0].data["repeats"], nodes[11.0].data["repeats"], nodes[11.3].data["repeats"]
    assert a["promoted"] is False and b["promoted"] is True and d["promoted"] is False
    assert any(c["incumbent"] == nodes[11.0].id and not c["won"] for c in d["contests"])
    # The top mean (D) is not the run's best: its contest decided, and code.git's main says so too.
    with RunStore.open(result.run_dir, readonly=True) as store:
        assert store.top_node().id == nodes[11.3].id  # the top mean ...
        assert store.best_node().id == nodes[11.0].id  # ... is not what show, review and exports call best
        assert result.best_node_id == nodes[11.0].id == store.get_state("best")["node_id"]
    assert (result.run_dir / "code.git" / "refs" / "heads" / "main").read_text().strip() == nodes[11.0].commit


def test_contests_pay_from_the_budget(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [9.0, 11.0]
    task = make_task(tmp_path / "task", "[noise]\nrepeats = 3")
    result = run_evolution(task, config(tmp_path, budget=7))
    # Seed 1 + A 1 + contest 4 = 6; B's contest needs 2 more than the 1 left: unconfirmed, not promoted.
    assert result.evaluations == 7 == sum(scripted["executor"].runs.values())
    b = nodes_by_quality(result.run_dir)[11.0]
    assert b.data["repeats"]["unconfirmed"] == "budget" and b.data["repeats"]["promoted"] is False
    assert best_quality(result) == SEED_QUALITY


def test_a_challenger_failing_on_re_run_never_wins(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [11.0]
    scripted["executor"].fail_repeats_of = {11.0}
    result = run_evolution(make_task(tmp_path / "task", "[noise]\nrepeats = 3"), config(tmp_path, budget=6))
    b = nodes_by_quality(result.run_dir)[11.0]
    assert [r["valid"] for r in b.data["repeats"]["runs"]] == [True, False, False]
    assert "flaky" in b.data["repeats"]["runs"][1]["failure"]
    assert best_quality(result) == SEED_QUALITY


def test_tolerance_alone_costs_no_evaluation(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [10.5, 11.0, 11.5]
    task = make_task(tmp_path / "task", "[noise]\nabs_tol = 0.75")
    result = run_evolution(task, config(tmp_path, budget=4))
    assert result.evaluations == 4 == sum(scripted["executor"].runs.values())
    # 10.5 is within the tolerance of the seed, 11.0 beats it by more, 11.5 is within 11.0's.
    assert best_quality(result) == 11.0


def test_deterministic_task_does_no_extra_evaluation(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [9.0, 11.0, 12.0]
    result = run_evolution(make_task(tmp_path / "task", ""), config(tmp_path, budget=4))
    assert result.evaluations == 4 == sum(scripted["executor"].runs.values())
    assert all("repeats" not in n.data for n in nodes_by_quality(result.run_dir).values())


def test_resume_keeps_contest_decisions_and_counts_repeats(tmp_path: Path, scripted: dict[str, Any]) -> None:
    scripted["script"] = [9.0, 11.0, 11.3]
    task = make_task(tmp_path / "task", "[noise]\nrepeats = 3")
    first = run_evolution(task, config(tmp_path, budget=12))
    assert best_quality(first) == 11.0
    # The resumed session starts from the recorded best (B, not the top mean D) and counts the 8
    # re-measurements already made against the budget: 3 more pay for E (1) and its contest (2).
    scripted["script"] = [12.0]
    resumed = resume_run(first.run_dir, extra_evaluations=3, progress=False)
    assert resumed.evaluations == 15 and scripted["executor"].runs[12.0] == 3
    assert best_quality(resumed) == 12.0
    assert nodes_by_quality(resumed.run_dir)[12.0].data["repeats"]["contests"][0]["won"] is True


NOISY_EVALUATOR = '''import os


def evaluate(candidate):
    """True quality plus uniform noise in [-1, 1) drawn from os.urandom (the trusted side)."""
    quality = float(candidate.call("quality"))
    noise = int.from_bytes(os.urandom(4), "big") / 2**31 - 1.0
    return {"score": quality + noise, "quality": quality}
'''


def test_noisy_evaluator_in_the_sandbox_records_every_measurement(tmp_path: Path) -> None:
    """The real executor and sandbox: repeats run like any evaluation and are all recorded."""
    root = tmp_path / "noisy"
    root.mkdir()
    (root / "seed.py").write_text(
        "# EVOLVE-BLOCK-START\ndef quality():\n    return 10.0\n# EVOLVE-BLOCK-END\n"
    )
    (root / "evaluate.py").write_text(NOISY_EVALUATOR)
    (root / "task.toml").write_text(
        'name = "noisy"\ndescription = "maximise quality()"\n'
        "[metrics.score]\nprimary = true\n[metrics.quality]\n[noise]\nrepeats = 3\n[sandbox]\ntimeout_s = 20\n"
    )
    cfg = RunConfig(out=tmp_path / "runs", progress=False, proposer="mutate", analyst_every=0, seed=3)
    cfg.budget.evaluations = 10
    result = run_evolution(root, cfg)
    with RunStore.open(result.run_dir, readonly=True) as store:
        nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis and n.wall_s is not None]
    runs = {n.id: n.data["repeats"]["runs"] for n in nodes if "repeats" in n.data}
    assert runs, "no contest was held: the mutator never produced a candidate above the best"
    # The budget counts every run: first measurements plus the repeats.
    assert result.evaluations == len(nodes) + sum(len(r) - 1 for r in runs.values()) <= 10
    for node in nodes:
        if node.id in runs:
            values = [r["metrics"]["score"] for r in runs[node.id] if r["valid"]]
            assert len(set(values)) == len(values)  # independent draws, all kept
            assert node.score == pytest.approx(sum(values) / len(values))
            assert node.metrics["quality"] == pytest.approx(runs[node.id][0]["metrics"]["quality"])
    best = next(n for n in nodes if n.id == result.best_node_id)
    assert best.kind == NodeKind.seed or best.data["repeats"]["promoted"] is True
