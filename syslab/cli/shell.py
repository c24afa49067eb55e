"""The `syslab` command line: the Typer app, its consoles and shared helpers, and `main`.

Commands live by concern in run_cmds, artifact_cmds and system_cmds, imported below to register
them. Heavy imports stay inside commands so `--help` is fast."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from syslab.cli.terminal import safe
from syslab.errors import SyslabError

if TYPE_CHECKING:
    pass

RUN_HELP_TAIL = "or the --out directory of `syslab run` when it holds exactly one run"
RUN_HELP = f"Run directory ({RUN_HELP_TAIL})."

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="syslab: evolve systems algorithms in sandboxes and keep every attempt as a research artifact.",
)
# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default. Emoji codes
# off: printed text is often the candidate's (see syslab.cli.terminal), ":x:" should stay ":x:".
console = Console(width=None if sys.stdout.isatty() else 160, emoji=False)
# Errors and warnings stay one line when piped, however long the path they name.
err = Console(
    stderr=True, width=None if sys.stderr.isatty() else 160, soft_wrap=not sys.stderr.isatty(), emoji=False
)

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


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


# Each command module adds its commands to `app` when imported (after the app and helpers
# exist), in the order `syslab --help` lists them.
for _module in ("run_cmds", "artifact_cmds", "system_cmds"):
    importlib.import_module(f"syslab.cli.{_module}")


def main() -> None:  # pragma: no cover - console entry for `python -m syslab`
    try:
        app()
    except SyslabError as e:
        err.print(f"[red]error:[/] {safe(e)}")
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
