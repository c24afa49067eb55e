"""cant_be_late_multi in split mode: the seed's numbers, region checks, hostile strategies that must not gain.

The evaluator runs here; each candidate is served by an unsandboxed child process with the task's
adapter (syslab.evaluators.local), except the end-to-end test, which goes through the harness with the
process sandbox.
"""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
from adrs_support import TASKS

from syslab.adrs.multi_spot_sim import ALIGNED, region_traces
from syslab.adrs.spot_sim import PRICES, SpotRun, simulate
from syslab.evaluators import InvalidOutput
from syslab.evaluators.handle import CandidateError
from syslab.evaluators.harness import evaluate_program
from syslab.evaluators.local import task_candidate
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

TASK = load_task(TASKS / "cant_be_late_multi")
SEED = TASK.seed_code
# The seed's numbers with spot billed at the trace's price, as the leaderboard bills (the decisions are
# those of the shared-mode evaluator of commit cded5ff, which billed a flat $0.9731/h: 80.12729517361079).
# results/cant_be_late_multi/baseline: avg_cost 82.18692369213043, score 64.58.
SEED_QUICK_COST = 146.83374333333123
SEED_FULL_COST = 82.1869236921291
SEED_FULL_SCORE = 64.58251104895508

HOP = "            env.switch_region((env.get_current_region() + 1) % env.get_num_regions())\n"

# Look at every region's spot this tick and move straight to one that has it, instead of
# hopping to the next region and idling a tick.
BETTER = SEED.replace(
    HOP,
    "            up = [i for i in range(env.get_num_regions()) if env.spot_available_in_region(i)]\n"
    "            if up:\n"
    "                env.switch_region(up[0])\n"
    "                return ClusterType.SPOT\n",
)

# Spot where it is up, otherwise hop on and wait; on-demand only with under 10 minutes of slack. The
# guard keeps a running spot instance at the edge, and a preemption there makes the job late (scored
# as on the leaderboard, counted in deadline_misses).
LATE = """
from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType

class Late(MultiRegionStrategy):
    NAME = "late"

    def _step(self, last, has_spot):
        if has_spot:
            return ClusterType.SPOT
        env = self.env
        slack = self.deadline - env.elapsed_seconds - (self.task_duration - sum(self.task_done_time))
        if slack < 600:
            return ClusterType.ON_DEMAND
        env.switch_region((env.get_current_region() + 1) % env.get_num_regions())
        return ClusterType.NONE
"""

SINGLE_REGION_ONLY = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class OnlySingle(Strategy):
    NAME = "single"

    def _step(self, last, has_spot):
        return ClusterType.ON_DEMAND
"""


@cache
def evaluator() -> ModuleType:
    path = TASKS / "cant_be_late_multi" / "evaluate.py"
    spec = importlib.util.spec_from_file_location("_cant_be_late_multi_evaluate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(code: str, entry: str = "evaluate") -> dict:
    with task_candidate(TASK, code) as candidate:
        return getattr(evaluator(), entry)(candidate)


def test_seed_scores_what_it_scored_before_split_evaluation():
    q1, q2 = run(SEED, "evaluate_quick"), run(SEED, "evaluate_quick")
    assert q1["runs"] == 1 and q1["avg_cost"] == q2["avg_cost"] == SEED_QUICK_COST
    full = run(SEED)
    assert full["runs"] == 34 and full["avg_cost"] == SEED_FULL_COST and full["score"] == SEED_FULL_SCORE
    assert round(full["score"], 2) == 64.58 and full["deadline_misses"] == 0


def test_jumping_to_a_region_with_spot_beats_seed():
    better = run(BETTER)
    assert better["avg_cost"] < SEED_FULL_COST and better["score"] > SEED_FULL_SCORE


def test_deadline_misses_are_counted_not_rejected():
    late = run(LATE)
    assert late["deadline_misses"] > 0 and late["runs"] == 34
    od, spot = 3.06 * 48, 0.9731 * 48
    assert late["score"] == pytest.approx((od - late["avg_cost"]) / (od - spot) * 100)


# --- billing: the trace's spot price in the region the job ends in, as the leaderboard bills --------


def spot_then_move(tick: int, last: int, avail: int, done_inc: float, restart_left: float, region: int):
    """Spot in region 0 until the work is done; the answer after that (the last one) moves to region 1."""
    return "SPOT", (1 if tick >= 3 else 0)


def test_spot_is_billed_at_the_price_of_the_region_the_job_ends_in():
    # 1 h ticks, 2 h of work, no restart: spot runs ticks 0-1, the work is done at tick 2, whose answer
    # (asked once more, as the leaderboard's simulator does) launches spot for tick 2 and, at tick 3,
    # moves the job to region 1: three spot hours, all at region 1's first price.
    traces = ([0] * 6, [0] * 6)
    priced = SpotRun(traces, 3600, 2.0, 4.0, 0.0, spot_prices=(1.25, 2.5))
    outcome = simulate(spot_then_move, priced)
    assert priced.billed.count("SPOT") == 3 and priced.region == 1 and not outcome.late
    assert outcome.cost == pytest.approx(3 * 2.5)
    flat = simulate(spot_then_move, SpotRun(traces, 3600, 2.0, 4.0, 0.0))
    assert flat.cost == pytest.approx(3 * PRICES["SPOT"])


def test_one_price_per_region():
    with pytest.raises(ValueError, match="1 spot prices for 2 regions"):
        SpotRun(([0] * 4, [0] * 4), 3600, 2.0, 4.0, 0.0, spot_prices=(1.0,))


def write_traces(path: Path, traces: dict[str, dict]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, body in traces.items():
            raw = json.dumps(body).encode()
            info = tarfile.TarInfo(f"{ALIGNED}/{name}")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    return path


def test_region_traces_read_each_regions_first_price(tmp_path: Path):
    meta = {"gap_seconds": 60}
    tar = write_traces(
        tmp_path / "t.tar.gz",
        {
            "a/0.json": {"metadata": meta, "data": [0, 1, 0], "prices": [1.5, 9.0, 9.0]},
            "b/0.json": {"metadata": meta, "data": [1, 0, 0, 1]},  # no prices: the flat spot price
        },
    )
    traces, gap, prices = region_traces(tar, ("a", "b"), "0.json")
    assert traces == ((0, 1, 0), (1, 0, 0)) and gap == 60 and prices == (1.5, PRICES["SPOT"])


def test_bad_price_names_the_file_and_field(tmp_path: Path):
    body = {"metadata": {"gap_seconds": 60}, "data": [0, 0], "prices": ["cheap", 1.0]}
    tar = write_traces(tmp_path / "bad.tar.gz", {"a/0.json": body})
    with pytest.raises(ValueError, match=r"bad\.tar\.gz:.*a/0\.json: field prices\[0\]"):
        region_traces(tar, ("a",), "0.json")


def test_single_region_strategy_is_invalid():
    with pytest.raises(CandidateError, match="MultiRegionStrategy") as err:
        run(SINGLE_REGION_ONLY, "evaluate_quick")
    assert err.value.kind.value == "invalid_output"


# --- regions: checked in the candidate's view (switch_region) and again here, on the trusted side -----


def test_switch_to_unknown_region_is_invalid():
    code = SEED.replace("(env.get_current_region() + 1) % env.get_num_regions()", "env.get_num_regions()")
    with pytest.raises(CandidateError, match="switch_region") as err:
        run(code, "evaluate_quick")
    assert err.value.kind.value == "invalid_output"


# The view's checks bypassed: the region is set on the env directly, so only the trusted side sees it.
@pytest.mark.parametrize(
    "region, match",
    [("True", "switch_region to True"), ("env.get_num_regions()", "switch_region to 2"), ("-1", "to -1")],
    ids=["bool", "past_the_end", "negative"],
)
def test_region_set_behind_the_views_back_is_invalid(region: str, match: str):
    code = SEED.replace(HOP, f"            env.current_region = {region}\n")
    with pytest.raises(InvalidOutput, match=match):
        run(code, "evaluate_quick")


# --- hostile strategies: none may score better than the honest strategy it imitates ---------------

# Searches its own process for the traces (the env, every live object, the caller's frames); finding a
# long 0/1 sequence makes it play BETTER's rule, which would change the score. Finding none: the seed.
PEEK_FUTURE = SEED.replace(
    "    def _step(self, last_cluster_type, has_spot):\n",
    """    def _leak(self):
        import gc, sys
        seen = [getattr(self.env, name, None) for name in dir(self.env)] + list(vars(self.env).values())
        seen += gc.get_objects()
        frame = sys._getframe(1)
        while frame is not None:
            seen += list(frame.f_locals.values())
            frame = frame.f_back
        for obj in seen:
            if isinstance(obj, (list, tuple)) and len(obj) > 300:
                flat = [x for t in obj for x in (t if isinstance(t, (list, tuple)) else [t])]
                if all(x in (0, 1) for x in flat):
                    return True
        return False

    def _step(self, last_cluster_type, has_spot):
        if self.env.elapsed_seconds == self.env.gap_seconds and self._leak():
            type(self).LEAKED = True
        if getattr(type(self), "LEAKED", False) and not has_spot:
            up = [i for i in range(self.env.get_num_regions()) if self.env.spot_available_in_region(i)]
            if up:
                self.env.switch_region(up[0])
                return ClusterType.SPOT
""",
)


def test_strategy_cannot_find_the_traces_in_its_process():
    assert run(PEEK_FUTURE)["avg_cost"] == SEED_FULL_COST


# Claims the job done and the restart paid in its views; the simulator's progress decides.
FAKE_PROGRESS = SEED.replace(
    "        env = self.env\n",
    "        env = self.env\n"
    "        self.task_done_time.append(self.task_duration)\n"
    "        self.remaining_restart_overhead = 0.0\n",
    1,
)

IDLE = """
from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType

class Idle(MultiRegionStrategy):
    NAME = "idle"

    def _step(self, last, has_spot):
        return ClusterType.NONE
"""


def test_edited_progress_only_misleads_the_strategy():
    faked, idle = run(FAKE_PROGRESS), run(IDLE)
    assert faked["avg_cost"] == idle["avg_cost"] > SEED_FULL_COST


# Moves to the next region and asks for spot there without looking: where that region has none this
# tick it gets nothing, exactly as the seed's NONE.
BLIND_SPOT = SEED.replace(HOP, HOP + "            return ClusterType.SPOT\n")


def test_spot_request_in_a_region_without_spot_gets_nothing():
    assert BLIND_SPOT != SEED
    # The same as an honest look before asking: a blind request gains nothing it could not see.
    honest = SEED.replace(
        HOP,
        HOP + "            return ClusterType.SPOT if env.spot_available() else ClusterType.NONE\n",
    )
    assert run(BLIND_SPOT)["avg_cost"] == run(honest)["avg_cost"]


def test_end_to_end_seed_in_the_sandbox():
    spec = TASK.spec.model_copy(update={"evaluator": "evaluate.py:evaluate_quick", "stages": []})
    result = evaluate_program(TASK.model_copy(update={"spec": spec}), SEED, ProcessSandbox())
    assert result.ok, result.failure
    assert result.metrics["avg_cost"] == SEED_QUICK_COST
    assert result.artifacts["channel"]["main"]["calls"] > 52 * 3600 / 195  # one call per tick
