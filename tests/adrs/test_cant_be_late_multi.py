import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput, WrongAnswer

SEED = TASKS / "cant_be_late_multi" / "seed.py"

# Look at every region's spot this tick and move straight to one that has it, instead of
# hopping to the next region and idling a tick.
BETTER = SEED.read_text().replace(
    "            env.switch_region((env.get_current_region() + 1) % env.get_num_regions())\n",
    "            up = [i for i in range(env.get_num_regions()) if env.spot_available_in_region(i)]\n"
    "            if up:\n"
    "                env.switch_region(up[0])\n"
    "                return ClusterType.SPOT\n",
)

LATE = """
from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType

class Idle(MultiRegionStrategy):
    NAME = "idle"

    def step(self):  # bypasses the base class deadline guard
        self.env.observe()
        self.task_done_time.append(0.0)
        return ClusterType.NONE

    def _step(self, last, has_spot):
        return ClusterType.NONE
"""

BAD_REGION = SEED.read_text().replace(
    "(env.get_current_region() + 1) % env.get_num_regions()", "env.get_num_regions()"
)

SINGLE_REGION_ONLY = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class OnlySingle(Strategy):
    NAME = "single"

    def _step(self, last, has_spot):
        return ClusterType.ON_DEMAND
"""


def _evaluators():
    full = load_evaluator("cant_be_late_multi")
    return full.__globals__["evaluate_quick"], full


def test_seed_full_and_quick_are_repeatable():
    quick, full = _evaluators()
    q1, q2 = quick(str(SEED)), quick(str(SEED))
    assert q1["runs"] == 1 and q1["avg_cost"] == q2["avg_cost"]
    f1, f2 = full(str(SEED)), full(str(SEED))
    assert f1["runs"] == 34 and f1["score"] == f2["score"]
    # Between the all-spot and all-on-demand costs, and near the leaderboard's baseline (64.58).
    assert 46.7 < f1["avg_cost"] < 146.88 and abs(f1["score"] - 64.58) < 5


def test_jumping_to_a_region_with_spot_beats_seed(tmp_path):
    _, full = _evaluators()
    better, seed = full(write(tmp_path, BETTER)), full(str(SEED))
    assert better["avg_cost"] < seed["avg_cost"] and better["score"] > seed["score"]


def test_deadline_miss_is_wrong_answer(tmp_path):
    quick, _ = _evaluators()
    with pytest.raises(WrongAnswer, match="deadline miss"):
        quick(write(tmp_path, LATE))


def test_unknown_region_is_invalid(tmp_path):
    _, full = _evaluators()
    with pytest.raises(InvalidOutput, match="switch_region"):
        full(write(tmp_path, BAD_REGION))


def test_single_region_strategy_is_invalid(tmp_path):
    quick, _ = _evaluators()
    with pytest.raises(InvalidOutput, match="MultiRegionStrategy"):
        quick(write(tmp_path, SINGLE_REGION_ONLY))
