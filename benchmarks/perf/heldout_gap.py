"""Search score against held-out score of the best candidate, per bundled task.

    python benchmarks/perf/heldout_gap.py [--budget 60] [--out DIR] TASK_DIR...

Runs `syslab run TASK --budget N --proposer mutate --seed 0` on each task (one at a time), then
prints a markdown table: the seed's and the best's search and held-out values of the primary
metric, the gap as the task's [heldout] table defines it, and the verdict. Each run's rows are
appended to DIR/heldout_gap.jsonl as they finish, so an interrupted sweep keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.task import load_task


def measure(task_dir: str, budget: int, out: Path) -> dict:
    t0 = time.time()
    task = load_task(task_dir)
    config = {"out": str(out / "runs"), "progress": False, "proposer": "mutate", "seed": 0}
    result = run_evolution(task, RunConfig.model_validate({**config, "budget": {"evaluations": budget}}))
    return {
        "task": task.name,
        "metric": task.primary_metric,
        "against": _against(task),
        "tolerance": task.spec.heldout.tolerance if task.spec.heldout else None,
        "budget": budget,
        "evaluations": result.evaluations,
        "best_node": result.best_node_id,
        "run_dir": str(result.run_dir),
        "wall_s": round(time.time() - t0, 1),
        "heldout": [r.model_dump(mode="json") for r in result.heldout],
    }


def _against(task: object) -> str | None:
    """What the gap is measured against: search (relative or absolute), seed or gain."""
    held = task.spec.heldout  # type: ignore[attr-defined]
    if held is None:
        return None
    return (
        held.against
        if held.against != "search"
        else ("search, relative" if held.relative else "search, absolute")
    )


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def table(rows: list[dict]) -> str:
    lines = [
        "| task | metric | seed search | seed held-out | best node | best search | best held-out | gap | "
        "tolerance | verdict | evals | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        held = row["heldout"]
        # The run's best (with noise-aware promotion not always the top search score).
        best = next((r for r in held if r["node_id"] == row["best_node"]), None)
        seed = next((r for r in held if r["node_id"] == 0), None)  # the seed is node 0
        verdict = "-" if best is None else ("overfit" if best["overfit"] else "holds")
        lines.append(
            f"| {row['task']} | {row['metric']} | {_fmt(seed and seed['search_value'])} | "
            f"{_fmt(seed and seed['heldout_value'])} | {row['best_node']} | {_fmt(best and best['search_value'])} | "
            f"{_fmt(best and best['heldout_value'])} | {_fmt(best and best['gap'])} | "
            f"{row['tolerance']} ({row['against']}) | {verdict} | {row['evaluations']} | {row['wall_s']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="+")
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("runs") / "heldout-gap")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for task_dir in args.tasks:
        rows.append(measure(task_dir, args.budget, args.out))
        with open(args.out / "heldout_gap.jsonl", "a") as f:
            f.write(json.dumps(rows[-1]) + "\n")
        print(f"{task_dir}: {rows[-1]['wall_s']} s", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
