"""The example tasks: evaluators score seeds and better heuristics, reject bad output, and are improvable.

The evaluators are split-mode: they run here, in the test process, and reach each candidate through a
handle to an (unsandboxed) child process (syslab.evaluators.local); the sandboxed path is covered by
tests/test_harness.py and tests/security/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from syslab.agents.base import CandidateView, ProposalRequest
from syslab.agents.offline import OfflineProposer
from syslab.evaluators import CandidateRejected, InvalidOutput
from syslab.evaluators.local import task_candidate
from syslab.task import load_task

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def evaluator(task: str) -> ModuleType:
    path = EXAMPLES / task / "evaluate.py"
    spec = importlib.util.spec_from_file_location(f"example_{task}_evaluate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score(task_name: str, code: str, entry: str = "evaluate", **kwargs: Any) -> dict[str, Any]:
    """Run the example's evaluator here against `code` in a candidate process."""
    with task_candidate(load_task(EXAMPLES / task_name), code) as candidate:
        return getattr(evaluator(task_name), entry)(candidate, **kwargs)


BIN_GOOD = """
import numpy as np

def priority(item, bins):
    residual = bins - item
    # best fit, but avoid leaving a gap under 25 that later items rarely fill
    awkward = (residual > 0) & (residual < 25)
    return -residual - 1.2 * item * awkward
"""

LB_GOOD = """
def choose_server(request, servers):
    # least estimated completion time: the queue's work plus this request, at the server's speed
    return min(servers, key=lambda s: (s.outstanding_work + request.est_work) / s.speed).index
"""


@pytest.mark.parametrize("name", ["bin_packing", "load_balancer"])
def test_task_specs_load(name: str) -> None:
    task = load_task(EXAMPLES / name)
    assert task.spec.stages and task.spec.stages[0].entry.endswith(":evaluate_quick")
    assert task.primary_metric in ("excess_pct", "p99_latency_ms")


def test_bin_packing_seed_is_best_fit_and_a_gap_aware_heuristic_beats_it(tmp_path: Path) -> None:
    small = {"seeds": (0, 1), "n_items": 2000}
    seed = score("bin_packing", (EXAMPLES / "bin_packing" / "seed.py").read_text(), **small)
    best_fit = score("bin_packing", "def priority(item, bins):\n    return -(bins - item)\n", **small)
    good = score("bin_packing", BIN_GOOD, **small)
    assert seed["excess_pct"] == best_fit["excess_pct"]  # the seed is plain best fit
    assert 2.0 < seed["excess_pct"] < 8.0
    assert good["excess_pct"] < seed["excess_pct"] - 0.5
    assert seed["l1_bound"] == good["l1_bound"] and good["bins_used"] < seed["bins_used"]
    # first fit (every bin scores the same: argmax takes the oldest) uses at least as many bins
    first_fit = score(
        "bin_packing",
        "import numpy as np\ndef priority(item, bins):\n    return np.zeros(len(bins))\n",
        **small,
    )
    assert first_fit["bins_used"] >= seed["bins_used"]


def test_bin_packing_quick_stage_passes_the_seed(tmp_path: Path) -> None:
    task = load_task(EXAMPLES / "bin_packing")
    quick = score("bin_packing", task.seed_code, "evaluate_quick")
    assert quick["excess_pct"] < task.spec.stages[0].threshold


@pytest.mark.parametrize(
    "body, message",
    [
        ("return [1.0]", "shape"),
        ("return bins * float('nan')", "NaN"),
        ("return None", "shape"),
    ],
)
def test_bin_packing_rejects_bad_scores(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(CandidateRejected, match=message) as info:
        score("bin_packing", f"def priority(item, bins):\n    {body}\n", seeds=(0,), n_items=200)
    assert info.value.kind.value == "invalid_output"
    with pytest.raises(CandidateRejected, match="priority"):
        score("bin_packing", "x = 1\n", seeds=(0,), n_items=10)


def test_load_balancer_seed_round_robin_and_a_load_aware_policy(tmp_path: Path) -> None:
    small = {"seeds": (0,), "n_requests": 3000}
    seed = score("load_balancer", (EXAMPLES / "load_balancer" / "seed.py").read_text(), **small)
    rr = score(
        "load_balancer",
        "def choose_server(request, servers):\n    return request.id % len(servers)\n",
        **small,
    )
    good = score("load_balancer", LB_GOOD, **small)
    assert seed["p99_latency_ms"] == pytest.approx(rr["p99_latency_ms"])  # the seed is plain round robin
    assert good["p99_latency_ms"] < seed["p99_latency_ms"] / 3
    assert good["mean_latency_ms"] < seed["mean_latency_ms"]
    assert good["throughput_rps"] > 0 and seed["throughput_rps"] > 0


@pytest.mark.parametrize("ret", ["len(servers)", "-1", "0.5", "'0'", "True", "None"])
def test_load_balancer_rejects_invalid_choices(tmp_path: Path, ret: str) -> None:
    with pytest.raises(InvalidOutput, match="choose_server returned"):
        score(
            "load_balancer",
            f"def choose_server(request, servers):\n    return {ret}\n",
            seeds=(0,),
            n_requests=50,
        )


def test_load_balancer_accepts_numpy_integers(tmp_path: Path) -> None:
    code = "import numpy as np\ndef choose_server(request, servers):\n    return np.int64(request.id % 8)\n"
    result = score("load_balancer", code, seeds=(0,), n_requests=100)
    assert result["p99_latency_ms"] > 0


def hill_climb(tmp_path: Path, task_name: str, offset: int = 0, **small: object) -> tuple[float, float]:
    """40 offline proposals, each evaluated through a candidate handle; the best so far is the next parent."""
    task = load_task(EXAMPLES / task_name)
    metric = task.primary_metric

    def measure(code: str, i: int) -> float | None:
        try:
            return float(score(task_name, code, **small)[metric])
        except Exception:  # noqa: BLE001 - a broken candidate is just a bad candidate here
            return None

    seed_value = measure(task.seed_code, 0)
    assert seed_value is not None
    best, best_value = CandidateView(node_id=0, code=task.seed_code), seed_value
    population = [best]
    proposer = OfflineProposer()
    for i in range(1, 41):
        req = ProposalRequest(
            task_name=task.name,
            task_description=task.spec.description,
            primary_metric=metric,
            metric_directions={metric: "minimize"},
            parent=best,
            inspirations=population[-3:],
            seed=offset + i,
        )
        proposal = proposer.propose(req)
        if proposal.code is None:
            continue
        value = measure(proposal.code, i)
        candidate = CandidateView(node_id=i, code=proposal.code, score=None if value is None else -value)
        population.append(candidate)
        if value is not None and value < best_value:
            best, best_value = candidate, value
    return seed_value, best_value


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_offline_search_improves_bin_packing(tmp_path: Path) -> None:
    seed_value, best_value = hill_climb(tmp_path, "bin_packing", seeds=(0, 1), n_items=2000)
    assert best_value < seed_value


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_offline_search_improves_load_balancer(tmp_path: Path) -> None:
    seed_value, best_value = hill_climb(tmp_path, "load_balancer", seeds=(0, 1), n_requests=2000)
    assert best_value < seed_value / 2
