"""The budget counts what README.md ("What counts against the budget") and `syslab run --help` say.

An evaluation is one program run through the task's evaluator, the seed's included, whether it
scores or fails; the evaluation budget caps them. An attempt is one proposal asked of the proposer;
one that yields no program (unparsable, patch failed, duplicate, LLM error) is recorded as a node
but is no evaluation. Attempts are capped at max_attempts_factor x the budget; wall time stops new
proposals; `resume --more N` raises the budget in force by N. The progress line shows these figures.
Runs go through the real loop: the offline proposer, or an LLM scripted over real HTTP.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.cli import app
from syslab.cli.progress import NOT_EVALUATED, Progress
from syslab.config import RunConfig
from syslab.engine.run import resume_run, run_evolution

sys.path.insert(0, str(Path(__file__).parent / "llm"))
from scripted_server import ScriptedServer  # noqa: E402

TASKS = Path(__file__).parent / "fixtures" / "tasks"
QUADRATIC = TASKS / "quadratic"  # solve() returns a*c + b*2; a test-sized evaluator
TINY = TASKS / "tiny_split"  # the offline mutator often repeats itself here: duplicates
LINE = re.compile(r"evals (\d+)/(\d+) \((\d+) failed\) · attempts (\d+) \((\d+) not evaluated\) · best (\S+)")
RUNNER = CliRunner()


def cli(*args: str | Path) -> object:
    return RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False)


def progress_figures(stderr: str) -> dict[str, int]:
    """The last progress line of a run's stderr, as numbers."""
    found = LINE.findall(" ".join(stderr.split()))
    assert found, stderr
    evals, total, failed, attempts, not_evaluated, _ = found[-1]
    return {
        "evals": int(evals),
        "total": int(total),
        "failed": int(failed),
        "attempts": int(attempts),
        "not_evaluated": int(not_evaluated),
    }


def recorded(run_dir: Path) -> dict[str, int]:
    """The same figures counted from the artifact's nodes."""
    with RunStore.open(run_dir, readonly=True) as store:
        nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis]
        budget = store.manifest.config["budget"]["evaluations"]
    evaluated = [n for n in nodes if n.wall_s is not None]
    return {
        "evals": len(evaluated),
        "total": budget,
        "failed": sum(1 for n in evaluated if n.failure_kind),
        "attempts": sum(1 for n in nodes if n.kind == NodeKind.candidate and n.failure_kind != "interrupted"),
        "not_evaluated": sum(1 for n in nodes if n.failure_kind in NOT_EVALUATED),
        "seeds_evaluated": sum(1 for n in evaluated if n.kind == NodeKind.seed),
    }


@pytest.fixture
def no_env_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("SYSLAB_SET", raising=False)


def test_duplicates_are_attempts_not_evaluations_and_the_line_says_so(tmp_path: Path) -> None:
    res = cli("run", TINY, "-n", "5", "--proposer", "mutate", "--out", tmp_path, "--name", "r")
    assert res.exit_code == 0, res.output
    shown, counted = progress_figures(res.stderr), recorded(tmp_path / "r")
    assert counted["seeds_evaluated"] == 1  # the seed's evaluation is one of the budget's
    assert counted["evals"] == counted["total"] == 5
    assert counted["not_evaluated"] > 0, "the offline mutator repeated nothing: no duplicate to count"
    assert counted["attempts"] == counted["evals"] - 1 + counted["not_evaluated"]
    assert shown == {k: counted[k] for k in shown}
    assert "done (evaluations)" in res.stdout and "5 evaluations" in res.stdout


# What the scripted model does, one entry per chat request, in order (then "good" for ever).
PLAN = ["prose", "no-match", "same", "good", "http500", "crash"]


def scripted_model(plan: list[str]) -> ScriptedServer:
    """Answers built from the program in the prompt, so each edit applies (or fails) as planned."""
    steps = list(plan)
    fresh = iter(range(1, 1000))

    def answer(body: dict) -> dict:
        what = steps.pop(0) if steps else "good"
        user = body["messages"][-1]["content"]
        program = user.split("```python\n", 1)[1].split("```", 1)[0]
        line = next(ln for ln in program.splitlines() if ln.strip().startswith("c ="))
        edit = {
            "prose": None,
            "no-match": "    c = 12345.0",
            "same": line,
            "good": f"    c = {3.0 + next(fresh)}",
            "crash": "    c = undefined_name",
        }
        if what == "http500":
            return {"status": 500}
        if what == "prose":
            return {"text": "I would leave the program as it is."}
        search = "    c = -1.0" if what == "no-match" else line
        return {"text": f"Change: c\n<<<<<<< SEARCH\n{search}\n=======\n{edit[what]}\n>>>>>>> REPLACE\n"}

    return ScriptedServer(responder=answer)


def llm_config(tmp_path: Path, base_url: str, budget: dict) -> RunConfig:
    return RunConfig.model_validate(
        {
            "out": str(tmp_path),
            "run_name": "llm",
            "progress": False,
            "proposer": "llm",
            "analyst_every": 0,  # every chat request is then a proposal
            "budget": budget,
            "pipeline": {"prefetch": 0},  # one proposal at a time: the plan is followed in order
            "llm": {
                "base_url": base_url,
                "models": [{"name": "scripted"}],
                "timeout_s": 5.0,
                "max_retries": 1,
                "backoff_s": 0.01,
            },
        }
    )


def test_llm_failures_count_as_attempts_and_failed_evaluations_as_evaluations(
    tmp_path: Path, no_env_endpoint: None
) -> None:
    with scripted_model(PLAN) as server:
        result = run_evolution(QUADRATIC, llm_config(tmp_path, server.base_url, {"evaluations": 6}))
        requests = len(server.chat_requests())
    counted = recorded(result.run_dir)
    with RunStore.open(result.run_dir, readonly=True) as store:
        kinds = [n.failure_kind for n in store.nodes() if n.kind == NodeKind.candidate]
    # prose -> malformed_response, no-match -> patch_failed, same -> duplicate (re-asked): no program.
    assert {"malformed_response", "patch_failed", "duplicate"} <= set(kinds)
    assert counted["not_evaluated"] == 3
    assert counted["failed"] == 1  # the crash: evaluated, failed, counted against the budget
    assert result.evaluations == counted["evals"] == 6 and result.stop_reason == "evaluations"
    assert result.attempts == counted["attempts"] == counted["evals"] - 1 + counted["not_evaluated"]
    # The HTTP 500 was retried inside one proposal: a request more, not an attempt more.
    assert requests == result.attempts + 1


def test_attempts_stop_at_the_cap_when_nothing_is_evaluable(tmp_path: Path, no_env_endpoint: None) -> None:
    budget = {"evaluations": 3, "max_attempts_factor": 2.0}
    with scripted_model(["prose"] * 100) as server:
        result = run_evolution(QUADRATIC, llm_config(tmp_path, server.base_url, budget))
        requests = len(server.chat_requests())
    counted = recorded(result.run_dir)
    cap = int(budget["max_attempts_factor"] * budget["evaluations"])
    assert result.stop_reason == "attempts"
    assert result.attempts == counted["attempts"] == counted["not_evaluated"] == requests == cap
    assert result.evaluations == counted["evals"] == 1  # only the seed was evaluable


def test_wall_time_stops_new_proposals(tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {
            "out": str(tmp_path),
            "progress": False,
            "proposer": "mutate",
            "budget": {"evaluations": 10, "wall_time_s": 1e-6},  # spent during the seed's evaluation
        }
    )
    result = run_evolution(QUADRATIC, cfg)
    assert result.stop_reason == "wall_time"
    assert (result.evaluations, result.attempts, result.nodes) == (1, 0, 1)


def test_resume_more_adds_to_the_budget_in_force(tmp_path: Path) -> None:
    task = tmp_path / "task"
    shutil.copytree(QUADRATIC, task)
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("evaluations = 12", "evaluations = 3"))
    cfg = RunConfig.model_validate(
        {"out": str(tmp_path / "runs"), "run_name": "r", "progress": False, "proposer": "mutate"}
    )
    first = run_evolution(task, cfg)  # no budget given: the task's, recorded as the one in force
    run_dir = tmp_path / "runs" / "r"
    assert first.evaluations == recorded(run_dir)["total"] == 3
    res = cli("resume", run_dir, "--more", "2")
    assert res.exit_code == 0, res.output
    counted = recorded(run_dir)
    assert counted["evals"] == counted["total"] == 5
    # The line counts the whole run, the first session's records included.
    shown = progress_figures(res.stderr)
    assert shown == {k: counted[k] for k in shown}
    again = resume_run(run_dir, progress=False)  # nothing more asked: nothing more done
    assert again.evaluations == 5 and recorded(run_dir)["evals"] == 5
    more = resume_run(run_dir, extra_evaluations=1, progress=False)  # a second --more adds again
    assert more.evaluations == recorded(run_dir)["evals"] == recorded(run_dir)["total"] == 6


class _Store:
    def failure_counts(self) -> dict[str, int]:
        # One failed evaluation, two proposals without a program, one interrupted (neither).
        return {"runtime": 1, "duplicate": 1, "patch_failed": 1, "interrupted": 1}


def test_progress_line_counts_and_shows_hostile_metric_names_as_text() -> None:
    metric = "m\x1b[2J[bold green]valid[/]\r"
    task = SimpleNamespace(name="t", primary_metric=metric)
    best = SimpleNamespace(metrics={metric: 0.5})
    counters = SimpleNamespace(evaluations=3, attempts=4)
    engine = SimpleNamespace(store=_Store(), counters=counters, best=best)
    outs = []
    for width in (200, 40):  # narrow: the line wraps, no figure is cut short
        progress = Progress(enabled=True, total=10, task=task)
        buf = io.StringIO()
        progress.console = Console(file=buf, width=width, emoji=False)
        progress.start(Path("runs/r"), "mutate", "test")
        progress.update(SimpleNamespace(failure_kind="runtime"), engine)  # first: counted from the store
        counters.evaluations, counters.attempts = 4, 6
        progress.update(SimpleNamespace(failure_kind="llm_error"), engine)
        progress.update(SimpleNamespace(failure_kind="timeout"), engine)
        progress.close()
        outs.append(buf.getvalue())
        counters.evaluations, counters.attempts = 3, 4
    for out in outs:
        assert "\x1b" not in out and "\r" not in out and "…" not in out, repr(out)
        flat = " ".join(out.split())
        assert "evals 4/10 (2 failed) · attempts 6 (3 not evaluated)" in flat, flat
        assert "best m\\x1b[2J[bold green]valid[/]\\x0d=0.5" in flat, flat
