import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput
from syslab.task import load_task

SEED = TASKS / "txn_scheduling" / "seed.py"

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

SEQUENTIAL = """
def get_random_costs():
    return 1, [list(range(100))] * 3, 0.0
"""


def test_task_loads():
    task = load_task(TASKS / "txn_scheduling")
    assert task.primary_metric == "score"


def test_seed_scores_and_is_deterministic():
    evaluate = load_evaluator("txn_scheduling")
    a, b = evaluate(str(SEED)), evaluate(str(SEED))
    assert a["score"] == b["score"] and a["makespan"] == b["makespan"]
    assert a["sequential_makespan"] == 537.0  # the leaderboard's cached baseline
    assert 0 < a["score"] < 100
    assert a["eval_wall_s"] > 0


def test_sequential_order_scores_zero_and_claim_is_ignored(tmp_path):
    m = load_evaluator("txn_scheduling")(write(tmp_path, SEQUENTIAL))
    assert m["makespan"] == 537.0 and m["score"] == 0.0


def test_better_candidate_beats_seed(tmp_path):
    evaluate = load_evaluator("txn_scheduling")
    assert evaluate(write(tmp_path, BETTER))["score"] > evaluate(str(SEED))["score"]


def test_wrong_schedule_length_is_invalid(tmp_path):
    with pytest.raises(InvalidOutput, match="99 entries"):
        load_evaluator("txn_scheduling")(write(tmp_path, SHORT))


def test_leaderboard_solution_class_drops_in(tmp_path):
    code = SEED.read_text()
    sol = f"class Solution:\n    def solve(self, spec_path=None):\n        return {{'code': {code!r}}}\n"
    evaluate = load_evaluator("txn_scheduling")
    assert evaluate(write(tmp_path, sol, "solution.py"))["score"] == evaluate(str(SEED))["score"]
