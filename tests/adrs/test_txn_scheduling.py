"""txn_scheduling in split mode: the schedules cross as plain lists and are re-simulated here."""

import pytest
from adrs_support import TASKS, sandboxed, score, seed_code

from syslab.evaluators import CandidateRejected
from syslab.task import load_task

SEED = seed_code("txn_scheduling")
SEED_SCORE = 40.506902014030324  # the path-based evaluator's score before the split (makespan 358)

BETTER = """
import time
from txn_simulator import Workload
from workloads import WORKLOAD_1, WORKLOAD_2, WORKLOAD_3

def get_best_schedule(workload, num_seqs):
    # full greedy: append the transaction that keeps the partial makespan lowest
    order, left = [], list(range(workload.num_txns))
    while left:
        best = min(left, key=lambda t: (workload.get_opt_seq_cost(order + [t]), t))
        order.append(best)
        left.remove(best)
    return workload.get_opt_seq_cost(order), order

def get_random_costs():
    start, total, out = time.time(), 0, []
    for w in (WORKLOAD_1, WORKLOAD_2, WORKLOAD_3):
        wl = Workload(w)
        m, s = get_best_schedule(wl, 0)
        total += m
        out.append(s)
    return total, out, time.time() - start
"""

SHORT = """
def get_random_costs():
    return 0, [list(range(99)), list(range(100)), list(range(100))], 0.0
"""

# Claims makespan 1 and zero seconds for the sequential order, after sleeping.
FAKE_CLAIM = """
import time

def get_random_costs():
    time.sleep(0.2)
    return 1, [list(range(100))] * 3, 0.0
"""

# The seed's schedules; then the program rigs the simulator (in a shared process, the scorer's
# too) so that every makespan is 0, and claims a total of 0.
RIGGED_SIMULATOR = (
    SEED.replace("def get_random_costs():", "def honest():")
    + """

def get_random_costs():
    _, schedules, _ = honest()
    Workload.get_opt_seq_cost = lambda self, seq: 0
    return 0, schedules, 0.0
"""
)

# A list that lies about its length and equality; the channel carries its real items.
LIAR = """
class Liar(list):
    def __len__(self):
        return 100
    def __eq__(self, other):
        return True

def get_random_costs():
    return 0, [Liar(range(99)), list(range(100)), list(range(100))], 0.0
"""

DUPLICATE = """
def get_random_costs():
    return 0, [[0] + list(range(1, 99)) + [0], list(range(100)), list(range(100))], 0.0
"""

NOT_PLAIN = """
def get_random_costs():
    return 0, [iter(range(100))] * 3, 0.0
"""


def test_task_is_split_with_an_adapter():
    task = load_task(TASKS / "txn_scheduling")
    assert task.primary_metric == "score" and task.evaluation_mode == "split" and task.verified
    assert task.spec.adapter == "adapter.py"


def test_seed_scores_as_before_and_is_deterministic():
    a, b = score("txn_scheduling", SEED), score("txn_scheduling", SEED)
    assert a["score"] == b["score"] == pytest.approx(SEED_SCORE, abs=1e-9)
    assert a["makespan"] == 358.0 and a["sequential_makespan"] == 537.0  # the leaderboard's baseline
    assert a["candidate_time_s"] > 0 and a["eval_wall_s"] >= a["candidate_time_s"]


def test_better_candidate_beats_seed():
    assert score("txn_scheduling", BETTER)["score"] > SEED_SCORE


def test_fake_makespan_and_seconds_are_ignored():
    m = score("txn_scheduling", FAKE_CLAIM)
    assert m["makespan"] == 537.0 and m["score"] == 0.0
    assert m["candidate_time_s"] >= 0.2  # the trusted clock, not the program's 0.0


def test_rigged_simulator_in_the_candidate_changes_nothing():
    m = score("txn_scheduling", RIGGED_SIMULATOR)
    assert m["score"] == pytest.approx(SEED_SCORE, abs=1e-9) and m["makespan"] == 358.0


@pytest.mark.parametrize(
    "code, message",
    [
        (SHORT, "99 entries"),
        (LIAR, "99 entries"),
        (DUPLICATE, "not a permutation"),
        (NOT_PLAIN, "plain data"),
    ],
)
def test_bad_schedules_are_invalid(code, message):
    with pytest.raises(CandidateRejected, match=message) as info:
        score("txn_scheduling", code)
    assert info.value.kind.value == "invalid_output"


def test_leaderboard_solution_class_drops_in():
    sol = f"class Solution:\n    def solve(self, spec_path=None):\n        return {{'code': {SEED!r}}}\n"
    assert score("txn_scheduling", sol)["score"] == pytest.approx(SEED_SCORE, abs=1e-9)


def test_sandboxed_end_to_end():
    result = sandboxed("txn_scheduling", SEED)
    assert result.valid and result.verified, result.failure
    assert result.score == pytest.approx(SEED_SCORE, abs=1e-9)
    hostile = sandboxed("txn_scheduling", FAKE_CLAIM)
    assert hostile.valid and hostile.score == 0.0


class RecordingCandidate:
    """Stands in for the candidate handle: records the per-call limit in force for each call and
    answers with each workload's sequential order (what the evaluator makes of it is not the point)."""

    def __init__(self):
        self.timeout_s = 5.0
        self.stage_timeout_s: float | None = None
        self.limits: dict[str, float | None] = {}

    def call(self, name, *args):
        self.limits[name] = self.timeout_s
        return [list(range(100))] * 3 if name == "get_random_costs" else None

    def reload(self):
        pass


def test_program_gets_the_leaderboards_600_s():
    from adrs_support import load_evaluator

    candidate = RecordingCandidate()
    metrics = load_evaluator("txn_scheduling")(candidate)
    assert candidate.limits["get_random_costs"] == 600.0  # submission_spec.json timeout_seconds
    assert candidate.limits["provide_workloads"] == 5.0 and candidate.timeout_s == 5.0  # restored
    assert metrics["makespan"] == 537.0
    assert load_task(TASKS / "txn_scheduling").spec.sandbox.timeout_s > 600.0


@pytest.mark.parametrize("stage_s,program_s", [(None, 600.0), (660.0, 600.0), (1860.0, 1800.0)])
def test_a_longer_stage_gives_the_program_longer(stage_s, program_s):
    """`reproduce adrs --leaderboard --timeout 1800` raises the stage's limit; the program's own limit
    follows it (keeping the 60 s the default leaves for the rest), never below the leaderboard's."""
    from adrs_support import load_evaluator

    candidate = RecordingCandidate()
    candidate.stage_timeout_s = stage_s
    load_evaluator("txn_scheduling")(candidate)
    assert candidate.limits["get_random_costs"] == program_s
