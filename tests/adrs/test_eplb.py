"""eplb in split mode: loads cross as numpy arrays, the maps come back as arrays, time is taken here."""

import importlib.util
import sys

import pytest
from adrs_support import REPO, TASKS, sandboxed, score, seed_code

from syslab.adrs.common import MissingDependency
from syslab.evaluators import CandidateRejected
from syslab.task import load_task

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="the eplb interface passes torch tensors (pip install -e '.[adrs]')",
)

SEED = seed_code("eplb")
# The seed's balancedness on the evaluator's (secret-seed) windows. On the public seed-0 windows the
# path-based evaluator (before the split) and the split one agreed: 0.7696815651638228.
SEED_BALANCEDNESS = 0.7693243871011677

# Ignore the node hierarchy and balance all 288 slots globally: more freedom, better GPU balance.
BETTER = SEED.replace("    if num_groups % num_nodes or n % num_groups:", "    if True:")

# One replica per expert, one more for each layer's heaviest experts; vectorised, about a millisecond.
FAST = """
import torch

def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    layers, n = weight.shape
    extra = num_replicas - n
    hot = weight.argsort(dim=1, descending=True)[:, :extra]
    phy2log = torch.cat([torch.arange(n).expand(layers, n), hot], dim=1)
    logcnt = torch.ones(layers, n, dtype=torch.int64)
    logcnt.scatter_add_(1, hot, torch.ones_like(hot))
    log2phy = torch.full((layers, n, 2), -1, dtype=torch.int64)
    log2phy[:, :, 0] = torch.arange(n)
    rows = torch.arange(layers).unsqueeze(1).expand(-1, extra)
    log2phy[rows, hot, 1] = torch.arange(n, num_replicas).expand(layers, -1)
    return phy2log, log2phy, logcnt
"""

# FAST, but every call sleeps 30 ms and every clock of its process stands still.
STOPS_CLOCKS = (
    FAST.replace("def rebalance_experts(", "def fast(")
    + """
import time

_sleep = time.sleep
for _name in ("perf_counter", "perf_counter_ns", "monotonic", "time", "process_time"):
    setattr(time, _name, lambda: 0)

def rebalance_experts(*args):
    _sleep(0.03)
    return fast(*args)
"""
)

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

NAN = FAST.replace(
    "    return phy2log, log2phy, logcnt", "    return phy2log, log2phy, logcnt.float() * float('nan')"
)

NOT_PLAIN = """
def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    return object(), object(), object()
"""


@pytest.fixture(scope="module")
def seed_result():
    return score("eplb", SEED)


def test_task_is_split():
    task = load_task(TASKS / "eplb")
    assert task.evaluation_mode == "split" and task.spec.adapter == "adapter.py"


@needs_torch
def test_seed_balances_as_before(seed_result):
    assert seed_result["placements"] == 15
    assert seed_result["balancedness_gpu"] == pytest.approx(SEED_BALANCEDNESS, abs=1e-12)
    assert seed_result["time_algorithm_s"] > 0.01  # pure-Python loops over 58 layers: tens of ms at least
    expected = 90 * seed_result["balancedness_gpu"] + seed_result["speed_score"] - seed_result["slow_penalty"]
    assert seed_result["score"] == pytest.approx(expected)


@needs_torch
def test_global_balancing_beats_seed(seed_result):
    better = score("eplb", BETTER, placements=3)
    assert better["balancedness_gpu"] > score("eplb", SEED, placements=3)["balancedness_gpu"]


@needs_torch
def test_fast_candidate_is_valid_and_fast():
    m = score("eplb", FAST)
    assert 0.3 < m["balancedness_gpu"] < 1 and m["time_algorithm_s"] < 0.05 and m["speed_score"] > 0


@needs_torch
def test_stopped_clocks_do_not_hide_the_time():
    m = score("eplb", STOPS_CLOCKS, placements=3)
    assert m["time_algorithm_s"] >= 0.03 and m["slow_penalty"] >= 0.6  # 20 x 0.03 s


@needs_torch
@pytest.mark.parametrize(
    "code, kind, message",
    [
        (LYING, "wrong_answer", "logcnt"),
        (SHORT, "invalid_output", "phy2log has shape"),
        (NAN, "invalid_output", "NaN"),
        (NOT_PLAIN, "invalid_output", "plain data"),
    ],
    ids=["inconsistent_maps", "wrong_shape", "nan", "not_plain"],
)
def test_bad_maps_fail(code, kind, message):
    with pytest.raises(CandidateRejected, match=message) as info:
        score("eplb", code, placements=1)
    assert info.value.kind.value == kind


@needs_torch
def test_sandboxed_end_to_end():
    result = sandboxed("eplb", STOPS_CLOCKS)
    assert result.valid and result.verified, result.failure
    assert result.metrics["time_algorithm_s"] >= 0.03 and result.metrics["placements"] == 15


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("side", ["evaluate.py", "adapter.py"])
def test_missing_torch_is_one_line_naming_the_extra(monkeypatch, side):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails, as where it is not installed
    with pytest.raises(MissingDependency) as info:
        load_module(TASKS / "eplb" / side, f"_eplb_{side[:-3]}_without_torch")
    assert str(info.value) == "eplb needs torch: pip install -e '.[adrs]'"


def test_adrs_extra_installs_torch():
    from syslab.config import tomllib  # tomllib on 3.11+, tomli before

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.split("[")[0].split(">")[0].split("=")[0].strip() == "torch" for req in extras["adrs"])
