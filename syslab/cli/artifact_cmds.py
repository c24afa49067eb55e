"""Commands over a run's artifact: show, lineage, diff, browse, review, export, import, reproduce."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from syslab.cli import shell
from syslab.cli.shell import RUN_HELP, app
from syslab.cli.terminal import safe
from syslab.errors import SyslabError

if TYPE_CHECKING:
    pass


@app.command()
def show(
    run_dir: Path = typer.Argument(..., help=RUN_HELP),
    top: int = typer.Option(10, "--top", help="Best candidates to list."),
    all_: bool = typer.Option(False, "--all", help="List every node."),
) -> None:
    """Summary of a run: best candidates, every attempt by failure kind."""
    from syslab.cli.views import show_run

    try:
        show_run(shell.console, run_dir, top=top, list_all=all_)
    except SyslabError as e:
        shell._fail(e)


@app.command()
def lineage(run_dir: Path, node: int) -> None:
    """The chain of ancestors of NODE, root first."""
    from syslab.cli.views import show_lineage

    try:
        show_lineage(shell.console, run_dir, node)
    except SyslabError as e:
        shell._fail(e)


@app.command()
def diff(run_dir: Path, node: int, other: int | None = typer.Argument(None)) -> None:
    """Unified diff of NODE against its parent (or against OTHER)."""
    from syslab.cli.views import show_diff

    try:
        show_diff(shell.console, run_dir, node, other)
    except SyslabError as e:
        shell._fail(e)


@app.command()
def browse(
    run_dirs: list[Path] = typer.Argument(..., help="One or more run directories (several: compared)."),
    port: int = typer.Option(8765, "--port", "-p", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: this machine only)."),
) -> None:
    """Serve a read-only web page over run artifacts: graph, node evidence, charts, live updates."""
    from syslab.web.app import serve

    if host not in ("127.0.0.1", "localhost", "::1"):
        shell.err.print(
            f"[yellow]warning:[/] binding {safe(host)}: anyone who can reach this interface can read these "
            "runs (code, logs, prompts); there is no authentication"
        )
    try:
        serve(
            run_dirs,
            host=host,
            port=port,
            announce=lambda url: shell.console.print(f"syslab browse: {url}  (Ctrl-C to stop)"),
        )
    except SyslabError as e:
        shell._fail(e)


@app.command()
def review(run_dir: Path = typer.Argument(..., help=RUN_HELP)) -> None:
    """Objective checks of a run artifact (evidence, graph, best code, dead ends, manifest)."""
    from syslab.artifacts.review import print_review, review_run

    try:
        report = review_run(run_dir)
    except SyslabError as e:
        shell._fail(e)
        return
    print_review(shell.console, report)
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
        shell._fail(e)
    suffix = {"ara": "-ara", "rocrate": "-rocrate", "graphml": ".graphml", "json": ".graph.json"}
    if fmt not in suffix:
        shell._fail(SyslabError(f"--format {fmt!r}: expected one of {', '.join(suffix)}"))
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
        shell._fail(e)
    shell.console.print(f"exported {fmt}: [cyan]{safe(target)}[/]")


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
        shell._fail(e)
        return
    shell.console.print(f"imported: [cyan]{safe(path)}[/]  (syslab show {safe(path)})")


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
        shell._fail(e)
        return
    shell.console.print(f"imported: [cyan]{safe(path)}[/]  (syslab show {safe(path)})")


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
    memory_mb: int | None = typer.Option(
        None,
        "--memory-mb",
        min=64,
        help="adrs --leaderboard: memory cap per solution in MiB (default: half the machine's; the "
        "leaderboard sets none). Never below the task's own.",
    ),
) -> None:
    """Re-run the ADRS case studies (`reproduce adrs`), or re-evaluate a run's claims (`reproduce RUN`)."""
    try:
        if target == "adrs" and leaderboard is not None:
            from syslab.adrs.leaderboard_repro import reproduce_leaderboard

            names = [p.strip() for p in problems.split(",") if p.strip()] if problems else None
            out_dir = out or Path("runs") / "adrs-leaderboard"
            reproduce_leaderboard(leaderboard, names, out_dir, timeout, memory_mb=memory_mb)
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
        shell._fail(e)
        return
    print_reproduction(shell.console, report)
    raise typer.Exit(0 if report.ok else 1)
