"""A rich progress bar for runs: evaluations done, best score, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from syslab.artifacts.schema import Node
from syslab.terminal import safe


class Progress:
    def __init__(self, enabled: bool, total: int, task: Any):
        self.enabled = enabled
        self.total = total
        self.task = task
        self.console = Console(stderr=True, emoji=False)
        self.failures = 0
        self._bar: RichProgress | None = None
        self._id = None

    def start(self, run_dir: Path, proposer: str, reason: str) -> None:
        if not self.enabled:
            return
        self.console.print(f"[bold]syslab[/] run of [cyan]{safe(self.task.name)}[/] -> {safe(run_dir)}")
        self.console.print(f"proposer: [green]{safe(proposer)}[/] ({safe(reason)})")
        self._bar = RichProgress(
            TextColumn("[bold blue]evaluations"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TextColumn("failures {task.fields[failures]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self._id = self._bar.add_task("run", total=self.total, best="-", failures=0)

    def update(self, node: Node, engine: Any) -> None:
        if node.failure_kind:
            self.failures += 1
        if self._bar is None or self._id is None:
            return
        best = engine.best
        metric = self.task.primary_metric
        # The bar's columns are markup templates: the field goes in escaped.
        best_txt = f"{safe(metric)}={best.metrics[metric]:.4g}" if best and metric in best.metrics else "-"
        self._bar.update(
            self._id, completed=engine.counters.evaluations, best=best_txt, failures=self.failures
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
