import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput, WrongAnswer

SEED = TASKS / "cant_be_late" / "seed.py"

# Never idle: fall back to on-demand whenever spot is down. Idling until the deadline forces a long
# on-demand tail costs more than bridging spot gaps, so this beats the baseline.
BETTER = SEED.read_text().replace(
    "return ClusterType.SPOT if has_spot else ClusterType.NONE",
    "return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND",
)

LATE = """
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

class Idle(Strategy):
    NAME = "idle"

    def step(self):  # bypasses the base class deadline guard
        self.env.observe()
        self.task_done_time.append(0.0)
        return ClusterType.NONE

    def _step(self, last, has_spot):
        return ClusterType.NONE
"""

NO_STRATEGY = "x = 1\n"


def test_seed_matches_published_baseline_quick_and_full():
    quick = load_evaluator("cant_be_late").__globals__["evaluate_quick"]
    q1, q2 = quick(str(SEED)), quick(str(SEED))
    assert q1["score"] == q2["score"] and q1["scenarios"] == 72
    full = load_evaluator("cant_be_late")(str(SEED))
    assert full["scenarios"] == 1080
    assert full["avg_cost"] == pytest.approx(119.0345387654, abs=1e-6)  # results/cant_be_late/baseline


def test_better_candidate(tmp_path):
    quick = load_evaluator("cant_be_late").__globals__["evaluate_quick"]
    better = quick(write(tmp_path, BETTER))
    seed = quick(str(SEED))
    assert better["avg_cost"] < seed["avg_cost"] and better["score"] > seed["score"]


def test_deadline_miss_is_wrong_answer(tmp_path):
    quick = load_evaluator("cant_be_late").__globals__["evaluate_quick"]
    with pytest.raises(WrongAnswer, match="deadline miss"):
        quick(write(tmp_path, LATE))


def test_no_strategy_is_invalid(tmp_path):
    quick = load_evaluator("cant_be_late").__globals__["evaluate_quick"]
    with pytest.raises(InvalidOutput, match="Strategy"):
        quick(write(tmp_path, NO_STRATEGY))
