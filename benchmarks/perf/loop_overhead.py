"""Per-candidate overhead of the run loop and store, and evaluation throughput vs workers.

    python benchmarks/perf/loop_overhead.py                 # 100 and 1,000 candidates
    python benchmarks/perf/loop_overhead.py --sizes 100 1000 10000 100000
    python benchmarks/perf/loop_overhead.py --throughput    # 1 vs 2 workers, CPU-bound evaluator

Overhead: a trivial evaluator answered instantly by an in-process executor (so
evaluation and sandbox time are excluded), the offline proposer, the real
store (SQLite + git + evidence) and the real population. The per-candidate
figure is the interval between consecutive recorded evaluations; the median
and p90 are printed per size, and the last line compares the largest size
with the smallest measured in the same process.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.evaluators.base import EvaluationResult, Failure, FailureKind
from syslab.sandbox.executor import EvalJob
from syslab.task import load_task

SEED = '''"""Benchmark task: constants to tune."""

# EVOLVE-BLOCK-START
def solve():
    a = 1.5
    b = 2.0
    c = 3.0
    d = 0.25
    return a * c + b * 2.0 - d
# EVOLVE-BLOCK-END
'''

TRIVIAL_EVAL = """import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {"distance": abs(float(mod.solve()) - 42.0)}
"""

CPU_EVAL = """import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    acc = 0
    for i in range(4_000_000):  # CPU-bound work, ~0.5 s
        acc = (acc + i * i) % 1_000_003
    return {"distance": abs(float(mod.solve()) - 42.0) + acc * 0.0}
"""


def write_task(root: Path, evaluator: str, timeout: float = 30) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "seed.py").write_text(SEED)
    (root / "evaluate.py").write_text(evaluator)
    (root / "task.toml").write_text(
        'name = "bench"\ndescription = "benchmark"\n[metrics.distance]\ndirection = "minimize"\n'
        f"[sandbox]\ntimeout_s = {timeout}\n"
    )
    return root


class InstantExecutor:
    """Answers each job at once, computing the trivial metric in-process (no sandbox)."""

    name = "instant"

    def submit(self, job: EvalJob) -> Future:
        ns: dict = {}
        f: Future = Future()
        try:
            exec(compile(job.code, "candidate", "exec"), ns)  # noqa: S102 - benchmark-only, our own seed mutations
            value = abs(float(ns["solve"]()) - 42.0)
        except Exception as e:  # noqa: BLE001 - a broken mutation is a recorded failure, as in a real run
            failure = Failure(kind=FailureKind.runtime, message=repr(e))
            f.set_result(EvaluationResult(failure=failure, stage="main"))
            return f
        f.set_result(EvaluationResult(metrics={"distance": value}, score=-value, valid=True, stage="main"))
        return f

    def shutdown(self) -> None:
        pass


def overhead(n: int, tmp: Path) -> tuple[float, float, float]:
    task = load_task(write_task(tmp / "task", TRIVIAL_EVAL))
    cfg = RunConfig.model_validate(
        {
            "out": str(tmp / f"runs-{n}"),
            "progress": False,
            "proposer": "mutate",
            "seed": 1,
            "budget": {"evaluations": n, "max_attempts_factor": 3},
            "analyst_every": 0,
        }
    )
    t0 = time.perf_counter()
    result = run_evolution(task, cfg, executor=InstantExecutor())
    total = time.perf_counter() - t0
    store = RunStore.open(result.run_dir, readonly=True)
    stamps = sorted(x.finished_at for x in store.nodes() if x.kind != NodeKind.analysis and x.finished_at)
    store.close()
    gaps = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:], strict=False)]
    gaps.sort()
    return statistics.median(gaps), gaps[int(0.9 * (len(gaps) - 1))], total * 1000 / max(1, len(stamps))


def throughput(tmp: Path, evaluations: int = 12) -> None:
    task = load_task(write_task(tmp / "cpu-task", CPU_EVAL))
    rates = {}
    for workers in (1, 2):
        cfg = RunConfig.model_validate(
            {
                "out": str(tmp / f"tp-{workers}"),
                "progress": False,
                "proposer": "mutate",
                "seed": 2,
                "budget": {"evaluations": evaluations},
                "executor": {"workers": workers},
                "analyst_every": 0,
            }
        )
        t0 = time.perf_counter()
        res = run_evolution(task, cfg)
        dt = time.perf_counter() - t0
        rates[workers] = res.evaluations / dt
        print(f"workers={workers}: {res.evaluations} evaluations in {dt:.1f}s = {rates[workers]:.2f} eval/s")
    print(f"throughput ratio 2 vs 1 workers: {rates[2] / rates[1]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 1000])
    ap.add_argument("--throughput", action="store_true", help="measure 1 vs 2 workers instead")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.throughput:
            throughput(tmp)
            return
        rows = []
        for n in args.sizes:
            med, p90, mean = overhead(n, tmp)
            rows.append((n, med, p90, mean))
            print(
                f"N={n:>7}: per-candidate loop+store overhead median {med:.2f} ms, p90 {p90:.2f} ms, "
                f"mean {mean:.2f} ms (incl. start-up)"
            )
        if len(rows) > 1:
            print(
                f"flatness: median at N={rows[-1][0]} is {rows[-1][1] / rows[0][1]:.2f}x the median at N={rows[0][0]}"
            )


if __name__ == "__main__":
    main()
