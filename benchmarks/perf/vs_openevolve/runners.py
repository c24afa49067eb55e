"""One measured run of each framework through its own CLI, and how many evaluations it really ran.

syslab: `python -m syslab.cli run TASK --budget N --workers W --proposer llm` with nothing
else changed (process sandbox, split evaluation, the default analyst); evaluations are read
back from the run store (seed and candidate nodes that were handed to the evaluator and
finished). OpenEvolve: `python -m openevolve.cli PROGRAM EVALUATOR --iterations N-1` (the
initial program's evaluation is its first one) with a config that changes only the LLM
endpoint and `evaluator.parallel_evaluations`; evaluations are counted from its log, one
"Evaluated program" line per finished evaluation, plus the ones that failed all retries.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

import yaml
from proctree import Measurement, run_measured
from pydantic import BaseModel, Field, computed_field
from scripted_llm import LLMStats, ScriptedLLM

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
API_KEY = "sk-bench-scripted"  # the scripted endpoint ignores it; the SDKs want one


class TaskPair(BaseModel):
    """One benchmark task as each framework takes it."""

    name: str
    syslab_task: Path
    oe_program: Path
    oe_evaluator: Path
    primary: str  # the metric compared between the two seeds' evaluations


TASKS = {
    "trivial": TaskPair(
        name="trivial",
        syslab_task=HERE / "trivial",
        oe_program=HERE / "trivial" / "seed.py",
        oe_evaluator=HERE / "oe_tasks" / "trivial_eval.py",
        primary="score",
    ),
    "bin_packing": TaskPair(
        name="bin_packing",
        syslab_task=ROOT / "examples" / "bin_packing",
        oe_program=ROOT / "examples" / "bin_packing" / "seed.py",
        oe_evaluator=HERE / "oe_tasks" / "bin_packing_eval.py",
        primary="excess_pct",
    ),
}


class RunRecord(BaseModel):
    task: str
    framework: str  # syslab | openevolve
    requested: int
    workers: int
    evaluations: int  # counted from the framework's own records
    valid: int
    not_evaluated: int  # proposals that never reached the evaluator (bad diff, duplicate, ...)
    seed_metric: float | None  # the task's primary metric for the seed program
    measurement: Measurement
    llm: LLMStats
    notes: dict[str, str] = Field(default_factory=dict)
    ok: bool = True
    error: str = ""
    # From the framework's own timestamps of finished evaluations: the start-up (command start to
    # the first one finished) and the steady state (first to last finished, per evaluation).
    first_eval_s: float | None = None
    steady_wall_ms_per_eval: float | None = None
    steady_cpu_ms_per_eval: float | None = None

    def set_steady(self, finished: list[float]) -> None:
        """Fill the start-up and steady-state figures from the evaluations' finish times (epoch s)."""
        if len(finished) < 3:
            return
        finished = sorted(finished)
        first, last, n = finished[0], finished[-1], len(finished) - 1
        self.first_eval_s = first - self.measurement.started_at
        self.steady_wall_ms_per_eval = 1000 * (last - first) / n
        a, b = self.measurement.cpu_at(first), self.measurement.cpu_at(last)
        if a is not None and b is not None:
            self.steady_cpu_ms_per_eval = 1000 * (b - a) / n

    @computed_field  # type: ignore[prop-decorator]
    @property
    def wall_ms_per_eval(self) -> float:
        return 1000 * self.measurement.wall_s / max(1, self.evaluations)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cpu_ms_per_eval(self) -> float:
        return 1000 * self.measurement.cpu_s / max(1, self.evaluations)


def _clean_env() -> dict[str, str]:
    """The environment without anything that would steer either framework elsewhere."""
    drop = ("OPENAI_", "SYSLAB_SET", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _log_tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def run_syslab(task: TaskPair, evals: int, workers: int, work: Path, tag: str, timeout_s: float) -> RunRecord:
    out = work / "syslab"
    out.mkdir(parents=True, exist_ok=True)
    env = _clean_env() | {"PYTHONPATH": str(ROOT), "OPENAI_API_KEY": API_KEY}
    log = work / f"{tag}.log"
    with ScriptedLLM() as llm:
        cmd = [
            sys.executable, "-m", "syslab.cli", "run", str(task.syslab_task),
            "--budget", str(evals), "--workers", str(workers), "--proposer", "llm",
            "--set", f"llm.base_url={llm.base_url}", "--out", str(out), "--name", tag, "--quiet",
        ]  # fmt: skip
        m = run_measured(cmd, env=env, cwd=ROOT, log_path=log, timeout_s=timeout_s)
        stats = llm.stats
    record = RunRecord(
        task=task.name, framework="syslab", requested=evals, workers=workers, evaluations=0, valid=0,
        not_evaluated=0, seed_metric=None, measurement=m, llm=stats,
    )  # fmt: skip
    run_dir = out / tag
    if m.returncode != 0 or not (run_dir / "syslab.db").exists():
        record.ok, record.error = False, f"syslab exited {m.returncode}:\n{_log_tail(log)}"
        return record
    from syslab.artifacts.schema import NodeKind
    from syslab.artifacts.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        nodes = [n for n in store.nodes() if n.kind in (NodeKind.seed, NodeKind.candidate)]
        manifest = store.manifest
        latencies = [c.latency_s for c in store.llm_calls() if c.role == "proposer" and not c.error]
    evaluated = [n for n in nodes if n.started_at is not None and n.finished_at is not None]
    seed = next((n for n in nodes if n.kind == NodeKind.seed), None)
    record.evaluations = len(evaluated)
    record.valid = sum(1 for n in evaluated if n.valid)
    record.not_evaluated = len(nodes) - len(evaluated)
    record.seed_metric = seed.metrics.get(task.primary) if seed else None
    failures: dict[str, int] = {}
    for n in nodes:
        if n.failure_kind:
            failures[n.failure_kind] = failures.get(n.failure_kind, 0) + 1
    record.set_steady([n.finished_at for n in evaluated if n.finished_at is not None])
    record.notes = {
        "evaluation_mode": manifest.evaluation_mode,
        "isolation": ", ".join(
            [str(manifest.isolation.get("backend", "?"))]
            + [k for k, v in manifest.isolation.items() if v is True]
            + [f"memory: {manifest.isolation.get('memory_limit', '?')}"]
        ),
        "failures": ", ".join(f"{k}={v}" for k, v in sorted(failures.items())) or "none",
        "llm_latency_ms_median": f"{1000 * statistics.median(latencies):.1f}" if latencies else "n/a",
    }
    return record


EVALUATED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - .* - Evaluated program \S+ in [0-9.]+s: (.*)$"
)
EVAL_FAILED = re.compile(r"All evaluation attempts failed for program")
ITER_ERROR = re.compile(r"Iteration \d+ error")


def _log_time(stamp: str) -> float:
    """Epoch seconds of a logging asctime (local time, millisecond resolution)."""
    day, ms = stamp.split(",")
    return time.mktime(time.strptime(day, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000


def _oe_config(base_url: str, iterations: int, workers: int) -> dict:
    return {
        "max_iterations": iterations,
        "llm": {"api_base": base_url, "api_key": API_KEY, "models": [{"name": "scripted", "weight": 1.0}]},
        "evaluator": {"parallel_evaluations": workers},
    }


def run_openevolve(
    task: TaskPair, evals: int, workers: int, work: Path, tag: str, timeout_s: float, python: Path
) -> RunRecord:
    out = work / "openevolve" / tag
    out.mkdir(parents=True, exist_ok=True)
    log = work / f"{tag}.log"
    env = _clean_env() | {"OPENAI_API_KEY": API_KEY}
    iterations = max(1, evals - 1)  # + the initial program's evaluation = evals
    with ScriptedLLM() as llm:
        config = out / "config.yaml"
        config.write_text(yaml.safe_dump(_oe_config(llm.base_url, iterations, workers)))
        cmd = [
            str(python), "-m", "openevolve.cli", str(task.oe_program), str(task.oe_evaluator),
            "--config", str(config), "--output", str(out), "--iterations", str(iterations),
        ]  # fmt: skip
        m = run_measured(cmd, env=env, cwd=out, log_path=log, timeout_s=timeout_s)
        stats = llm.stats
    record = RunRecord(
        task=task.name, framework="openevolve", requested=evals, workers=workers, evaluations=0, valid=0,
        not_evaluated=0, seed_metric=None, measurement=m, llm=stats,
    )  # fmt: skip
    logs = sorted((out / "logs").glob("*.log"))
    if m.returncode != 0 or not logs:
        record.ok, record.error = False, f"openevolve exited {m.returncode}:\n{_log_tail(log)}"
        return record
    evaluated, failed, iter_errors, first = 0, 0, 0, None
    finished: list[float] = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if hit := EVALUATED.search(line):
                evaluated += 1
                first = first or hit.group(2)
                finished.append(_log_time(hit.group(1)))
            elif EVAL_FAILED.search(line):
                failed += 1
            elif ITER_ERROR.search(line):
                iter_errors += 1
    record.evaluations = evaluated + failed
    record.valid = evaluated
    record.not_evaluated = iter_errors
    metric = re.search(rf"\b{re.escape(task.primary)}=([-0-9.eE+]+)", first or "")
    record.seed_metric = float(metric.group(1)) if metric else None
    record.set_steady(finished)
    checkpoints = sorted((out / "checkpoints").glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[-1]))
    record.notes = {
        "evaluation_mode": "in-process (no isolation)",
        "programs_in_last_checkpoint": (
            f"{len(list((checkpoints[-1] / 'programs').glob('*.json')))} ({checkpoints[-1].name})"
            if checkpoints
            else "no checkpoint"
        ),
    }
    return record
