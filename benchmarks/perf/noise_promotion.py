"""Noise-aware promotion, measured: how often does the promoted best lose on re-measurement?

For each task, seed and mode (single-shot: no [noise] table; noise-aware: [noise] repeats = k)
this runs a small evolution with the offline mutator, then walks its promotions (each time the
run's best changed: challenger over incumbent) and measures both programs again, `--remeasure`
fresh times each, outside the run. A promotion "loses on re-measurement" when the challenger's
fresh mean is not better than the incumbent's. Extra evaluations are the re-measurements the
contests spent (they count against the same budget, so fewer candidates are explored).

Tasks: eplb (benchmarks/adrs/eplb: the leaderboard score includes the algorithm's running time;
needs torch and SYSLAB_DATA) and bin_packing with a noisy score (examples/bin_packing copied, its
excess_pct multiplied by 1 + 5% x N(0, 1) drawn from os.urandom; the true value is kept as
`true_excess_pct`). "Not truly better": the promoted program's noise-free part (bin_packing's true
excess, eplb's balancedness) is no better than the incumbent's.

    SYSLAB_DATA=/work/shared/data python benchmarks/perf/noise_promotion.py --seeds 3 --budget 8
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.executor import make_sandbox
from syslab.task import Task, load_task

ROOT = Path(__file__).resolve().parents[2]
# The noise-free part of each task's score, higher is better: bin_packing's excess before the noise
# was added; eplb's balancedness (its score's other part is the algorithm's running time).
TRUTH = {"bin_packing": ("true_excess_pct", -1.0), "eplb": ("balancedness_gpu", 1.0)}

NOISY_WRAPPER = '''"""bin_packing with a noisy score (noise_promotion benchmark): excess_pct x (1 + 5% x N(0, 1))."""

import importlib.util
import math
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bin_packing_evaluate", Path(__file__).with_name("evaluate.py"))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)
evaluate_quick = _base.evaluate_quick


def _gauss() -> float:
    u1 = (int.from_bytes(os.urandom(7), "big") + 1) / 2**56
    u2 = int.from_bytes(os.urandom(7), "big") / 2**56
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def evaluate(candidate):
    out = _base.evaluate(candidate)
    out["true_excess_pct"] = out["excess_pct"]
    out["excess_pct"] = out["excess_pct"] * (1.0 + 0.05 * _gauss())
    return out
'''


def with_noise(toml: str, noise: str) -> str:
    """task.toml text with its [noise] table replaced by `noise` (empty: none)."""
    toml = re.sub(r"(?ms)^\[noise\]\n.*?(?=^\[|\Z)", "", toml)
    return toml.rstrip() + ("\n\n" + noise + "\n" if noise else "\n")


def prepare(name: str, work: Path, noise: str | None) -> Path:
    """A copy of the task with the given [noise] table (None: the task's own, if it declares one)."""
    if name == "eplb":
        src = ROOT / "benchmarks" / "adrs" / "eplb"
    elif name == "bin_packing":
        src = ROOT / "examples" / "bin_packing"
    else:
        raise SystemExit(f"unknown task {name!r} (eplb, bin_packing)")
    dst = work / f"{name}-{'single' if noise == '' else 'noise'}"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (dst / "task.toml").read_text()
    if name == "bin_packing":
        (dst / "noisy_evaluate.py").write_text(NOISY_WRAPPER)
        toml = toml.replace('evaluator = "evaluate.py:evaluate"', 'evaluator = "noisy_evaluate.py:evaluate"')
    if noise is not None or "[noise]" not in toml:
        toml = with_noise(toml, noise or "")
    (dst / "task.toml").write_text(toml)
    return dst


def promotions(run_dir: Path, task: Task) -> tuple[list[tuple[Node, Node]], int, int]:
    """(challenger, incumbent) for every change of the run's best, in record order; candidates
    evaluated; evaluations spent re-measuring."""
    with RunStore.open(run_dir, readonly=True) as store:
        nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis and n.wall_s is not None]
    nodes.sort(key=lambda n: (n.finished_at or 0.0, n.id))
    noisy = task.spec.noise.active
    best: Node | None = None
    out = []
    for n in nodes:
        if n.status != NodeStatus.evaluated or not n.valid:
            continue
        if best is None:
            best = n
            continue
        rep = n.data.get("repeats") or {}
        won = bool(rep.get("promoted")) if noisy else task.better(n.score, best.score)
        if won:
            out.append((n, best))
            best = n
    extra = sum(max(0, len((n.data.get("repeats") or {}).get("runs", [])) - 1) for n in nodes)
    return out, len(nodes), extra


def task_name(task: Task) -> str:
    return "eplb" if "eplb" in task.name else task.name


class Remeasure:
    """Fresh measurements of a program, outside any run (cached per program text)."""

    def __init__(self, times: int):
        self.times = times
        self.sandbox = make_sandbox("process")
        self.cache: dict[str, tuple[float, float | None]] = {}
        self.evaluations = 0

    def __call__(self, task: Task, code: str) -> tuple[float, float | None]:
        """Mean fresh score (higher is better) and mean true score if the task reports one."""
        if code not in self.cache:
            scores, truths = [], []
            for _ in range(self.times):
                r = evaluate_program(task, code, self.sandbox)
                self.evaluations += 1
                if r.ok and r.score is not None:
                    scores.append(r.score)
                    name, sign = TRUTH.get(task_name(task), ("", 0.0))
                    if name in r.metrics:
                        truths.append(sign * r.metrics[name])
            mean = statistics.fmean(scores) if scores else float("-inf")
            self.cache[code] = (mean, statistics.fmean(truths) if truths else None)
        return self.cache[code]


def run_one(task_dir: Path, seed: int, budget: int, out: Path) -> Path:
    cfg = RunConfig(seed=seed, proposer="mutate", progress=False, analyst_every=0, out=out)
    cfg.budget.evaluations = budget
    cfg.executor.workers = 1
    return run_evolution(task_dir, cfg).run_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="bin_packing,eplb")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--first-seed", type=int, default=0, help="run seeds first-seed .. first-seed + seeds - 1"
    )
    ap.add_argument("--budget", type=int, default=8, help="evaluations per run (repeats included)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="k of the noise-aware mode (tasks without [noise])"
    )
    ap.add_argument("--remeasure", type=int, default=3, help="fresh measurements per promoted program")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here too")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="syslab-noise-bench-"))
    rows = []
    for name in args.tasks.split(","):
        declared = load_task(prepare(name, work, None)).spec.noise
        own = f"[noise]\nrepeats = {args.repeats}" if not declared.active else None  # else the task's own
        for noise in ("", own):
            task_dir = prepare(name, work, noise)
            task = load_task(task_dir)
            n = task.spec.noise
            mode = "single-shot" if noise == "" else f"noise-aware (k={n.repeats}, rel_tol={n.rel_tol:g})"
            remeasure = Remeasure(args.remeasure)
            n_prom = lost = not_better = candidates = extra = evals = 0
            t0 = time.monotonic()
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                run_dir = run_one(task_dir, seed, args.budget, work / "runs")
                proms, n_cand, n_extra = promotions(run_dir, task)
                with RunStore.open(run_dir, readonly=True) as store:
                    codes = {n.id: store.get_code(n.id) or "" for p in proms for n in p}
                candidates += n_cand
                extra += n_extra
                evals += n_cand + n_extra
                for challenger, incumbent in proms:
                    c_mean, c_true = remeasure(task, codes[challenger.id])
                    i_mean, i_true = remeasure(task, codes[incumbent.id])
                    n_prom += 1
                    lost += c_mean <= i_mean
                    if c_true is not None and i_true is not None:
                        not_better += c_true <= i_true
                print(
                    f"{name} {mode} seed {seed}: {len(proms)} promotions, {n_extra} re-measurements",
                    file=sys.stderr,
                )
            rows.append(
                {
                    "task": name,
                    "mode": mode,
                    "runs": args.seeds,
                    "evaluations": evals,
                    "candidates": candidates,
                    "extra": extra,
                    "promotions": n_prom,
                    "lost": lost,
                    "not_better": not_better,
                    "remeasure_evals": remeasure.evaluations,
                    "wall_s": time.monotonic() - t0,
                }
            )
    table = render(rows, args)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    shutil.rmtree(work, ignore_errors=True)


def render(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    head = (
        f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}, budget {args.budget} evaluations per run, offline mutator, "
        f"{args.remeasure} fresh measurements per promoted program\n\n"
        "| task | mode | evaluations (runs) | candidates | extra evaluations | promotions | "
        "lost on re-measurement | not truly better |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        share = f"{r['lost']}/{r['promotions']}" + (
            f" ({100 * r['lost'] / r['promotions']:.0f}%)" if r["promotions"] else ""
        )
        truth = "-" if r["not_better"] is None else f"{r['not_better']}/{r['promotions']}"
        lines.append(
            f"| {r['task']} | {r['mode']} | {r['evaluations']} ({r['runs']}) | {r['candidates']} | "
            f"{r['extra']} | {r['promotions']} | {share} | {truth} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
