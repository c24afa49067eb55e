"""syslab vs OpenEvolve, side by side in one run: wall time, CPU and memory per evaluation.

    python benchmarks/perf/vs_openevolve.py [--evals 200] [--repeats 3] [--workers 2]
        [--tasks trivial,bin_packing] [--long] [--long-evals 1000] [--long-tasks trivial]
        [--scaling-evals 30] [--openevolve-python PATH | --venv DIR --openevolve-spec SPEC]
        [--json PATH] [--keep]

Both frameworks run through their own CLI, in their default configuration, against the same
scripted OpenAI-compatible endpoint on 127.0.0.1 (vs_openevolve/scripted_llm.py: it answers
at once with a valid SEARCH/REPLACE edit that sets a constant to a fresh value, so every
proposal is a distinct valid candidate and framework overhead dominates). syslab: `syslab run
TASK --budget N --workers W --proposer llm` (process sandbox, split evaluation: a trusted
evaluator process plus a sandboxed candidate process). OpenEvolve: `openevolve.cli PROGRAM
EVALUATOR --iterations N-1` with `evaluator.parallel_evaluations = W` (worker processes,
evaluator and candidate in one process). OpenEvolve is installed with pip into its own venv
(~/.cache/syslab-bench/openevolve-venv) unless --openevolve-python names one.

Tasks (vs_openevolve/): `trivial` (the evaluator calls the candidate's run() once and returns
a constant-ish score) and `bin_packing` (examples/bin_packing unchanged for syslab; a port to
OpenEvolve's `evaluate(program_path)` contract computing the same metric on the same
instances, with the same quick-stage cascade). Runs alternate syslab, OpenEvolve, syslab, ...
`--repeats` times. Evaluations are counted from each framework's own records (syslab's run
store; OpenEvolve's log), and every per-evaluation figure divides by that count.

Printed per task and framework: wall ms per evaluation and CPU ms per evaluation (medians over
repeats; CPU = user+sys of every process the run started, from a cpuacct cgroup where one can
be made, see vs_openevolve/proctree.py), peak summed RSS, and syslab/OpenEvolve ratios. Also
syslab's throughput on bin_packing with 1 and with 2 workers beside the load average, over the
whole command and in the steady state (`--scaling-evals 0` skips it) and, with --long, the
per-evaluation cost of one --long-evals run of each framework over that of the default-length
runs. Nothing is asserted; --json PATH writes everything (every run's raw figures too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent / "vs_openevolve"
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE))

from openevolve_env import DEFAULT_VENV, OpenEvolveUnavailable, ensure_openevolve  # noqa: E402
from results import FRAMEWORKS, Report, Scaling, growth, ratio, summarise, table  # noqa: E402
from runners import TASKS, RunRecord, run_openevolve, run_syslab  # noqa: E402


def _revision() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown revision"


def _say(record: RunRecord, label: str) -> None:
    m = record.measurement
    state = "ok" if record.ok else "FAILED"
    print(
        f"  {label:<34} {state}: {record.evaluations} evals, {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU, "
        f"peak {m.peak_rss_mb:.0f} MB, load {m.loadavg_after[0]:.2f}",
        file=sys.stderr,
        flush=True,
    )
    if not record.ok:
        print(record.error, file=sys.stderr)


def _run(
    framework: str, task: str, evals: int, workers: int, work: Path, tag: str, args: argparse.Namespace
) -> RunRecord:
    if framework == "syslab":
        record = run_syslab(TASKS[task], evals, workers, work, tag, args.run_timeout)
    else:
        record = run_openevolve(TASKS[task], evals, workers, work, tag, args.run_timeout, args.oe_python)
    _say(record, f"{tag} ({framework}, {task}, {evals} evals)")
    return record


def _checks(report: Report) -> list[str]:
    checks = []
    for task in dict.fromkeys(r.task for r in report.runs):
        seeds = {s.framework: s.seed_metric for s in report.summaries if s.task == task}
        if len(seeds) == 2 and None not in seeds.values():
            a, b = seeds["syslab"], seeds["openevolve"]
            same = "same" if abs(a - b) <= 1e-4 * max(1.0, abs(a)) else "DIFFERENT"
            checks.append(f"{task}: seed {TASKS[task].primary} syslab {a:.4f}, openevolve {b:.4f} ({same})")
    runs = report.runs
    checks.append(
        "runs that failed: " + (", ".join(f"{r.framework}/{r.task}" for r in runs if not r.ok) or "none")
    )
    short = [r for r in runs if r.evaluations < r.requested]
    checks.append(
        "runs with fewer evaluations than requested: "
        + (", ".join(f"{r.framework}/{r.task} {r.evaluations}/{r.requested}" for r in short) or "none")
    )
    checks.append(
        f"scripted LLM: {sum(r.llm.proposals for r in runs)} proposals, {sum(r.llm.analyst for r in runs)} "
        f"syslab analyst notes, {sum(r.llm.unparsed for r in runs)} unparsed requests; slowest answer "
        f"{max((r.llm.answer_ms_max for r in runs), default=0):.2f} ms server-side; proposals that never "
        f"reached an evaluator: {sum(r.not_evaluated for r in runs)}"
    )
    lat = [r.notes.get("llm_latency_ms_median") for r in runs if r.framework == "syslab" and r.ok]
    if lat:
        checks.append(f"syslab's recorded LLM round trip, median per run (ms): {', '.join(map(str, lat))}")
    methods = sorted({r.measurement.cpu_method for r in runs})
    gaps = [
        f"{r.measurement.cpu_rusage_s / r.measurement.cpu_s:.2f}" for r in runs if r.measurement.cpu_s > 0
    ]
    checks.append(f"CPU measured by {', '.join(methods)}; RUSAGE_CHILDREN / that, per run: {' '.join(gaps)}")
    modes = sorted({f"{r.framework}: {r.notes.get('evaluation_mode', '?')}" for r in runs if r.ok})
    checks.append("evaluation: " + "; ".join(modes))
    return checks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--evals", type=int, default=200, help="evaluations per run (both frameworks)")
    p.add_argument("--repeats", type=int, default=3, help="alternating syslab/OpenEvolve runs per task")
    p.add_argument("--workers", type=int, default=2, help="parallel evaluations (both frameworks)")
    p.add_argument("--tasks", default="trivial,bin_packing", help=f"comma-separated, of {', '.join(TASKS)}")
    p.add_argument("--long", action="store_true", help="also one --long-evals run per framework")
    p.add_argument("--long-evals", type=int, default=1000)
    p.add_argument("--long-tasks", default="trivial", help="tasks of the long runs (comma-separated)")
    p.add_argument("--scaling-evals", type=int, default=30, help="syslab bin_packing 1 vs 2 workers; 0: skip")
    p.add_argument("--openevolve-python", type=Path, help="an interpreter with openevolve installed")
    p.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="where to install OpenEvolve")
    p.add_argument(
        "--openevolve-spec", default="openevolve", help="what pip installs, e.g. openevolve==0.4.1"
    )
    p.add_argument("--json", type=Path, help="write the report as JSON here")
    p.add_argument("--run-timeout", type=float, default=3600.0, help="seconds before a run is killed")
    p.add_argument("--keep", action="store_true", help="keep the runs' directories and logs")
    args = p.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    long_tasks = [t for t in args.long_tasks.split(",") if t] if args.long else []
    unknown = [t for t in tasks + long_tasks if t not in TASKS]
    if unknown or args.evals < 2 or args.repeats < 1 or args.workers < 1:
        p.error(
            f"unknown tasks {unknown}" if unknown else "need --evals >= 2, --repeats >= 1, --workers >= 1"
        )
    try:
        args.oe_python, version = ensure_openevolve(args.openevolve_python, args.venv, args.openevolve_spec)
    except OpenEvolveUnavailable as e:
        print(f"error: OpenEvolve is not available: {e}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="syslab-vs-openevolve-"))
    config = {k: v for k, v in vars(args).items() if k not in ("oe_python", "json", "venv")}
    report = Report(
        openevolve_version=version,
        syslab_revision=_revision(),
        cpus=len(os.sched_getaffinity(0)),
        config={k: str(v) if isinstance(v, Path) else v for k, v in config.items()},
    )
    print(f"OpenEvolve {version} ({args.oe_python}); runs in {work}", file=sys.stderr)
    started = time.monotonic()
    for rep in range(args.repeats):
        for task in tasks:
            for fw in FRAMEWORKS:
                report.runs.append(_run(fw, task, args.evals, args.workers, work, f"{task}-{fw}-{rep}", args))
    for task in tasks:
        summaries = [summarise(report.runs, task, fw) for fw in FRAMEWORKS]
        report.summaries += [s for s in summaries if s]
        if all(summaries):
            report.ratios.append(ratio(summaries[0], summaries[1]))  # type: ignore[arg-type]
    for task in long_tasks:
        for fw in FRAMEWORKS:
            record = _run(fw, task, args.long_evals, args.workers, work, f"{task}-{fw}-long", args)
            long_s = summarise([record], task, fw)
            short_s = summarise(report.runs, task, fw)
            report.runs.append(record)
            if long_s and short_s:
                report.growth.append(growth(short_s, long_s))
    if args.scaling_evals:
        for workers in (1, 2):
            r = _run("syslab", "bin_packing", args.scaling_evals, workers, work, f"scaling-w{workers}", args)
            report.runs.append(r)
            if r.ok:
                m = r.measurement
                report.scaling.append(
                    Scaling(
                        task="bin_packing",
                        workers=workers,
                        evaluations=r.evaluations,
                        evals_per_s=r.evaluations / m.wall_s,
                        steady_evals_per_s=1000 / r.steady_wall_ms_per_eval
                        if r.steady_wall_ms_per_eval
                        else None,
                        cpu_ms_per_eval=r.cpu_ms_per_eval,
                        loadavg_before=m.loadavg_before,
                        loadavg_after=m.loadavg_after,
                    )
                )
    report.checks = _checks(report)
    report.checks.append(f"benchmark wall time: {time.monotonic() - started:.0f} s")
    print(table(report))
    if args.json:
        args.json.write_text(report.model_dump_json(indent=2))
        print(f"\nJSON: {args.json}")
    if args.keep:
        print(f"runs and logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r.ok for r in report.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
