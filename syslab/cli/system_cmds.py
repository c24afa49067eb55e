"""What the machine can do and how syslab is set up: doctor, config, image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from syslab.cli import shell
from syslab.cli.shell import app
from syslab.cli.terminal import safe
from syslab.errors import SyslabError

if TYPE_CHECKING:
    pass


@app.command()
def doctor() -> None:
    """Report what this machine can do: sandboxes, Docker, Ray, GPU, local model, LLM endpoint."""
    from syslab.cli.doctor import format_report, run_checks

    typer.echo(format_report(run_checks()))


@app.command("config")
def config_cmd(
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema."),
    of: str = typer.Option("run", "--of", help="run (a run config: --config / --set) | task (task.toml)."),
) -> None:
    """The settings reference: docs/config.md and docs/tasks.md, or the JSON schema (--schema)."""
    import json

    from syslab.cli.reference import config_reference, task_reference
    from syslab.cli.reference import schema as json_schema

    if of not in ("run", "task"):
        shell._fail(SyslabError(f"--of {of!r}: expected run or task"))
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
        shell.console.print(f"base image: {safe(build_base_image(tag, package, force=force))}")
        if task_dir:
            shell.console.print(
                f"task image: {safe(ensure_task_image(load_task(shell.resolve_task_dir(task_dir))))}"
            )
    except SyslabError as e:
        shell._fail(e)
