"""Per-evaluation sandbox overhead: process vs docker vs ray+process, side by side, one run.

A trivial task (the evaluator returns a constant; the candidate does nothing) is evaluated, in
shared mode (one process) and in split mode (trusted + candidate process, one call; forked from
warm templates, as by default when root, and started cold),
`--n` times, one at a time, through `evaluate_program` with each backend, so what is timed
is the sandbox's own cost: jail/container setup, the child runner, teardown. Also timed:
the bare `sandbox.run(["true"])` for the two sandboxes, and Ray with `--workers` workers
evaluating `--n` jobs at once (throughput). Backends that cannot run here are reported
as skipped with the reason. Prints medians (and p90) in milliseconds, and for the process
backend the CPU time per evaluation of everything involved (this process, the templates and
every child; from a cgroup-v1 cpuacct group this process joins, as root; else not printed).

    python benchmarks/perf/sandbox_overhead.py [--n 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import atexit
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from syslab.evaluators.harness import evaluate_program  # noqa: E402
from syslab.sandbox.base import Limits  # noqa: E402
from syslab.task import load_task  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "vs_openevolve"))
from proctree import CpuGroup  # noqa: E402

TASK_TOML = """name = "trivial"
description = "Constant evaluator: measures sandbox overhead only."
[metrics.x]
direction = "maximize"
"""
SEED = "# EVOLVE-BLOCK-START\nX = 1\n# EVOLVE-BLOCK-END\n"
EVALUATOR = "def evaluate(program_path):\n    return {'x': 1.0}\n"  # shared mode: one process
# Split mode: the trusted process and the sandboxed candidate process (one call each way).
EVALUATOR_SPLIT = "def evaluate(candidate):\n    return {'x': float(candidate.get('X'))}\n"


def make_task(root: Path, evaluator: str = EVALUATOR) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "task.toml").write_text(TASK_TOML)
    (root / "seed.py").write_text(SEED)
    (root / "evaluate.py").write_text(evaluator)
    return root


CPU_MS: dict[str, float] = {}  # row name -> CPU ms per evaluation (process backend, cgroup only)


def _join_cpu_group() -> CpuGroup | None:
    """This process (and so every process it starts from now on) in a fresh cpuacct group."""
    group = CpuGroup.make(f"syslab-sandbox-overhead-{os.getpid()}")
    if group is not None:
        try:
            (group.path / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            return None
        atexit.register(_leave, group)
    return group


def _leave(group: CpuGroup) -> None:
    try:
        (group.path.parent / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return
    group.drain(wait_s=2.0)  # the templates end with this process's pool; stragglers are ours
    group.remove()


def timed(fn: Callable[[], object], n: int, cpu: CpuGroup | None = None, name: str = "") -> list[float]:
    fn()  # warm-up: imports, first container, Ray worker start
    out = []
    before = sum(cpu.cpu()) if cpu else 0.0
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    if cpu:
        CPU_MS[name] = (sum(cpu.cpu()) - before) / n * 1000
    return out


def row(name: str, samples: list[float] | str, per: str = "per evaluation") -> None:
    if isinstance(samples, str):
        print(f"  {name:<34} skipped: {samples}")
        return
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    cpu = f"   CPU {CPU_MS[name]:6.1f} ms" if name in CPU_MS else ""
    print(
        f"  {name:<34} median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms{cpu}   ({per}, n={len(ms)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from syslab.sandbox.process import ProcessSandbox

    tmp = Path(tempfile.mkdtemp(prefix="syslab-bench-"))
    task = load_task(make_task(tmp / "trivial"))
    split_task = load_task(make_task(tmp / "trivial_split", EVALUATOR_SPLIT))
    code = task.seed_code
    scratch = tmp / "scratch"
    scratch.mkdir()

    def check(result) -> None:  # noqa: ANN001
        if not result.ok:
            raise SystemExit(f"evaluation failed: {result.failure}")

    print(f"sandbox overhead on a trivial evaluator ({args.n} sequential evaluations each)")
    results: dict[str, list[float] | str] = {}
    proc = ProcessSandbox()
    cpu = _join_cpu_group()
    cold_task = load_task(split_task.root)
    cold_task.spec.sandbox.warm = False
    for name, fn in (
        ("process: sandbox.run(true)", lambda: proc.run(["true"], scratch, Limits(timeout_s=10))),
        ("process: evaluate_program", lambda: check(evaluate_program(task, code, proc))),
        ("process: evaluate_program, split", lambda: check(evaluate_program(split_task, code, proc))),
        ("process: split, cold (no templates)", lambda: check(evaluate_program(cold_task, code, proc))),
    ):
        results[name] = timed(fn, args.n, cpu, name)

    from syslab.sandbox.images import docker_ready

    ok, detail = docker_ready(build=False)
    if ok:
        from syslab.sandbox.docker import DockerSandbox

        dock = DockerSandbox(image=detail)
        results["docker: sandbox.run(true)"] = timed(
            lambda: dock.run(["true"], scratch, Limits(timeout_s=10)), args.n
        )
        results["docker: evaluate_program"] = timed(lambda: check(evaluate_program(task, code, dock)), args.n)
        results["docker: evaluate_program, split"] = timed(
            lambda: check(evaluate_program(split_task, code, dock)), args.n
        )
    else:
        results["docker: evaluate_program"] = detail

    try:
        import ray  # noqa: F401

        have_ray = True
    except ImportError:
        have_ray = False
    ray_throughput: list[float] | str = "Ray not installed (pip install 'syslab[ray]')"
    if have_ray:
        from syslab.sandbox.executor import EvalJob
        from syslab.sandbox.ray_executor import RayExecutor

        t = time.perf_counter()
        ex = RayExecutor(workers=args.workers)
        print(f"  (ray.init with {args.workers} workers: {time.perf_counter() - t:.1f} s, not counted below)")
        job = EvalJob(node_id=0, task_dir=str(task.root), code=code)
        results["ray+process: submit().result()"] = timed(lambda: check(ex.submit(job).result()), args.n)

        def batch() -> None:
            for f in [ex.submit(job) for _ in range(args.n)]:
                check(f.result())

        batch()
        t = time.perf_counter()
        batch()
        ray_throughput = [(time.perf_counter() - t) / args.n] * 1
        ex.shutdown()
    else:
        results["ray+process: submit().result()"] = ray_throughput

    for name, samples in results.items():
        row(name, samples)
    if isinstance(ray_throughput, list):
        row(f"ray+process: {args.n} at once, {args.workers} workers", ray_throughput, "wall / evaluation")


if __name__ == "__main__":
    main()
