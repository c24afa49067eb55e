"""Summaries of the measured runs (medians over repeats, ratios) and the plain-text table."""

from __future__ import annotations

import statistics

from pydantic import BaseModel, Field
from runners import RunRecord

FRAMEWORKS = ("syslab", "openevolve")


class Summary(BaseModel):
    """One task x framework: medians over its successful runs."""

    task: str
    framework: str
    runs: int
    requested: int
    evaluations: list[int]  # counted per run
    wall_ms_per_eval: float
    cpu_ms_per_eval: float
    peak_rss_mb: float
    seed_metric: float | None
    first_eval_s: float | None  # start-up: command start to the first evaluation finished
    steady_wall_ms_per_eval: float | None  # first to last evaluation finished, per evaluation
    steady_cpu_ms_per_eval: float | None


class Ratio(BaseModel):
    """syslab / OpenEvolve for one task (above 1: syslab costs more)."""

    task: str
    wall: float
    cpu: float
    rss: float
    steady_wall: float | None
    steady_cpu: float | None


class Growth(BaseModel):
    """Per-evaluation cost of a long run over that of the default-length runs (1.0: no growth)."""

    task: str
    framework: str
    short_evals: int
    long_evals: int
    wall_ms_short: float
    wall_ms_long: float
    wall_ratio: float
    cpu_ms_short: float
    cpu_ms_long: float
    cpu_ratio: float
    steady_wall_ms_short: float | None
    steady_wall_ms_long: float | None
    steady_wall_ratio: float | None
    steady_cpu_ratio: float | None


class Scaling(BaseModel):
    """syslab throughput on a CPU-bound task by number of workers."""

    task: str
    workers: int
    evaluations: int
    evals_per_s: float
    # First to last evaluation finished: without the serial start (imports, templates, the seed's
    # evaluation alone) and end (held-out scoring), which weigh more the shorter the run.
    steady_evals_per_s: float | None = None
    cpu_ms_per_eval: float
    loadavg_before: tuple[float, float, float]
    loadavg_after: tuple[float, float, float]


class Report(BaseModel):
    openevolve_version: str
    syslab_revision: str
    cpus: int
    config: dict[str, object]
    runs: list[RunRecord] = Field(default_factory=list)
    summaries: list[Summary] = Field(default_factory=list)
    ratios: list[Ratio] = Field(default_factory=list)
    growth: list[Growth] = Field(default_factory=list)
    scaling: list[Scaling] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)


def summarise(runs: list[RunRecord], task: str, framework: str) -> Summary | None:
    ok = [r for r in runs if r.ok and r.task == task and r.framework == framework]
    if not ok:
        return None
    return Summary(
        task=task,
        framework=framework,
        runs=len(ok),
        requested=ok[0].requested,
        evaluations=[r.evaluations for r in ok],
        wall_ms_per_eval=statistics.median(r.wall_ms_per_eval for r in ok),
        cpu_ms_per_eval=statistics.median(r.cpu_ms_per_eval for r in ok),
        peak_rss_mb=statistics.median(r.measurement.peak_rss_mb for r in ok),
        seed_metric=ok[0].seed_metric,
        first_eval_s=_median([r.first_eval_s for r in ok]),
        steady_wall_ms_per_eval=_median([r.steady_wall_ms_per_eval for r in ok]),
        steady_cpu_ms_per_eval=_median([r.steady_cpu_ms_per_eval for r in ok]),
    )


def _median(xs: list[float | None]) -> float | None:
    known = [x for x in xs if x is not None]
    return statistics.median(known) if known else None


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratio(a: Summary, b: Summary) -> Ratio:
    return Ratio(
        task=a.task,
        wall=a.wall_ms_per_eval / b.wall_ms_per_eval,
        cpu=a.cpu_ms_per_eval / b.cpu_ms_per_eval,
        rss=a.peak_rss_mb / b.peak_rss_mb,
        steady_wall=_div(a.steady_wall_ms_per_eval, b.steady_wall_ms_per_eval),
        steady_cpu=_div(a.steady_cpu_ms_per_eval, b.steady_cpu_ms_per_eval),
    )


def growth(short: Summary, long: Summary) -> Growth:
    return Growth(
        task=short.task,
        framework=short.framework,
        short_evals=short.requested,
        long_evals=long.requested,
        wall_ms_short=short.wall_ms_per_eval,
        wall_ms_long=long.wall_ms_per_eval,
        wall_ratio=long.wall_ms_per_eval / short.wall_ms_per_eval,
        cpu_ms_short=short.cpu_ms_per_eval,
        cpu_ms_long=long.cpu_ms_per_eval,
        cpu_ratio=long.cpu_ms_per_eval / short.cpu_ms_per_eval,
        steady_wall_ms_short=short.steady_wall_ms_per_eval,
        steady_wall_ms_long=long.steady_wall_ms_per_eval,
        steady_wall_ratio=_div(long.steady_wall_ms_per_eval, short.steady_wall_ms_per_eval),
        steady_cpu_ratio=_div(long.steady_cpu_ms_per_eval, short.steady_cpu_ms_per_eval),
    )


def _evals(counts: list[int]) -> str:
    lo, hi = min(counts), max(counts)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _load(x: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in x)


def _f(x: float | None, spec: str, suffix: str = "") -> str:
    return "-" if x is None else f"{x:{spec}}{suffix}"


def table(report: Report) -> str:
    cfg = report.config
    head = (
        f"{'task':<12} {'framework':<10} {'runs':>4} {'evals':>7} {'wall ms/eval':>12} {'CPU ms/eval':>11} "
        f"{'peak RSS MB':>11} {'startup s':>9} {'steady wall':>11} {'steady CPU':>10}"
    )
    lines = [
        f"syslab ({report.syslab_revision}) vs OpenEvolve {report.openevolve_version}: "
        f"{cfg['evals']} evaluations, {cfg['workers']} workers, {cfg['repeats']} alternating repeats, "
        f"scripted LLM on 127.0.0.1, {report.cpus} CPUs",
        "",
        head,
    ]
    ratios = {r.task: r for r in report.ratios}
    for task in dict.fromkeys(s.task for s in report.summaries):
        for s in (x for x in report.summaries if x.task == task):
            lines.append(
                f"{s.task:<12} {s.framework:<10} {s.runs:>4} {_evals(s.evaluations):>7} "
                f"{s.wall_ms_per_eval:>12.1f} {s.cpu_ms_per_eval:>11.1f} {s.peak_rss_mb:>11.1f} "
                f"{_f(s.first_eval_s, '>9.1f')} {_f(s.steady_wall_ms_per_eval, '>11.1f')} "
                f"{_f(s.steady_cpu_ms_per_eval, '>10.1f')}"
            )
        if task in ratios:
            r = ratios[task]
            lines.append(
                f"{task:<12} {'syslab/OE':<10} {'':>4} {'':>7} {r.wall:>11.2f}x {r.cpu:>10.2f}x {r.rss:>10.2f}x "
                f"{'':>9} {_f(r.steady_wall, '>10.2f', 'x')} {_f(r.steady_cpu, '>9.2f', 'x')}"
            )
    lines += [
        "medians over runs. wall, CPU: whole command / evaluations counted; CPU = user+sys of every",
        "process the run started; RSS summed over them. startup: command start to first evaluation",
        "finished; steady: first to last evaluation finished, per evaluation (ms).",
    ]
    if report.growth:
        lines += ["", "per-evaluation cost, long run vs default-length runs (1.00x = no growth):"]
        for g in report.growth:
            lines.append(
                f"  {g.task} {g.framework}: {g.long_evals} vs {g.short_evals} evals: "
                f"wall {g.wall_ms_short:.1f} -> {g.wall_ms_long:.1f} ms ({g.wall_ratio:.2f}x), "
                f"CPU {g.cpu_ms_short:.1f} -> {g.cpu_ms_long:.1f} ms ({g.cpu_ratio:.2f}x); steady wall "
                f"{_f(g.steady_wall_ms_short, '.1f')} -> {_f(g.steady_wall_ms_long, '.1f')} ms "
                f"({_f(g.steady_wall_ratio, '.2f', 'x')}), steady CPU {_f(g.steady_cpu_ratio, '.2f', 'x')}"
            )
    if report.scaling:
        lines += ["", "syslab throughput by workers (CPU-bound evaluator; load average 1/5/15 min):"]
        one = next((s for s in report.scaling if s.workers == 1), None)
        for s in report.scaling:
            speedup = f", {s.evals_per_s / one.evals_per_s:.2f}x of 1 worker" if one else ""
            steady = ""
            if s.steady_evals_per_s is not None:
                steady = f"; steady {s.steady_evals_per_s:.3f} evals/s"
                if one and one.steady_evals_per_s:
                    steady += f", {s.steady_evals_per_s / one.steady_evals_per_s:.2f}x"
            lines.append(
                f"  {s.task} workers={s.workers}: {s.evaluations} evals, {s.evals_per_s:.3f} evals/s{speedup}"
                f"{steady}; CPU {s.cpu_ms_per_eval:.0f} ms/eval; load before {_load(s.loadavg_before)}, "
                f"after {_load(s.loadavg_after)}"
            )
    if report.checks:
        lines += ["", "checks:"] + [f"  {c}" for c in report.checks]
    return "\n".join(lines)
