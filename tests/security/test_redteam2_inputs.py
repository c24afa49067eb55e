"""Red team 2: what a bundled evaluator lets the candidate *know* or *count* that it must not.

The first pass attacked the machinery (channel, sandbox, host). These attack the tasks: each
candidate is a plain program (no sandbox escape, nothing forbidden read) that gets an impossible
score from what the evaluator itself shows it or accepts from it:

- inputs a candidate can predict: a fixed public seed with a generator the candidate can import or
  restate (eplb's next window, load_balancer's true work, bin_packing's future items);
- inputs shown twice in one evaluation: the candidate process lives for the whole evaluation, so a
  replayed spot trace (cant_be_late: the same trace for both deadlines; cant_be_late_multi: the
  same region trace in several scenarios) is known ahead;
- a result check that accepts content that is not the input's (llm_sql: added or moved text).

A candidate that gets such knowledge fails with "LEAK: ..."; a check that accepts foreign content
lets the evaluation succeed. Each test runs the task's own evaluator in-process against a local
candidate (same protocol and adapter as the sandboxed one: the holes are in the evaluators).
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import json
import os
import random
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from syslab.evaluators.failures import CandidateRejected
from syslab.evaluators.handle import CandidateError
from syslab.evaluators.local import task_candidate
from syslab.task import load_task

from .hostile_support import FIXTURES, REPO

RT2 = FIXTURES / "hostile" / "redteam2"
ADRS = REPO / "benchmarks" / "adrs"
DATA = Path(os.environ.get("SYSLAB_DATA", "/work/shared/data"))
_n = itertools.count()


def evaluator(task_dir: Path) -> ModuleType:
    """The task's evaluate.py, loaded as the trusted side loads it (a fresh module)."""
    spec = importlib.util.spec_from_file_location(
        f"_rt2_eval_{task_dir.name}_{next(_n)}", task_dir / "evaluate.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def fixture(name: str, **subs: str) -> str:
    code = (RT2 / f"{name}.py").read_text()
    for key, value in subs.items():
        code = code.replace(f"__{key}__", value)
    return code


@pytest.fixture
def adrs_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not (DATA / "adrs").is_dir():
        pytest.skip(f"ADRS data not present at {DATA} (see syslab.data for where to get it)")
    monkeypatch.setenv("SYSLAB_DATA", str(DATA))
    monkeypatch.chdir(tmp_path)


def no_leak(run: Any) -> Any:
    """Run `run()`; a candidate failure that says LEAK is the hole, shown as the test's failure."""
    try:
        return run()
    except CandidateError as e:
        assert "LEAK" not in e.message, f"HOLE: {e.message}"
        raise


# -- predictable inputs ---------------------------------------------------------------------


def test_eplb_scoring_window_cannot_be_predicted(adrs_data: None) -> None:
    """eplb scores the placement made from window i on window i+1; the windows come from seed 0 of
    syslab.adrs.eplb_sim, which the candidate's process may import: it knows window i+1 (and can
    precompute every answer at import, so its timed calls cost only the hand-over)."""
    task = load_task(ADRS / "eplb")
    code = task.seed_code + "\n\n" + fixture("eplb_future")
    with task_candidate(task, code) as cand:
        metrics = no_leak(lambda: evaluator(task.root).evaluate(cand, placements=1))
    assert metrics["placements"] == 1.0


def test_eplb_time_counts_every_call(adrs_data: None) -> None:
    """eplb's score charges the algorithm's time as the mean of every call (with a median, just under
    half the calls could take any time for free). Over 5 placements, the seed's answers with calls 2
    and 4 slower by 0.4 s each (mean +0.16 s) must score lower by about what the formula charges for
    that time (~3 points). The runs are timed apart on a shared machine: the seed runs before and
    after the slow one and the faster of the two counts (load only ever adds time), and the bounds
    leave half of the expected difference as margin."""
    task = load_task(ADRS / "eplb")
    runs: dict[str, list[dict]] = {"seed": [], "slow_half": []}
    for name, code in (
        ("seed", task.seed_code),
        ("slow_half", task.seed_code + "\n\n" + fixture("eplb_slow_half", SLEEP="0.4")),
        ("seed", task.seed_code),
    ):
        with task_candidate(task, code) as cand:
            runs[name].append(evaluator(task.root).evaluate(cand, placements=5))
    scores = {name: min(done, key=lambda m: m["time_algorithm_s"]) for name, done in runs.items()}
    seed, slow = scores["seed"], scores["slow_half"]
    assert slow["balancedness_gpu"] == seed["balancedness_gpu"]
    assert slow["time_algorithm_s"] > seed["time_algorithm_s"] + 0.08
    assert seed["score"] - slow["score"] >= 1.5, (
        f"HOLE: 2 of 5 calls 0.4 s slower cost {seed['score'] - slow['score']:.2f} points "
        f"(mean time {seed['time_algorithm_s']:.3f} -> {slow['time_algorithm_s']:.3f} s)"
    )


@pytest.mark.parametrize(
    "task_dir,program,stage",
    [
        (REPO / "examples" / "load_balancer", "lb_regenerate", "evaluate_quick"),
        (REPO / "examples" / "bin_packing", "bp_regenerate", "evaluate_quick"),
    ],
    ids=["load_balancer-true_work", "bin_packing-future_items"],
)
def test_online_inputs_cannot_be_regenerated(task_dir: Path, program: str, stage: str) -> None:
    """An online policy must not know the future: not the true work of a request (load_balancer's
    evaluator says it never leaves the trusted process), not the next items (bin_packing). Both
    draw their inputs from fixed public seeds, so a candidate that restates the generator has them."""
    task = load_task(task_dir)
    with task_candidate(task, fixture(program)) as cand:
        metrics = no_leak(lambda: getattr(evaluator(task.root), stage)(cand))
    assert metrics


# -- inputs shown twice ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem,stage",
    [("cant_be_late", "evaluate_quick"), ("cant_be_late_multi", "evaluate")],
    ids=["single_region-both_deadlines", "multi_region-shared_region_traces"],
)
def test_spot_trace_is_never_shown_twice(problem: str, stage: str, adrs_data: None) -> None:
    """Spot availability is the future the strategy must not see. A candidate process that remembers
    what it was shown must never be shown the same trace again in one evaluation (cant_be_late runs
    each trace for deadline 52 h and then 70 h; cant_be_late_multi reuses region traces across
    scenarios; the quick stage's traces are the main stage's too, and `reload()` keeps the process).
    The evaluators restart the candidate's process (`candidate.restart()`) before a trace recurs."""
    task = load_task(ADRS / problem)
    with task_candidate(task, fixture("spot_replay")) as cand:
        metrics = no_leak(lambda: getattr(evaluator(task.root), stage)(cand))
    assert metrics["score"] >= 0.0


def spot_windows(root: Path, envs: list[str], overheads: list[float], per_env: int = 30) -> None:
    """A cant_be_late trace tarball under `root` in the real one's layout: per zone/GPU set one random
    availability history (runs of preemption and availability, no day of it like another), cut into
    `per_env` overlapping 554-tick windows at random starts, the same windows for every overhead."""
    rng = random.Random(7)
    files = {}
    for env in envs:
        history, bit = [], 0
        for _ in range(1800):
            bit = bit if rng.random() < 0.9 else 1 - bit
            history.append(bit)
        starts = sorted(rng.sample(range(1800 - 554), per_env))
        for k, start in enumerate(starts):
            body = {
                "original_trace": f"data/real/ping_based/{env}.json",
                "metadata": {"gap_seconds": 600, "start_time": start, "end_time": start + 554},
                "data": history[start : start + 554],
            }
            for overhead in overheads:
                name = (
                    f"real/ddl=search+task=48+overhead={overhead:.2f}/real/{env}/traces/random_start/{k}.json"
                )
                files[name] = json.dumps(body).encode()
    target = root / "adrs" / "cant_be_late" / "real_traces.tar.gz"
    target.parent.mkdir(parents=True)
    with tarfile.open(target, "w:gz") as tar:
        for name, raw in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))


def test_spot_trace_future_is_not_in_another_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """cant_be_late's traces of one zone/GPU set are windows of one history, cut at random starts. A
    candidate process that is shown one window and then an overlapping one finds the second's recent
    day inside the first and reads off its next ticks. The evaluator runs all of a stage's jobs side
    by side on the histories' clock (spot_lockstep.py), so whatever another job has shown lies in the
    past of every job; the fixture predicts changes of availability from what it saw elsewhere.
    (Synthetic histories: one of the real ones repeats a 308-tick stretch of itself, which any
    strategy that remembers its past may use, and which would read as a prediction here.)"""
    task = load_task(ADRS / "cant_be_late")
    module = evaluator(task.root)
    spot_windows(tmp_path, module.ENVS, module.OVERHEADS)
    monkeypatch.setenv("SYSLAB_DATA", str(tmp_path))
    with task_candidate(task, fixture("spot_shifted_replay")) as cand:
        metrics = no_leak(lambda: module.evaluate(cand))
    assert metrics["scenarios"] == 1080.0


def multi_region_windows(root: Path, regions: list[str], first: int, count: int = 8) -> None:
    """A cant_be_late_multi trace tarball under `root` in the real one's layout: per region one random
    availability history (no day of it like another) of 195 s ticks, cut into aligned 1,107-tick
    windows `first`..`first + count - 1`, one start time for all regions; windows first and
    first + 1 overlap by half, the rest are apart (as 50 and 51 of the shipped data overlap)."""
    rng = random.Random(11)
    gap, length = 195, 1107
    starts = [0, length // 2] + [(k + 2) * 2 * length for k in range(count - 2)]
    histories = {}
    for region in regions:
        bits, bit = [], 0
        for _ in range(starts[-1] + length):
            bit = bit if rng.random() < 0.9 else 1 - bit
            bits.append(bit)
        histories[region] = bits
    target = root / "adrs" / "cant_be_late_multi" / "real_traces.tar.gz"
    target.parent.mkdir(parents=True)
    epoch = 1_676_000_000
    with tarfile.open(target, "w:gz") as tar:
        for region, bits in histories.items():
            for k, start in enumerate(starts):
                stamp = datetime.fromtimestamp(epoch + start * gap, tz=timezone.utc).replace(tzinfo=None)
                body = {
                    "metadata": {
                        "gap_seconds": gap,
                        "start_time": stamp.isoformat(),
                        "source_file": f"data/real/availability/{region}.csv",
                    },
                    "prices": [0.9731] * length,
                    "data": bits[start : start + length],
                }
                raw = json.dumps(body).encode()
                info = tarfile.TarInfo(f"data/converted_multi_region_aligned/{region}/{first + k}.json")
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))


def test_multi_region_windows_that_overlap_run_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """cant_be_late_multi's held-out runs use aligned traces 50-57 of each region, and in the shipped
    data some of those windows overlap in time (51 starts where 50 has 289 ticks to go). The rounds
    compare where each window was cut (its source and start time), not only how it begins, so
    overlapping windows meet in different candidate processes; the fixture predicts changes of
    availability it saw elsewhere. (Synthetic histories: the shipped ones repeat stretches of
    themselves, which any strategy that remembers may use, and which would read as predictions.)"""
    task_dir = ADRS / "cant_be_late_multi"
    spec = importlib.util.spec_from_file_location(f"_rt2_heldout_{next(_n)}", task_dir / "heldout.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.path.insert(0, str(task_dir))  # heldout.py imports the task's evaluate.py
    try:
        sys.modules.pop("evaluate", None)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        regions = sorted({r for _, rs, _ in module.SCENARIOS for r in rs})
    finally:
        sys.path.remove(str(task_dir))
        sys.modules.pop("evaluate", None)
    multi_region_windows(tmp_path, regions, module.HELDOUT_FIRST)
    monkeypatch.setenv("SYSLAB_DATA", str(tmp_path))
    with task_candidate(load_task(task_dir), fixture("spot_shifted_replay")) as cand:
        metrics = no_leak(lambda: module.evaluate_heldout(cand))
    assert metrics["runs"] == 34.0


# -- checks that accept foreign content --------------------------------------------------------


@pytest.mark.parametrize("variant", ["pad", "sort"])
def test_llm_sql_result_must_be_the_table_reordered(variant: str, adrs_data: None) -> None:
    """llm_sql asks for the table's columns (and rows) reordered. Its check only counts characters
    over the whole table, so a reply may add a long common prefix to every row ("pad") or deal the
    table's sorted characters back into rows ("sort") and reach a hit rate no reordering can."""
    task = load_task(ADRS / "llm_sql")
    with task_candidate(task, fixture("llm_sql_reshape", VARIANT=variant)) as cand:
        try:
            metrics = evaluator(task.root).evaluate(cand, ["beer.csv"])
        except CandidateRejected:
            return  # rejected: the check holds
    pytest.fail(
        f"HOLE: a {variant!r} table that is not a reordering of beer.csv was scored: "
        f"hit rate {metrics['hit_rate']:.3f} (baseline {metrics['baseline_hit_rate']:.3f}), "
        f"score {metrics['score']:.1f}"
    )
