"""The leaderboard reproduction's views: the terminal table and the bar plot (published vs syslab)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from syslab.adrs.leaderboard_repro import ReproRow


def print_table(rows: list[ReproRow], console: Console) -> None:
    from rich.table import Table

    from syslab.cli.terminal import safe

    table = Table(title="ADRS leaderboard solutions: published vs syslab (0-100 score)")
    for col in ["problem", "framework", "published", "source", "syslab", "diff", "rank pub", "rank syslab",
                "wall s", "status", "notes"]:  # fmt: skip
        table.add_column(col, justify="left" if col in ("problem", "framework", "source", "status", "notes")
                         else "right", overflow="fold")  # fmt: skip
    for r in rows:
        rec = r.record()
        status = "[green]ok[/]" if r.status == "ok" else f"[red]{safe(r.status)}[/]"
        table.add_row(
            rec["problem"], safe(rec["framework"]), rec["published"] or "-", rec["published_source"] or "-",
            rec["syslab"] or "-", rec["diff"] or "-", rec["rank_published"] or "-", rec["rank_syslab"] or "-",
            rec["wall_s"], status, safe(rec["notes"]),
        )  # fmt: skip
    console.print(table)


def plot(rows: list[ReproRow], path: Path) -> Path | None:
    """One panel per problem: published and syslab score per framework as paired bars."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install 'syslab[adrs]'): no plot written")
        return None
    problems = list(dict.fromkeys(r.problem for r in rows))
    if not problems:
        return None
    cols = min(3, len(problems))
    nrows = (len(problems) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.6 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax, problem in zip(flat, problems, strict=False):
        group = [r for r in rows if r.problem == problem]
        xs = range(len(group))
        pub = [r.published if r.published is not None else 0.0 for r in group]
        ours = [r.syslab if r.syslab is not None else 0.0 for r in group]
        ax.bar([x - 0.2 for x in xs], pub, width=0.4, color="#9aa7b1", label="published")
        ax.bar([x + 0.2 for x in xs], ours, width=0.4, color="#1f5f8b", label="syslab")
        for x, r in zip(xs, group, strict=True):
            if r.status != "ok":
                ax.text(x + 0.2, 2, "x", ha="center", color="red", fontsize=9)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([r.framework for r in group], rotation=30, ha="right", fontsize=7)
        ax.set_title(problem)
        ax.set_ylim(0, 105)
        ax.set_ylabel("score")
        ax.legend(fontsize=6)
    for ax in flat[len(problems) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
