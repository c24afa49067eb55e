"""`syslab run`, `resume`, `eval` and `tasks`: starting and continuing evolution runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from syslab.cli import shell
from syslab.cli.shell import RUN_HELP_TAIL, app
from syslab.cli.terminal import safe
from syslab.errors import SyslabError

if TYPE_CHECKING:
    from syslab.engine.run import RunResult


@app.command()
def run(
    task_dir: str | None = typer.Argument(
        None, help="Task directory or bundled task name (default: bin_packing)."
    ),
    budget: int | None = typer.Option(
        None,
        "--budget",
        "-n",
        help="Max evaluations, the seed's included (default: the task's). An evaluation is one program "
        "run through the task's evaluator, passed or failed; proposals that yield no program "
        "(unparsable, failed patch, duplicate, LLM error) are attempts, capped at "
        "budget.max_attempts_factor (3) x this. A noisy task's re-measurements ([noise] in task.toml) "
        "are evaluations too.",
    ),
    workers: int | None = typer.Option(None, "--workers", "-w", help="Evaluations in parallel."),
    seed: int | None = typer.Option(None, "--seed", "-s", help="Random seed."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory for run artifacts (default runs/)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Run config (TOML or YAML)."),
    set_: list[str] = typer.Option([], "--set", help="Override a config value, e.g. search.islands=4."),
    proposer: str | None = typer.Option(None, "--proposer", help="auto | llm | local | mutate."),
    llm: str | None = typer.Option(None, "--llm", help="'local' for the bundled model, or a base URL."),
    sandbox: str | None = typer.Option(None, "--sandbox", help="process | docker."),
    executor: str | None = typer.Option(None, "--executor", help="local | ray."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Existing Ray cluster address."),
    wall_time: float | None = typer.Option(
        None,
        "--wall-time",
        help="Seconds after which no new proposal is made (this session; the seed's evaluation "
        "included); candidates already in the pipeline are still evaluated and recorded, none is killed.",
    ),
    replay: Path | None = typer.Option(
        None,
        "--replay",
        help="Re-run a finished run from its recorded LLM answers, with its task, seed and config "
        "(flags that would change them are refused); it stops at the first request with no recording.",
    ),
    adrs_problem: Path | None = typer.Option(
        None, "--adrs-problem", help="An ADRS-Leaderboard problems/<p> dir."
    ),
    name: str | None = typer.Option(None, "--name", help="Run directory name."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run an evolution on a task and record every attempt.

    --budget counts evaluations: the seed's, then one per candidate program
    run through the task's evaluator, passed or failed (syntax, runtime,
    timeout, sandbox violation, invalid output). All of a task's cascade
    stages are one evaluation; a Ray retry after a lost worker is the same one.
    A proposal that yields no program (an answer that does not parse or apply,
    a duplicate, an LLM error) is recorded as a node and counts as an attempt
    only; attempts stop at budget.max_attempts_factor (3) x the budget.
    A task with a [noise] table re-measures a candidate (and the incumbent)
    before it becomes the best: each re-measurement is an evaluation
    ("re-measured" on the progress line).
    --wall-time, cost and token limits stop new proposals; candidates already
    in the pipeline are evaluated and recorded, none is killed.
    """
    from syslab.config import build_config, env_overrides
    from syslab.sandbox import warm
    from syslab.task import load_task

    try:
        recorded: dict | None = None
        if replay is not None:
            from syslab.agents.replay import recorded_setup

            given = {"seed": seed, "budget": budget, "wall_time": wall_time, "config": config, "set": set_,
                     "proposer": proposer, "llm": llm, "adrs_problem": adrs_problem}  # fmt: skip
            recorded_task, recorded = recorded_setup(replay, task_dir, given)
            task = load_task(recorded_task)
        elif adrs_problem is not None:
            from syslab.adrs.leaderboard import task_from_leaderboard

            task = task_from_leaderboard(adrs_problem)
        else:
            task = load_task(shell.resolve_task_dir(task_dir or "bin_packing"))
        if not task.verified:
            shell._warn_unverified(f"task {task.name} runs in shared mode: its")
        mode = proposer
        llm_over: list[str] = []
        if llm == "local":
            mode = mode or "local"
        elif llm:
            mode = mode or "llm"
            llm_over.append(f"llm.base_url={llm}")
        if replay is not None:
            mode = "replay"
        cfg = build_config(
            config,
            (env_overrides() if recorded is None else []) + llm_over + list(set_),
            recorded,
            seed=seed,
            budget__evaluations=budget,
            budget__wall_time_s=wall_time,
            executor__workers=workers,
            executor__kind=executor,
            executor__ray_address=ray_address,
            sandbox__backend=sandbox,
            proposer=mode,
            out=out,
            run_name=name,
            progress=not quiet,
            replay=replay,
        )
        if cfg.executor.kind == "local":  # Ray workers keep their own templates
            warm.prestart(task, cfg.sandbox.backend)  # they start while the agent stack imports
        from syslab.engine.run import run_evolution

        result = run_evolution(task, cfg)
    except SyslabError as e:
        shell._fail(e)
        return
    from syslab.cli.views import print_run_result

    print_run_result(shell.console, result)
    _exit_if_failed(result)


def _exit_if_failed(result: RunResult) -> None:
    """A run that evaluated no candidate is an error (exit 1), its reason on one line."""
    if result.failed:
        shell.err.print(f"[red]error:[/] {safe(result.failed)} (recorded in {safe(result.run_dir)})")
        raise typer.Exit(1)


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="Run directory to continue (" + RUN_HELP_TAIL + ")."),
    more: int | None = typer.Option(
        None,
        "--more",
        help="Raise the run's evaluation budget by this many evaluations (the attempt cap rises with it).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Continue a stopped or killed run; nothing completed is lost or repeated.

    Evaluations recorded before count against the budget (--more raises it);
    a candidate cut off mid-evaluation is evaluated again and counts once.
    Wall time, cost and tokens count from this session's start.
    """
    from syslab.cli.views import open_run
    from syslab.engine.run import resume_run

    try:
        store = open_run(run_dir)
        man = store.manifest
        store.close()
        if not man.verified:
            shell._warn_unverified(f"run {man.run_id} ({man.evaluation_mode} mode): its")
        result = resume_run(run_dir, extra_evaluations=more, progress=not quiet)
    except SyslabError as e:
        shell._fail(e)
        return
    from syslab.cli.views import print_run_result

    print_run_result(shell.console, result)
    _exit_if_failed(result)


@app.command(name="eval")
def eval_(
    task_dir: str = typer.Argument(..., help="Task directory or bundled task name."),
    file: Path = typer.Argument(..., help="Candidate program file."),
    as_json: bool = typer.Option(False, "--json", help="Print the EvaluationResult as JSON."),
    sandbox: str = typer.Option("process", "--sandbox"),
) -> None:
    """Evaluate one candidate file; prints metrics and failure, records nothing."""
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.executor import make_sandbox
    from syslab.task import load_task

    try:
        task = load_task(shell.resolve_task_dir(task_dir))
        if not file.is_file():
            raise SyslabError(f"{file}: candidate file not found")
        result = evaluate_program(task, file.read_text(), make_sandbox(sandbox, task.spec.sandbox.image))
    except SyslabError as e:
        shell._fail(e)
        return
    from syslab.cli.views import print_evaluation

    print_evaluation(shell.console, result, as_json)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def tasks() -> None:
    """List bundled tasks."""
    from rich.table import Table

    from syslab.task import load_task

    table = Table("name", "family", "primary metric", "path")
    for root in (shell.EXAMPLES_DIR, shell.BENCHMARKS_DIR / "adrs", shell.BENCHMARKS_DIR / "kernels"):
        if not root.is_dir():
            continue
        for toml in sorted(root.glob("*/task.toml")):
            try:
                t = load_task(toml.parent)
            except SyslabError as e:
                table.add_row(safe(toml.parent.name), "?", f"[red]{safe(e)}[/]", safe(toml.parent))
                continue
            spec = t.spec.metrics[t.primary_metric]
            table.add_row(
                safe(t.name),
                safe(t.spec.family),
                f"{safe(t.primary_metric)} ({spec.direction.value})",
                safe(toml.parent),
            )
    shell.console.print(table)
