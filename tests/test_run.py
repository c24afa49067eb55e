"""End-to-end runs of the loop on a tiny task: recording, CLI views, determinism, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syslab.artifacts.schema import NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig, build_config
from syslab.engine.run import run_evolution
from syslab.errors import SpecError, SyslabError
from syslab.task import load_task

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"
QUADRATIC = FIXTURES / "quadratic"


def _config(tmp_path: Path, **kw) -> RunConfig:
    base = {"out": str(tmp_path / "runs"), "progress": False, "proposer": "mutate"}
    base.update(kw)
    return RunConfig.model_validate(base)


def _syslab(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "syslab.cli", *args], capture_output=True, text=True, **kw)


def test_run_improves_and_records_every_attempt(tmp_path: Path) -> None:
    cfg = _config(tmp_path, seed=3, budget={"evaluations": 16}, executor={"workers": 2})
    result = run_evolution(QUADRATIC, cfg)
    assert result.evaluations == 16
    assert result.best_score is not None and result.seed_score is not None
    assert result.best_score > result.seed_score  # the offline mutator found a better program
    store = RunStore.open(result.run_dir, readonly=True)
    nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis]
    assert len(nodes) == result.nodes - store.count_nodes(kind=NodeKind.analysis)
    evaluated = [n for n in nodes if n.wall_s is not None]
    assert len(evaluated) == 16
    # Every candidate with code is a git commit whose parent is its parent's commit.
    log = subprocess.run(
        ["git", "-C", str(result.run_dir / "code.git"), "log", "--all", "--format=%H %P"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    parents = {line.split()[0]: line.split()[1:] for line in log if line.strip()}
    for n in nodes:
        if n.commit and n.parent_id is not None:
            parent_commit = store.get_node(n.parent_id).commit
            assert parents[n.commit] == [parent_commit]
    assert {n.commit for n in nodes if n.commit} <= set(parents)
    # The best candidate's recorded code is what git holds, and the manifest says what ran.
    best = store.best_node()
    assert best is not None and best.score == result.best_score
    man = store.manifest
    assert man.status == "finished" and man.proposer == "mutate" and man.isolation.get("backend") == "process"
    assert (result.run_dir / "logic.yaml").is_file()
    store.close()


def test_same_seed_same_run(tmp_path: Path) -> None:
    def signature(run_dir: Path) -> list[tuple]:
        s = RunStore.open(run_dir, readonly=True)
        out = [(n.id, n.parent_id, n.operator, n.score, n.failure_kind, n.code_sha) for n in s.nodes()]
        out += [(e.src, e.dst, e.kind.value) for e in s.edges()]
        s.close()
        return out

    a = run_evolution(
        QUADRATIC, _config(tmp_path / "a", seed=7, budget={"evaluations": 10}, executor={"workers": 2})
    )
    b = run_evolution(
        QUADRATIC, _config(tmp_path / "b", seed=7, budget={"evaluations": 10}, executor={"workers": 2})
    )
    assert signature(a.run_dir) == signature(b.run_dir)


def test_show_lineage_diff_cli(tmp_path: Path) -> None:
    result = run_evolution(QUADRATIC, _config(tmp_path, seed=1, budget={"evaluations": 8}))
    shown = _syslab("show", str(result.run_dir), "--all")
    assert shown.returncode == 0, shown.stderr
    assert "every attempt by outcome" in shown.stdout and "quadratic" in shown.stdout
    store = RunStore.open(result.run_dir, readonly=True)
    child = next(n for n in store.nodes() if n.parent_id is not None and n.commit)
    store.close()
    lin = _syslab("lineage", str(result.run_dir), str(child.id))
    assert lin.returncode == 0 and f"lineage of node {child.id}" in lin.stdout
    d = _syslab("diff", str(result.run_dir), str(child.id))
    assert d.returncode == 0 and ("@@" in d.stdout or "no difference" in d.stdout)
    missing = _syslab("lineage", str(result.run_dir), "9999")
    assert missing.returncode == 2 and "no node 9999" in missing.stderr


def test_eval_command_prints_metrics(tmp_path: Path) -> None:
    out = _syslab("eval", str(QUADRATIC), str(QUADRATIC / "seed.py"), "--json")
    assert out.returncode == 0, out.stderr
    assert '"distance": 33.5' in out.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("def solve(:\n")
    out = _syslab("eval", str(QUADRATIC), str(bad))
    assert out.returncode == 1 and "syntax" in out.stdout


def test_config_overrides_and_errors(tmp_path: Path) -> None:
    cfg = build_config(None, ["search.islands=4", "executor.workers=3", "pipeline.ordered=false"])
    assert cfg.search_settings().islands == 4 and cfg.executor.workers == 3 and cfg.pipeline.ordered is False
    with pytest.raises(SpecError, match=r"--set: search\.islands: "):
        build_config(None, ["search.islands=0"])
    bad = tmp_path / "run.toml"
    bad.write_text("[budget]\nevaluations = 'many'\n")
    with pytest.raises(SpecError, match=r"run.toml: budget.evaluations"):
        build_config(bad)


def test_malformed_task_toml_is_one_line_error(tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir()
    (task / "seed.py").write_text((QUADRATIC / "seed.py").read_text())
    (task / "evaluate.py").write_text((QUADRATIC / "evaluate.py").read_text())
    (task / "task.toml").write_text('name = "x"\ndescription = "d"\n[metrics.m]\ndirection = "upward"\n')
    with pytest.raises(SpecError) as exc:
        load_task(task)
    assert "task.toml" in str(exc.value) and "metrics.m.direction" in str(exc.value)
    out = _syslab("run", str(task), "-q", "--out", str(tmp_path / "runs"))
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
    assert "metrics.m.direction" in " ".join(lines) and "Traceback" not in out.stderr


def test_broken_evaluator_gives_clear_error(tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir()
    for f in ("seed.py", "task.toml"):
        (task / f).write_text((QUADRATIC / f).read_text())
    (task / "evaluate.py").write_text("def evaluate(program_path):\n    return {'distance': 1.0\n")
    with pytest.raises(SyslabError, match="seed program failed evaluation \\(evaluator_error"):
        run_evolution(task, _config(tmp_path, budget={"evaluations": 3}))
    # The failed seed is still recorded in the run's store.
    run_dir = next((tmp_path / "runs").iterdir())
    store = RunStore.open(run_dir, readonly=True)
    seed = store.nodes(kind=NodeKind.seed)[0]
    assert seed.failure_kind == "evaluator_error" and "evaluate.py" in (seed.failure_message or "")
    store.close()


def test_sigkill_leaves_readable_store(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syslab.cli",
            "run",
            str(QUADRATIC),
            "-q",
            "--budget",
            "200",
            "--out",
            str(out),
            "--proposer",
            "mutate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        recorded = 0
        while time.time() < deadline and recorded < 6:
            time.sleep(0.3)
            dbs = list(out.glob("*/syslab.db"))
            if dbs:
                try:
                    s = RunStore.open(dbs[0].parent, readonly=True)
                    recorded = s.count_nodes(status=NodeStatus.evaluated)
                    s.close()
                except Exception:  # noqa: BLE001 - the store may be mid-creation
                    recorded = 0
        assert recorded >= 6, proc.stderr.read() if proc.poll() is not None else "run too slow"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    run_dir = next(out.iterdir())
    store = RunStore.open(run_dir, readonly=True)
    nodes = store.nodes()
    assert len(nodes) >= 6
    for n in nodes:
        if n.commit:
            assert store.get_code(n.id)
    store.close()
    shown = _syslab("show", str(run_dir))
    assert shown.returncode == 0 and "every attempt by outcome" in shown.stdout


def test_gpu_task_without_gpu_is_refused_up_front(tmp_path: Path) -> None:
    from syslab.evaluators.gpu import gpu_available

    if gpu_available():
        pytest.skip("this machine has a GPU: the refusal path is for GPU-less machines")
    kernel_task = Path(__file__).parent.parent / "benchmarks" / "kernels" / "swish_bias"
    out = _syslab("run", str(kernel_task), "-q", "--out", str(tmp_path / "runs"))
    assert out.returncode == 2
    assert "needs a GPU" in out.stderr and "syslab eval" in out.stderr
    assert not (tmp_path / "runs").exists()  # nothing started, nothing half-recorded


def test_duplicates_are_recorded_and_reasked_within_bound(tmp_path: Path, monkeypatch) -> None:
    """A proposer that keeps returning its parent: every attempt is a recorded duplicate node,
    re-asked at most search.max_duplicate_retries times per slot, and the run still ends."""
    import syslab.agents.select as select
    from syslab.agents.base import Proposal

    class Repeater:
        name = "repeater"

        def propose(self, request):  # noqa: ANN001, ANN201
            return Proposal(code=request.parent.code, operator="repeat", note=f"attempt {request.attempt}")

    monkeypatch.setattr(
        select,
        "build_agents",
        lambda config, task, resume_store=None: select.Agents("mutate", "test", Repeater(), None),
    )
    cfg = _config(tmp_path, budget={"evaluations": 3}, search={"max_duplicate_retries": 2}, analyst_every=0)
    result = run_evolution(QUADRATIC, cfg)
    assert result.stop_reason == "attempts" and result.evaluations == 1  # only the seed was ever evaluated
    store = RunStore.open(result.run_dir, readonly=True)
    dups = [n for n in store.nodes() if n.failure_kind == "duplicate"]
    assert dups and all(n.failure_message == "duplicate of node 0" for n in dups)
    assert {n.note for n in dups} <= {"attempt 0", "attempt 1", "attempt 2"}  # never a 4th ask
    assert len(dups) == store.count_nodes() - 1
    store.close()
