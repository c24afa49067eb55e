"""prism in split mode: models cross as plain rows, the placement comes back as model indices."""

import pytest
from adrs_support import TASKS, sandboxed, score, seed_code

from syslab.adrs.prism_sim import Model, as_rows, check_placement, ideal_kvpr, max_kvpr
from syslab.adrs.prism_sim import test_cases as make_cases
from syslab.evaluators import CandidateRejected, InvalidOutput, WrongAnswer
from syslab.task import load_task

SEED = seed_code("prism")
SEED_SCORE = 60.817400988386495  # the path-based evaluator's score before the split

# The baseline greedy, then single-model moves and pairwise swaps while they lower the max KVPR.
BETTER = SEED.replace(
    "def compute_model_placement(gpu_num, models):", "def greedy(gpu_num, models):"
).replace(
    "# EVOLVE-BLOCK-END",
    """
def _kvpr(ms):
    free = GPU_MEM_SIZE - sum(m.model_size for m in ms)
    return sum(m.req_rate / m.slo for m in ms) / free if free > 0 else 1e6


def compute_model_placement(gpu_num, models):
    p = greedy(gpu_num, models)
    improved = True
    while improved:
        improved = False
        worst = max(p, key=lambda g: _kvpr(p[g]))
        best = _kvpr(p[worst])
        for m in list(p[worst]):
            for g in p:
                if g == worst:
                    continue
                for other in [None] + list(p[g]):
                    a = [x for x in p[worst] if x is not m] + ([other] if other else [])
                    b = [x for x in p[g] if x is not other] + [m]
                    if sum(x.model_size for x in b) > GPU_MEM_SIZE or sum(x.model_size for x in a) > GPU_MEM_SIZE:
                        continue
                    if max(_kvpr(a), _kvpr(b)) < best - 1e-12:
                        p[worst], p[g] = a, b
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return p

# EVOLVE-BLOCK-END""",
)

# Everything on GPU 0: far over 80 GB.
OVERFULL = """
def compute_model_placement(gpu_num, models):
    return {0: list(models)}
"""

DROPS_ONE = """
def compute_model_placement(gpu_num, models):
    return {g: list(models[g + 1::gpu_num]) for g in range(gpu_num)}
"""

NOT_A_DICT = """
def compute_model_placement(gpu_num, models):
    return [list(models)]
"""

# Shrinks its copies to 0 GB, then stacks them all on GPU 0: the sizes checked are the originals.
SHRINKS = """
def compute_model_placement(gpu_num, models):
    for m in models:
        m.model_size = 0
    return {0: list(models)}
"""

# The seed's placement, computed after zeroing every rate: KVPR is computed on the originals.
ZERO_RATES = (
    SEED.replace("def compute_model_placement(gpu_num, models):", "def greedy(gpu_num, models):")
    + """

def compute_model_placement(gpu_num, models):
    placement = greedy(gpu_num, models)
    for m in models:
        m.req_rate = 0
    return placement
"""
)

# Look-alike models (equal fields, new objects): not the models given.
FOREIGN = """
import copy

def compute_model_placement(gpu_num, models):
    return {g: [copy.copy(m) for m in models[g::gpu_num]] for g in range(gpu_num)}
"""

DUPLICATE = """
def compute_model_placement(gpu_num, models):
    placement = {g: list(models[g::gpu_num]) for g in range(gpu_num)}
    placement[1].append(models[0])
    return placement
"""

# Replaces the adapter's function: hand-crafted indices (out of range) straight onto the channel.
FORGED = """
import sys

def compute_model_placement(gpu_num, models):
    return {}

sys.modules["syslab_adapter"].compute_model_placement = lambda program, gpus, rows: {0: [len(rows) + 5]}
"""

BOOL_KEYS = """
import sys

def compute_model_placement(gpu_num, models):
    return {}

sys.modules["syslab_adapter"].compute_model_placement = lambda program, gpus, rows: {True: [0]}
"""


def test_cases_follow_the_statement():
    cases = make_cases()
    assert len(cases) == 50
    for gpus, models in cases:
        assert 5 <= gpus <= 9 and len(models) == 2 * gpus
        assert all(10 <= m.model_size <= 29 and 1 <= m.req_rate <= 9 and 5 <= m.slo <= 9 for m in models)
        assert ideal_kvpr(gpus, models) <= max_kvpr([models[g::gpus] for g in range(gpus)])


def test_rows_rebuild_the_models():
    _, models = make_cases(1)[0]
    assert [Model(*row) for row in as_rows(models)] == models


def test_check_placement_uses_the_originals():
    models = [Model("a", 50, 1, 5, 0), Model("b", 40, 1, 5, 1)]
    assert check_placement({0: [0], 1: [1]}, 2, models, 0) == [[models[0]], [models[1]]]
    with pytest.raises(WrongAnswer, match="over capacity"):
        check_placement({0: [0, 1]}, 2, models, 0)
    with pytest.raises(WrongAnswer, match="not placed"):
        check_placement({0: [0]}, 2, models, 0)
    with pytest.raises(InvalidOutput, match="expected a list"):
        check_placement({0: (0, 1)}, 2, models, 0)


def test_task_is_split():
    task = load_task(TASKS / "prism")
    assert task.evaluation_mode == "split" and task.spec.adapter == "adapter.py"


def test_seed_scores_as_before_and_is_repeatable():
    first, second = score("prism", SEED), score("prism", SEED)
    assert first["cases"] == 50 and first == {**second, "eval_wall_s": first["eval_wall_s"]}
    assert first["optimal_kvpr"] < first["avg_kvpr"] < first["baseline_kvpr"]
    assert first["score"] == pytest.approx(SEED_SCORE, abs=1e-9)  # leaderboard-generated cases


def test_local_search_beats_seed():
    seed, better = score("prism", SEED), score("prism", BETTER)
    assert better["avg_kvpr"] < seed["avg_kvpr"] and better["score"] > seed["score"] + 10


def test_mutating_the_models_changes_nothing():
    assert score("prism", ZERO_RATES)["score"] == pytest.approx(SEED_SCORE, abs=1e-9)


@pytest.mark.parametrize(
    "code, kind, message",
    [
        (OVERFULL, "wrong_answer", "over capacity"),
        (SHRINKS, "wrong_answer", "over capacity"),
        (DROPS_ONE, "wrong_answer", "not placed"),
        (FOREIGN, "wrong_answer", "foreign model"),
        (DUPLICATE, "wrong_answer", "more than once"),
        (FORGED, "wrong_answer", "foreign model"),
        (BOOL_KEYS, "invalid_output", "GPU id True"),
        (NOT_A_DICT, "invalid_output", "expected dict"),
    ],
    ids=["overfull", "shrinks", "drops", "foreign", "duplicate", "forged", "bool_keys", "not_dict"],
)
def test_hostile_placements_fail(code, kind, message):
    with pytest.raises(CandidateRejected, match=message) as info:
        score("prism", code)
    assert info.value.kind.value == kind


def test_sandboxed_end_to_end():
    result = sandboxed("prism", SEED)
    assert result.valid and result.verified, result.failure
    assert result.score == pytest.approx(SEED_SCORE, abs=1e-9)
    hostile = sandboxed("prism", SHRINKS)
    assert not hostile.valid and hostile.failure.kind.value == "wrong_answer"


def test_leaderboard_solution_returning_a_program_path():
    """Solution().solve() writes the program into the candidate's scratch dir and names it."""
    sol = (
        "from pathlib import Path\n\n"
        "class Solution:\n"
        "    def solve(self, spec_path=None):\n"
        f"        Path('mine.py').write_text({SEED!r})\n"
        "        return {'program_path': 'mine.py'}\n"
    )
    assert score("prism", sol)["score"] == pytest.approx(SEED_SCORE, abs=1e-9)
    with pytest.raises(CandidateRejected, match="does not exist"):
        score(
            "prism", sol.replace("return {'program_path': 'mine.py'}", "return {'program_path': 'nope.py'}")
        )
