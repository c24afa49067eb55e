"""`syslab reproduce adrs --leaderboard PATH`: every leaderboard solution through syslab's evaluator.

For each solution of a problem syslab ships (`benchmarks/adrs/<p>`), the
solution is staged as the leaderboard stages it (leaderboard_staging.py) and
evaluated exactly as `syslab eval` evaluates a file: `evaluate_program` with
the process sandbox, in the task's split mode, under the leaderboard's
timeout where the problem declares one. One row per solution: the
published score (the checkout's results.json, else the task's
published.toml), syslab's, their difference, the framework's rank within the
problem by each, wall time and a status. Rows are written (CSV and
markdown) after every solution, so an interrupted run keeps what it
measured; a failing solution is a row, never the end of the run.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from syslab.adrs import leaderboard_staging as staging
from syslab.adrs.reproduce import PROBLEMS, task_dir
from syslab.errors import SyslabError
from syslab.evaluators.base import EvaluationResult
from syslab.task import Task, load_task

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

RESULTS_SOURCE = "results.json"
PUBLISHED_TOML_SOURCE = "blog/published.toml"
COLUMNS = [
    "problem",
    "framework",
    "published",
    "published_source",
    "syslab",
    "diff",
    "rank_published",
    "rank_syslab",
    "wall_s",
    "timeout_s",
    "memory_mb",
    "status",
    "notes",
]


class ReproRow(BaseModel):
    """One leaderboard solution, published beside measured."""

    problem: str
    framework: str
    published: float | None = None
    published_source: str = ""
    syslab: float | None = None
    rank_published: int | None = None
    rank_syslab: int | None = None
    wall_s: float = 0.0
    timeout_s: float | None = None
    memory_mb: int | None = None
    status: str = "ok"  # "ok" or the failure kind
    notes: str = ""

    @property
    def diff(self) -> float | None:
        if self.published is None or self.syslab is None:
            return None
        return self.syslab - self.published

    def record(self) -> dict[str, str]:
        def num(v: float | None, digits: int = 2) -> str:
            if v is None:
                return ""
            return f"{0.0 if round(v, digits) == 0 else v:.{digits}f}"  # never "-0.00"

        return {
            "problem": self.problem,
            "framework": self.framework,
            "published": num(self.published),
            "published_source": self.published_source,
            "syslab": num(self.syslab),
            "diff": num(self.diff),
            "rank_published": "" if self.rank_published is None else str(self.rank_published),
            "rank_syslab": "" if self.rank_syslab is None else str(self.rank_syslab),
            "wall_s": num(self.wall_s, 1),
            "timeout_s": num(self.timeout_s, 0),
            "memory_mb": "" if self.memory_mb is None else str(self.memory_mb),
            "status": self.status,
            "notes": self.notes,
        }


def published_score(checkout: Path, problem: str, framework: str) -> tuple[float | None, str]:
    """(score, source): results.json in the checkout, else the task's published.toml, else blank."""
    score = staging.results_score(checkout, problem, framework)
    if score is not None:
        return score, RESULTS_SOURCE
    path = task_dir(problem) / "published.toml"
    if path.is_file():
        try:
            scores = tomllib.loads(path.read_text(encoding="utf-8")).get("scores", {})
        except tomllib.TOMLDecodeError as e:
            raise SyslabError(f"{path}: scores: not valid TOML ({e})") from None
        value = scores.get(framework.lower())
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value), PUBLISHED_TOML_SOURCE
    return None, ""


def default_memory_mb() -> int:
    """The leaderboard limits no solution's memory (its container has none); syslab keeps a cap, to
    protect the host, at half the machine's memory (txn_scheduling's ShinkaEvolve file holds over
    4 GiB of cached schedules)."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(2048, physical // 2)


def with_limits(task: Task, timeout_s: float | None, memory_mb: int | None) -> Task:
    """The task as the leaderboard evaluates a solution: its full evaluation alone (no cascade stage
    first: the leaderboard scores every solution once, whole; syslab's cheaper stages are there to
    reject candidates early during evolution), allowed `timeout_s` seconds and at least `memory_mb`
    MiB."""
    spec = task.spec
    update: dict[str, float | int] = {}
    if timeout_s:
        update["timeout_s"] = float(timeout_s)
    if memory_mb:
        update["memory_mb"] = max(spec.sandbox.memory_mb, int(memory_mb))
    sandbox = spec.sandbox.model_copy(update=update)
    return task.model_copy(update={"spec": spec.model_copy(update={"sandbox": sandbox, "stages": []})})


def rank(rows: list[ReproRow]) -> None:
    """Rank the frameworks within each problem (1 = highest score; ties share a rank)."""
    for attr, target in (("published", "rank_published"), ("syslab", "rank_syslab")):
        for problem in {r.problem for r in rows}:
            group = [r for r in rows if r.problem == problem]
            values = [getattr(r, attr) for r in group]
            for r, v in zip(group, values, strict=True):
                setattr(
                    r, target, None if v is None else 1 + sum(1 for o in values if o is not None and o > v)
                )


def one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def evaluate_solution(
    checkout: Path,
    solution: staging.LeaderboardSolution,
    timeout_s: float | None,
    memory_mb: int | None = None,
) -> tuple[ReproRow, EvaluationResult | None]:
    """Stage and evaluate one solution; every failure becomes the row's status, never an exception."""
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.executor import make_sandbox

    row = ReproRow(problem=solution.problem, framework=solution.framework)
    start = time.monotonic()
    try:
        row.published, row.published_source = published_score(checkout, solution.problem, solution.framework)
        task = load_task(task_dir(solution.problem))
        limit = timeout_s or staging.leaderboard_timeout(checkout, solution.problem)
        task = with_limits(task, limit, memory_mb)
        row.timeout_s, row.memory_mb = task.spec.sandbox.timeout_s, task.spec.sandbox.memory_mb
        staged = staging.stage(checkout, solution)
    except (SyslabError, OSError, UnicodeDecodeError) as e:
        row.status, row.notes = "staging_error", one_line(str(e))
        return row, None
    try:
        result = evaluate_program(task, staged.code, make_sandbox("process"), staged.files)
    except (SyslabError, OSError) as e:  # the sandbox itself failed (not the candidate): a row too
        row.status, row.notes = "sandbox_error", one_line(f"{type(e).__name__}: {e}")
        row.wall_s = time.monotonic() - start
        return row, None
    row.wall_s = time.monotonic() - start
    if result.ok:
        row.syslab = result.score
        if staged.left_out:
            names = ", ".join(Path(f).name for f in staged.left_out)
            row.notes = one_line(f"not staged (over 1 MiB): {names}")
    else:
        failure = result.failure
        row.status = failure.kind.value if failure else "invalid"
        row.notes = one_line(failure.message if failure else "the evaluator reported the program invalid")
    return row, result


def write_outputs(rows: list[ReproRow], out_dir: Path) -> None:
    """`leaderboard.csv` and `leaderboard.md` in out_dir, rewritten whole (ranks change per row)."""
    rank(rows)
    records = [r.record() for r in rows]
    tmp = out_dir / "leaderboard.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(records)
    tmp.replace(out_dir / "leaderboard.csv")
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---:" if c not in ("problem", "framework", "published_source", "status", "notes") else "---"
                       for c in COLUMNS) + "|",
    ]  # fmt: skip
    for rec in records:
        lines.append("| " + " | ".join(rec[c].replace("|", "\\|") for c in COLUMNS) + " |")
    tmp = out_dir / "leaderboard.md.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(out_dir / "leaderboard.md")


def select(checkout: Path, problems: list[str] | None) -> tuple[list[staging.LeaderboardSolution], list[str]]:
    """The solutions to evaluate (problems syslab ships, optionally restricted) and what is skipped."""
    found = staging.find_solutions(checkout)
    unknown = [p for p in problems or [] if p not in PROBLEMS]
    if unknown:
        raise SyslabError(
            f"--problems: unknown ADRS problem(s) {', '.join(unknown)}; known: {', '.join(PROBLEMS)}"
        )
    wanted = problems or PROBLEMS
    skipped = sorted(p for p in found if p not in PROBLEMS)
    chosen = [s for p in wanted for s in found.get(p, [])]
    return chosen, skipped


def reproduce_leaderboard(
    checkout: Path,
    problems: list[str] | None,
    out_dir: Path,
    timeout_s: float | None = None,
    on_row: Callable[[ReproRow], None] | None = None,
    memory_mb: int | None = None,
) -> list[ReproRow]:
    """Evaluate every selected solution with a progress bar; print the table, write CSV, markdown, PNG."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from syslab.adrs.leaderboard_report import plot, print_table

    checkout = Path(checkout).expanduser().resolve()
    # Piped output (CI logs, a file) gets a wide table rather than rich's 80-column default.
    console = Console(width=None if sys.stdout.isatty() else 200, emoji=False)
    solutions, skipped = select(checkout, problems)
    if skipped:
        console.print(f"skipped (no syslab task): {', '.join(skipped)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[ReproRow] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("leaderboard solutions", total=len(solutions))
        for solution in solutions:
            progress.update(bar, description=f"{solution.problem}/{solution.framework}")
            row, _ = evaluate_solution(checkout, solution, timeout_s, memory_mb or default_memory_mb())
            rows.append(row)
            write_outputs(rows, out_dir)
            if on_row is not None:
                on_row(row)
            progress.advance(bar)
    print_table(rows, console)
    plot(rows, out_dir / "leaderboard.png")
    console.print(f"wrote {out_dir / 'leaderboard.csv'}, {out_dir / 'leaderboard.md'}")
    return rows
