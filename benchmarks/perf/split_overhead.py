"""What split evaluation costs: the channel's round trip, and split vs shared wall time per evaluation.

    python benchmarks/perf/split_overhead.py [--calls 20000] [--repeats 5]
        [--tasks examples/bin_packing examples/load_balancer benchmarks/adrs/cant_be_late ...]

1. Round trip: this process plays the trusted side and calls a function in a
   candidate runtime child over the real channel (codec, protocol, two pipes as
   the process sandbox makes them), pinned to one CPU as the process sandbox
   does; for comparison over a socketpair (the Docker backend's kind), and unpinned.
   Two calls: `f(x) -> x` (a float each way) and bin packing's
   `priority(item, bins) -> scores` (a float and a small numpy array each way).
2. Per task: the seed evaluated through `evaluate_program` with the process
   sandbox, in split mode (two processes) and in shared mode (the same
   evaluator, given an in-process handle: the candidate in the scorer's
   process), alternating, `--repeats` times each. Median wall time and the
   ratio split/shared, side by side in one run.

ADRS tasks read their data from $SYSLAB_DATA (see syslab.data). Nothing here is asserted: the
figures are printed (and written as JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from syslab.evaluators import candidate_runtime  # noqa: E402
from syslab.evaluators.channel import Channel  # noqa: E402
from syslab.evaluators.handle import Candidate  # noqa: E402
from syslab.evaluators.harness import evaluate_program  # noqa: E402
from syslab.sandbox.process import ProcessSandbox  # noqa: E402
from syslab.task import Task, load_task  # noqa: E402

PROGRAM = "def f(x):\n    return x\n\ndef priority(item, bins):\n    return -(bins - item)\n"
DEFAULT_TASKS = [
    "examples/bin_packing",
    "examples/load_balancer",
    "benchmarks/adrs/cant_be_late",
    "benchmarks/adrs/txn_scheduling",
]


def _channel_pair(pipes: bool) -> tuple[Channel, Channel]:
    """(trusted end, candidate end): two pipes as the process sandbox makes them, or a socketpair."""
    if pipes:
        to_cand_r, to_cand_w = os.pipe()
        to_trusted_r, to_trusted_w = os.pipe()
        return Channel(to_trusted_r, wfd=to_cand_w), Channel(to_cand_r, wfd=to_trusted_w)
    ours, theirs = socket.socketpair()
    return Channel(ours.detach()), Channel(theirs.detach())


def round_trips(calls: int, pin: bool, pipes: bool) -> dict[str, dict[str, float]]:
    ours, theirs = _channel_pair(pipes)
    cpu = min(os.sched_getaffinity(0))
    saved = os.sched_getaffinity(0)
    pid = os.fork()
    if pid == 0:
        ours.close()
        os.chdir(tempfile.mkdtemp(prefix="syslab-bench-"))  # the runtime writes program.py to its cwd
        if pin:
            os.sched_setaffinity(0, {cpu})
        try:
            candidate_runtime.serve(theirs)
        finally:
            os._exit(0)
    theirs.close()
    if pin:
        os.sched_setaffinity(0, {cpu})
    cand = Candidate(ours, PROGRAM)
    out = {}
    try:
        cand._ready(None)
        f, prio = cand.function("f"), cand.function("priority")
        bins = np.array([55.0, 60.0, 71.0, 100.0])
        batch = [(1.5,)] * 100
        for name, call, per in (
            ("f(float)", lambda: f(1.5), 1),
            ("priority(float, array[4])", lambda: prio(45.0, bins), 1),
            ("f.map(100 floats), per call", lambda: f.map(batch), len(batch)),
        ):
            for _ in range(200):
                call()
            times = []
            for _ in range(calls):
                t = time.perf_counter()
                call()
                times.append((time.perf_counter() - t) / per)
            times.sort()
            out[name] = {
                "median_us": times[len(times) // 2] * 1e6,
                "p99_us": times[int(len(times) * 0.99)] * 1e6,
            }
    finally:
        cand.close()
        os.waitpid(pid, 0)
        os.sched_setaffinity(0, saved)
    return out


def shared(task: Task) -> Task:
    return task.model_copy(update={"spec": task.spec.model_copy(update={"mode": "shared"})})


def per_task(task_dirs: list[str], repeats: int) -> dict[str, dict[str, float]]:
    sandbox = ProcessSandbox()
    rows = {}
    for rel in task_dirs:
        task = load_task(ROOT / rel)
        if task.evaluation_mode != "split":
            print(f"  {rel}: not a split-mode task; skipped", flush=True)
            continue
        walls: dict[str, list[float]] = {"split": [], "shared": []}
        scores: dict[str, float | None] = {}
        for _ in range(repeats):
            for mode, t in (("split", task), ("shared", shared(task))):
                start = time.perf_counter()
                result = evaluate_program(t, t.seed_code, sandbox)
                walls[mode].append(time.perf_counter() - start)
                if not result.ok:
                    raise SystemExit(f"{rel} ({mode}): the seed failed: {result.failure}")
                scores[mode] = result.score
        split_s, shared_s = statistics.median(walls["split"]), statistics.median(walls["shared"])
        rows[rel] = {
            "split_s": split_s,
            "shared_s": shared_s,
            "ratio": split_s / shared_s,
            "same_score": float(scores["split"] == scores["shared"]),
        }
        print(
            f"  {rel:34s} split {split_s:7.2f} s  shared {shared_s:7.2f} s  ratio {split_s / shared_s:5.2f}"
            f"  same score: {scores['split'] == scores['shared']}",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", default=DEFAULT_TASKS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"round trip over the candidate channel ({args.calls} calls each):")
    rt = {}
    for pin, pipes in ((True, True), (True, False), (False, True)):
        label = f"{'pipes' if pipes else 'socket'}, {'same CPU' if pin else 'unpinned'}"
        rt[label] = round_trips(args.calls, pin, pipes)
        for name, stats in rt[label].items():
            print(
                f"  {label:18s} {name:26s} median {stats['median_us']:6.1f} us  p99 {stats['p99_us']:6.1f} us"
            )
    print(f"wall time per evaluation of the seed (median of {args.repeats}, alternating):")
    rows = per_task(args.tasks, args.repeats)
    if args.json:
        args.json.write_text(json.dumps({"round_trip": rt, "tasks": rows}, indent=2))


if __name__ == "__main__":
    main()
