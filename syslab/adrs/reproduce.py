"""`syslab reproduce adrs`: evolve each ADRS problem and set our scores beside the published ones."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from syslab.errors import SyslabError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PROBLEMS = ["txn_scheduling", "cloudcast", "llm_sql", "cant_be_late", "cant_be_late_multi", "prism", "eplb"]
PUBLISHED_KEYS = ["baseline", "openevolve", "gepa", "shinkaevolve", "best_known"]
TASKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "adrs"


def task_dir(problem: str) -> Path:
    path = TASKS_DIR / problem
    if not (path / "task.toml").is_file():
        raise SyslabError(
            f"unknown ADRS problem {problem!r} (no {path / 'task.toml'}); known: {', '.join(PROBLEMS)}"
        )
    return path


def published(problem: str) -> dict[str, float | None]:
    """The published scores table of a task (published.toml); nan/missing -> None."""
    path = task_dir(problem) / "published.toml"
    scores = tomllib.loads(path.read_text()).get("scores", {}) if path.is_file() else {}
    out: dict[str, float | None] = {}
    for key in PUBLISHED_KEYS:
        v = scores.get(key)
        out[key] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    return out


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def reproduce_adrs(
    problems: list[str] | None,
    budget: int,
    out_dir: Path,
    workers: int = 1,
    seed: int = 0,
    proposer: str = "auto",
) -> list[dict[str, Any]]:
    """Run one evolution per problem; print a table, write `adrs.csv` and `adrs.png` in out_dir."""
    from syslab.config import BudgetConfig, ExecutorConfig, RunConfig
    from syslab.engine.run import run_evolution

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    histories: dict[str, list[tuple[int, float | None, float | None]]] = {}
    for problem in problems or PROBLEMS:
        config = RunConfig(
            seed=seed,
            budget=BudgetConfig(evaluations=budget),
            executor=ExecutorConfig(workers=workers),
            out=out_dir / "runs",
            run_name=f"adrs-{problem}-s{seed}",
            proposer=proposer,
        )
        result = run_evolution(task_dir(problem), config)
        histories[problem] = list(result.history)
        rows.append(
            {
                "problem": problem,
                "seed_score": result.seed_score,
                "our_best": result.best_score,
                "evaluations": result.evaluations,
                "run_dir": str(result.run_dir),
                **{f"published_{k}": v for k, v in published(problem).items()},
            }
        )
    print_table(rows)
    write_csv(rows, out_dir / "adrs.csv")
    plot(histories, out_dir / "adrs.png")
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ADRS case studies: ours vs published (0-100 leaderboard score)")
    for col in [
        "problem",
        "seed",
        "our best",
        "baseline",
        "OpenEvolve",
        "GEPA",
        "ShinkaEvolve",
        "best known",
    ]:
        table.add_column(col, justify="left" if col == "problem" else "right")
    for r in rows:
        table.add_row(
            r["problem"],
            _fmt(r["seed_score"]),
            _fmt(r["our_best"]),
            *[_fmt(r[f"published_{k}"]) for k in PUBLISHED_KEYS],
        )
    Console().print(table)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})


def plot(histories: dict[str, list], path: Path) -> Path | None:
    """Best-so-far score vs evaluations, one panel per problem, published scores as lines."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install 'syslab[adrs]'): no plot written")
        return None
    n = max(1, len(histories))
    cols = min(3, n)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(5 * cols, 3.5 * ((n + cols - 1) // cols)))
    axes_list = list(getattr(axes, "flat", [axes]))
    styles = {
        "baseline": ":",
        "openevolve": "--",
        "gepa": "-.",
        "shinkaevolve": (0, (5, 1)),
        "best_known": "-",
    }
    for ax, (problem, hist) in zip(axes_list, histories.items(), strict=False):
        xs = [h[0] for h in hist if h[2] is not None]
        ys = [h[2] for h in hist if h[2] is not None]
        ax.step(xs, ys, where="post", color="black", label="syslab best so far")
        for key, value in published(problem).items():
            if value is not None:
                ax.axhline(value, linestyle=styles[key], linewidth=1, alpha=0.7, label=key)
        ax.set_title(problem)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("score")
        ax.set_ylim(0, 105)
        ax.legend(fontsize=6)
    for ax in axes_list[len(histories) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
