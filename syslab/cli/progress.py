"""The run's progress line: evaluations used of the budget, attempts, failures, best score.

    evals 12/40 (2 failed) · attempts 15 (3 not evaluated) · best gap=0.5 · 0:00:12

`evals` counts what the evaluation budget counts: every program run through the task's evaluator,
the seed's included, whatever the outcome; `failed` are those that failed (syntax, runtime,
timeout, sandbox violation, invalid output, ...). `attempts` counts proposals asked of the
proposer (the seed is not one); `not evaluated` are attempts that yielded no program to evaluate
(an answer that did not parse or apply, a duplicate, an LLM error). README.md, "What counts
against the budget", says the same. A task that declares noise ([noise] in task.toml) re-measures
candidates before promoting them: `re-measured` counts those evaluations, which `evals` includes.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import ProgressColumn
from rich.progress import Task as BarTask
from rich.table import Column
from rich.text import Text

from syslab.artifacts.schema import Node
from syslab.cli.terminal import clean, safe
from syslab.evaluators.failures import FailureKind

# Failures recorded before any evaluation: the attempt produced no program to run.
NOT_EVALUATED = frozenset(
    k.value
    for k in (
        FailureKind.malformed_response,
        FailureKind.patch_failed,
        FailureKind.duplicate,
        FailureKind.llm_error,
    )
)
# A candidate cut off by a stopped run: neither outcome; its re-run on resume is what counts.
NOT_COUNTED = frozenset({FailureKind.interrupted.value})


def classify(failure_kind: str | None) -> str:
    """'ok', 'not_evaluated', 'failed' (an evaluation that failed) or 'ignored' for a node's failure."""
    if not failure_kind:
        return "ok"
    if failure_kind in NOT_COUNTED:
        return "ignored"
    return "not_evaluated" if failure_kind in NOT_EVALUATED else "failed"


class _Line(ProgressColumn):
    """The whole line as one plain Text: nothing in it is parsed as markup, and on a narrow
    terminal it wraps instead of cutting a number short."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=False, overflow="fold"))

    def render(self, task: BarTask) -> Text:
        f = task.fields
        total = "?" if task.total is None else f"{task.total:.0f}"
        elapsed = "-:--:--" if task.elapsed is None else str(timedelta(seconds=max(0, int(task.elapsed))))
        return Text.assemble(
            ("evals", "bold blue"),
            f" {task.completed:.0f}/{total} ({f['failed']} failed)",
            f" · {f['repeats']} re-measured" if f.get("repeats") else "",
            f" · attempts {f['attempts']} ({f['not_evaluated']} not evaluated)",
            f" · best {f['best']} · {elapsed}",
        )


class Progress:
    def __init__(self, enabled: bool, total: int, task: Any):
        self.enabled = enabled
        self.total = total
        self.task = task
        # Piped (CI logs) gets a wide line, as the CLI's own consoles do.
        self.console = Console(stderr=True, emoji=False, width=None if sys.stderr.isatty() else 160)
        self.failed = 0  # evaluations that failed
        self.not_evaluated = 0  # attempts that yielded no program to evaluate
        self._counted = False  # tallies seeded from the store (a resumed run has earlier records)
        self._bar: RichProgress | None = None
        self._id = None

    def start(self, run_dir: Path, proposer: str, reason: str) -> None:
        if not self.enabled:
            return
        self.console.print(f"[bold]syslab[/] run of [cyan]{safe(self.task.name)}[/] -> {safe(run_dir)}")
        self.console.print(f"proposer: [green]{safe(proposer)}[/] ({safe(reason)})")
        self._bar = RichProgress(_Line(), console=self.console, transient=False)
        self._bar.start()
        self._id = self._bar.add_task(
            "run", total=self.total, attempts=0, not_evaluated=0, failed=0, best="-", repeats=0
        )

    def _count(self, node: Node, engine: Any) -> None:
        store = getattr(engine, "store", None)
        if not self._counted and store is not None:
            # The store already holds `node`; on resume it also holds the earlier session's records.
            for kind, n in store.failure_counts().items():
                outcome = classify(kind)
                if outcome == "failed":
                    self.failed += n
                elif outcome == "not_evaluated":
                    self.not_evaluated += n
            self._counted = True
            return
        self._counted = True
        outcome = classify(node.failure_kind)
        if outcome == "failed":
            self.failed += 1
        elif outcome == "not_evaluated":
            self.not_evaluated += 1

    def update(self, node: Node, engine: Any) -> None:
        self._count(node, engine)
        if self._bar is None or self._id is None:
            return
        best = engine.best
        metric = self.task.primary_metric
        # Plain Text, not markup: only control characters need neutralising.
        best_txt = f"{clean(metric)}={best.metrics[metric]:.4g}" if best and metric in best.metrics else "-"
        self._bar.update(
            self._id,
            completed=engine.counters.evaluations,
            attempts=int(engine.counters.attempts),
            not_evaluated=self.not_evaluated,
            failed=self.failed,
            best=best_txt,
            repeats=int(getattr(engine.counters, "repeats", 0)),
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
