import pytest
from adrs_support import TASKS, load_evaluator, write

from syslab.adrs.prism_sim import ideal_kvpr, max_kvpr
from syslab.adrs.prism_sim import test_cases as make_cases
from syslab.evaluators import InvalidOutput, WrongAnswer

SEED = TASKS / "prism" / "seed.py"

# The baseline greedy, then single-model moves and pairwise swaps while they lower the max KVPR.
BETTER = (
    SEED.read_text()
    .replace("def compute_model_placement(gpu_num, models):", "def greedy(gpu_num, models):")
    .replace(
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


def test_cases_follow_the_statement():
    cases = make_cases()
    assert len(cases) == 50
    for gpus, models in cases:
        assert 5 <= gpus <= 9 and len(models) == 2 * gpus
        assert all(10 <= m.model_size <= 29 and 1 <= m.req_rate <= 9 and 5 <= m.slo <= 9 for m in models)
        assert ideal_kvpr(gpus, models) <= max_kvpr([models[g::gpus] for g in range(gpus)])


def test_seed_score_is_repeatable():
    first = load_evaluator("prism")(str(SEED))
    second = load_evaluator("prism")(str(SEED))
    assert first["cases"] == 50 and first == {**second, "eval_wall_s": first["eval_wall_s"]}
    assert first["optimal_kvpr"] < first["avg_kvpr"] < first["baseline_kvpr"]
    assert first["score"] == pytest.approx(60.8174, abs=1e-3)  # measured; leaderboard-generated cases


def test_local_search_beats_seed(tmp_path):
    seed = load_evaluator("prism")(str(SEED))
    better = load_evaluator("prism")(write(tmp_path, BETTER))
    assert better["avg_kvpr"] < seed["avg_kvpr"] and better["score"] > seed["score"] + 10


def test_over_capacity_is_wrong_answer(tmp_path):
    with pytest.raises(WrongAnswer, match="over capacity"):
        load_evaluator("prism")(write(tmp_path, OVERFULL))


def test_missing_model_is_wrong_answer(tmp_path):
    with pytest.raises(WrongAnswer, match="not placed"):
        load_evaluator("prism")(write(tmp_path, DROPS_ONE))


def test_not_a_dict_is_invalid(tmp_path):
    with pytest.raises(InvalidOutput, match="expected dict"):
        load_evaluator("prism")(write(tmp_path, NOT_A_DICT))
