import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.evaluators import InvalidOutput, WrongAnswer

pytest.importorskip("torch", reason="the eplb interface passes torch tensors (pip install syslab[kernels])")

SEED = TASKS / "eplb" / "seed.py"

# Ignore the node hierarchy and balance all 288 slots globally: more freedom, better GPU balance.
BETTER = SEED.read_text().replace("    if num_groups % num_nodes or n % num_groups:", "    if True:")

# One replica per expert plus 32 extra replicas of expert 0, but logcnt claims one each.
LYING = """
import torch

def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    layers, n = weight.shape
    row = list(range(n)) + [0] * (num_replicas - n)
    phy2log = torch.tensor([row] * layers)
    logcnt = torch.ones(layers, n, dtype=torch.int64)
    log2phy = torch.arange(n).view(1, n, 1).repeat(layers, 1, 1)
    return phy2log, log2phy, logcnt
"""

SHORT = """
import torch

def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    layers, n = weight.shape
    return torch.zeros(layers, 10, dtype=torch.int64), torch.zeros(layers, n, 1, dtype=torch.int64), torch.ones(layers, n, dtype=torch.int64)
"""


@pytest.fixture(scope="module")
def seed_result():
    return load_evaluator("eplb")(str(SEED))


def test_seed_scores_and_is_repeatable(seed_result):
    again = load_evaluator("eplb")(str(SEED))
    assert seed_result["placements"] == 15
    assert 0.5 < seed_result["balancedness_gpu"] < 0.95  # skewed loads: far from perfect, far from naive
    assert again["balancedness_gpu"] == seed_result["balancedness_gpu"]
    assert again["balancedness_expert"] == seed_result["balancedness_expert"]
    expected = 90 * seed_result["balancedness_gpu"] + seed_result["speed_score"] - seed_result["slow_penalty"]
    assert seed_result["score"] == pytest.approx(expected)


def test_global_balancing_beats_seed(tmp_path, seed_result):
    better = load_evaluator("eplb")(write(tmp_path, BETTER))
    assert better["balancedness_gpu"] > seed_result["balancedness_gpu"]
    assert better["balancedness_score"] > seed_result["balancedness_score"]


def test_inconsistent_maps_are_wrong_answer(tmp_path):
    with pytest.raises(WrongAnswer, match="logcnt"):
        load_evaluator("eplb")(write(tmp_path, LYING))


def test_wrong_shape_is_invalid(tmp_path):
    with pytest.raises(InvalidOutput, match="phy2log has shape"):
        load_evaluator("eplb")(write(tmp_path, SHORT))
