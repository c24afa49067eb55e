"""The `syslab` command line (typer). Heavy imports stay inside commands so `--help` is fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from syslab.errors import SyslabError
from syslab.terminal import safe

if TYPE_CHECKING:
    from syslab.run import RunResult

RUN_HELP_TAIL = "or the --out directory of `syslab run` when it holds exactly one run"
RUN_HELP = f"Run directory ({RUN_HELP_TAIL})."

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="syslab: evolve systems algorithms in sandboxes and keep every attempt as a research artifact.",
)
# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default. Emoji codes
# off: printed text is often the candidate's (see syslab.terminal), ":x:" should stay ":x:".
console = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
# Errors and warnings stay one line when piped, however long the path they name.
err = Console(
    stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=not sys.stderr.isatty(), emoji=False
)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
BENCHMARKS_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def _fail(e: Exception) -> None:
    # The message may quote a candidate's failure (a seed that failed evaluation): shown, not run.
    err.print(f"[red]error:[/] {safe(e)}")
    raise typer.Exit(2)


def _warn_unverified(what: str) -> None:
    """The one warning line of a run whose candidates share the scorer's process (shared mode)."""
    from syslab.task import UNVERIFIED_NOTE

    err.print(f"[yellow]warning:[/] {safe(what)} scores are {safe(UNVERIFIED_NOTE)}")


def resolve_task_dir(name_or_path: str) -> Path:
    """A task dir path, or the name of a bundled task (examples/, benchmarks/adrs/, benchmarks/kernels/)."""
    p = Path(name_or_path)
    if p.exists():
        return p
    for root in (EXAMPLES_DIR, BENCHMARKS_DIR / "adrs", BENCHMARKS_DIR / "kernels"):
        cand = root / name_or_path
        if (cand / "task.toml").is_file():
            return cand
    raise SyslabError(f"{name_or_path}: no such task directory or bundled task (see `syslab tasks`)")


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
            task = load_task(resolve_task_dir(task_dir or "bin_packing"))
        if not task.verified:
            _warn_unverified(f"task {task.name} runs in shared mode: its")
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
        from syslab.run import run_evolution

        result = run_evolution(task, cfg)
    except SyslabError as e:
        _fail(e)
        return
    from syslab.views import print_run_result

    print_run_result(console, result)
    _exit_if_failed(result)


def _exit_if_failed(result: RunResult) -> None:
    """A run that evaluated no candidate is an error (exit 1), its reason on one line."""
    if result.failed:
        err.print(f"[red]error:[/] {safe(result.failed)} (recorded in {safe(result.run_dir)})")
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
    from syslab.run import resume_run
    from syslab.views import open_run

    try:
        store = open_run(run_dir)
        man = store.manifest
        store.close()
        if not man.verified:
            _warn_unverified(f"run {man.run_id} ({man.evaluation_mode} mode): its")
        result = resume_run(run_dir, extra_evaluations=more, progress=not quiet)
    except SyslabError as e:
        _fail(e)
        return
    from syslab.views import print_run_result

    print_run_result(console, result)
    _exit_if_failed(result)


@app.command()
def show(
    run_dir: Path = typer.Argument(..., help=RUN_HELP),
    top: int = typer.Option(10, "--top", help="Best candidates to list."),
    all_: bool = typer.Option(False, "--all", help="List every node."),
) -> None:
    """Summary of a run: best candidates, every attempt by failure kind."""
    from syslab.views import show_run

    try:
        show_run(console, run_dir, top=top, list_all=all_)
    except SyslabError as e:
        _fail(e)


@app.command()
def lineage(run_dir: Path, node: int) -> None:
    """The chain of ancestors of NODE, root first."""
    from syslab.views import show_lineage

    try:
        show_lineage(console, run_dir, node)
    except SyslabError as e:
        _fail(e)


@app.command()
def diff(run_dir: Path, node: int, other: int | None = typer.Argument(None)) -> None:
    """Unified diff of NODE against its parent (or against OTHER)."""
    from syslab.views import show_diff

    try:
        show_diff(console, run_dir, node, other)
    except SyslabError as e:
        _fail(e)


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
        task = load_task(resolve_task_dir(task_dir))
        if not file.is_file():
            raise SyslabError(f"{file}: candidate file not found")
        result = evaluate_program(task, file.read_text(), make_sandbox(sandbox, task.spec.sandbox.image))
    except SyslabError as e:
        _fail(e)
        return
    from syslab.views import print_evaluation

    print_evaluation(console, result, as_json)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def tasks() -> None:
    """List bundled tasks."""
    from rich.table import Table

    from syslab.task import load_task

    table = Table("name", "family", "primary metric", "path")
    for root in (EXAMPLES_DIR, BENCHMARKS_DIR / "adrs", BENCHMARKS_DIR / "kernels"):
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
    console.print(table)


@app.command()
def browse(
    run_dirs: list[Path] = typer.Argument(..., help="One or more run directories (several: compared)."),
    port: int = typer.Option(8765, "--port", "-p", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: this machine only)."),
) -> None:
    """Serve a read-only web page over run artifacts: graph, node evidence, charts, live updates."""
    from syslab.web.app import serve

    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[yellow]warning:[/] binding {safe(host)}: anyone who can reach this interface can read these "
            "runs (code, logs, prompts); there is no authentication"
        )
    try:
        serve(
            run_dirs,
            host=host,
            port=port,
            announce=lambda url: console.print(f"syslab browse: {url}  (Ctrl-C to stop)"),
        )
    except SyslabError as e:
        _fail(e)


@app.command()
def doctor() -> None:
    """Report what this machine can do: sandboxes, Docker, Ray, GPU, local model, LLM endpoint."""
    from syslab.doctor import format_report, run_checks

    typer.echo(format_report(run_checks()))


@app.command("config")
def config_cmd(
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema."),
    of: str = typer.Option("run", "--of", help="run (a run config: --config / --set) | task (task.toml)."),
) -> None:
    """The settings reference: docs/config.md and docs/tasks.md, or the JSON schema (--schema)."""
    import json

    from syslab.reference import config_reference, task_reference
    from syslab.reference import schema as json_schema

    if of not in ("run", "task"):
        _fail(SyslabError(f"--of {of!r}: expected run or task"))
    if schema:
        typer.echo(json.dumps(json_schema(of), indent=2))
    else:
        typer.echo(config_reference() if of == "run" else task_reference())


image_app = typer.Typer(
    no_args_is_help=True, help="Container images for the docker sandbox (no registry needed)."
)
app.add_typer(image_app, name="image")


@image_app.command("build")
def image_build(
    tag: str = typer.Option("syslab-base:py3", "--tag", help="Tag of the base image."),
    task_dir: str | None = typer.Option(None, "--task", help="Also build this task's image on top."),
    package: list[str] = typer.Option([], "--package", help="Extra Debian package for the base image."),
    force: bool = typer.Option(False, "--force", help="Rebuild the base image even if it exists."),
) -> None:
    """Build the base image from a debootstrap root filesystem (about 1-3 min), then a task's layer."""
    from syslab.sandbox.images import build_base_image, ensure_task_image
    from syslab.task import load_task

    try:
        console.print(f"base image: {safe(build_base_image(tag, package, force=force))}")
        if task_dir:
            console.print(f"task image: {safe(ensure_task_image(load_task(resolve_task_dir(task_dir))))}")
    except SyslabError as e:
        _fail(e)


@app.command()
def review(run_dir: Path = typer.Argument(..., help=RUN_HELP)) -> None:
    """Objective checks of a run artifact (evidence, graph, best code, dead ends, manifest)."""
    from syslab.artifacts.review import print_review, review_run

    try:
        report = review_run(run_dir)
    except SyslabError as e:
        _fail(e)
        return
    print_review(console, report)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help=RUN_HELP),
    fmt: str = typer.Option("ara", "--format", "-f", help="ara | rocrate | graphml | json."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output path (default: beside the run)."),
) -> None:
    """Export a run: ARA directory, RO-Crate (Process Run Crate), or the graph as GraphML / JSON."""
    from syslab.artifacts.store import resolve_run_dir

    try:
        run_dir = resolve_run_dir(run_dir)
    except SyslabError as e:
        _fail(e)
    suffix = {"ara": "-ara", "rocrate": "-rocrate", "graphml": ".graphml", "json": ".graph.json"}
    if fmt not in suffix:
        _fail(SyslabError(f"--format {fmt!r}: expected one of {', '.join(suffix)}"))
    target = out or run_dir.parent / f"{run_dir.name}{suffix[fmt]}"
    try:
        if fmt == "ara":
            from syslab.artifacts.export_ara import export_ara

            export_ara(run_dir, target)
        elif fmt == "rocrate":
            from syslab.artifacts.export_rocrate import export_rocrate

            export_rocrate(run_dir, target)
        else:
            from syslab.artifacts.export_graph import export_graph

            export_graph(run_dir, target, fmt)
    except SyslabError as e:
        _fail(e)
    console.print(f"exported {fmt}: [cyan]{safe(target)}[/]")


import_app = typer.Typer(no_args_is_help=True, help="Turn another framework's run into a syslab artifact.")
app.add_typer(import_app, name="import")


@import_app.command("openevolve")
def import_openevolve_cmd(
    checkpoint_dir: Path = typer.Argument(..., help="An OpenEvolve checkpoint_N directory."),
    out: Path | None = typer.Option(None, "--out", "-o", help="New run directory (default runs/...)."),
) -> None:
    """Import an OpenEvolve checkpoint (programs/*.json + metadata.json)."""
    from syslab.artifacts.importers import import_openevolve

    try:
        path = import_openevolve(checkpoint_dir, out)
    except SyslabError as e:
        _fail(e)
        return
    console.print(f"imported: [cyan]{safe(path)}[/]  (syslab show {safe(path)})")


@import_app.command("shinka")
def import_shinka_cmd(
    db: Path = typer.Argument(..., help="A ShinkaEvolve SQLite database."),
    out: Path | None = typer.Option(None, "--out", "-o", help="New run directory (default runs/...)."),
) -> None:
    """Import a ShinkaEvolve database (its programs table)."""
    from syslab.artifacts.importers import import_shinka

    try:
        path = import_shinka(db, out)
    except SyslabError as e:
        _fail(e)
        return
    console.print(f"imported: [cyan]{safe(path)}[/]  (syslab show {safe(path)})")


@app.command()
def reproduce(
    target: str = typer.Argument(..., help="`adrs` (paper case studies) or a run directory."),
    problems: str | None = typer.Option(None, "--problems", help="adrs: comma-separated problems."),
    budget: int | None = typer.Option(None, "--budget", help="adrs: evaluations per problem (default 40)."),
    workers: int = typer.Option(1, "--workers", "-w", help="Evaluations in parallel."),
    out: Path | None = typer.Option(None, "--out", "-o", help="adrs: output directory (default runs/adrs)."),
    seed: int = typer.Option(0, "--seed", help="adrs: random seed."),
    proposer: str = typer.Option("auto", "--proposer", help="adrs: auto | llm | local | mutate."),
    top_k: int = typer.Option(3, "--top-k", help="run: re-evaluate the k best candidates too."),
    rel_tol: float | None = typer.Option(
        None, "--rel-tol", help="run: relative tolerance (default: exact if deterministic, else 0.05)."
    ),
    task: Path | None = typer.Option(None, "--task", help="run: task dir (default: the manifest's)."),
    leaderboard: Path | None = typer.Option(
        None,
        "--leaderboard",
        help="adrs: a local ADRS-Leaderboard checkout; evaluate each of its solutions with syslab's "
        "evaluators instead of evolving (output default runs/adrs-leaderboard).",
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        help="adrs --leaderboard: seconds per solution (default: the problem's declared one, else the task's).",
    ),
) -> None:
    """Re-run the ADRS case studies (`reproduce adrs`), or re-evaluate a run's claims (`reproduce RUN`)."""
    try:
        if target == "adrs" and leaderboard is not None:
            from syslab.adrs.leaderboard_repro import reproduce_leaderboard

            names = [p.strip() for p in problems.split(",") if p.strip()] if problems else None
            reproduce_leaderboard(leaderboard, names, out or Path("runs") / "adrs-leaderboard", timeout)
            return
        if target == "adrs":
            try:
                from syslab.adrs.reproduce import reproduce_adrs
            except ImportError as e:
                raise SyslabError(f"syslab reproduce adrs is not available in this install ({e})") from None

            names = [p.strip() for p in problems.split(",") if p.strip()] if problems else None
            reproduce_adrs(names, budget or 40, out or Path("runs") / "adrs", workers, seed, proposer)
            return
        from syslab.artifacts.reproduce import print_reproduction, reproduce_run

        report = reproduce_run(target, top_k=top_k, rel_tol=rel_tol, task_dir=task, workers=workers)
    except SyslabError as e:
        _fail(e)
        return
    print_reproduction(console, report)
    raise typer.Exit(0 if report.ok else 1)


def main() -> None:  # pragma: no cover - console entry for `python -m syslab`
    try:
        app()
    except SyslabError as e:
        err.print(f"[red]error:[/] {safe(e)}")
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
