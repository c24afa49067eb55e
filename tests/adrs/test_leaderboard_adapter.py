import importlib.util
from pathlib import Path

import pytest

from syslab.adrs.leaderboard import task_from_leaderboard
from syslab.errors import SpecError
from syslab.evaluators import InvalidOutput

FIXTURE = Path(__file__).parent / "fixtures" / "lb_repo" / "problems" / "top_k"

BETTER = '''
CODE = """
def pick(numbers, k):
    return sorted(range(len(numbers)), key=lambda i: -numbers[i])[:k]
"""

class Solution:
    def solve(self, spec_path=None):
        return {"code": CODE}
'''

BROKEN = """
class Solution:
    def solve(self, spec_path=None):
        return {"code": "def pick(numbers, k):\\n    return [0, 0, 0]\\n"}
"""


def _evaluator(task):
    spec = importlib.util.spec_from_file_location("lb_wrapper", task.root / "evaluate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.evaluate


def test_adapter_builds_a_loadable_task(tmp_path):
    task = task_from_leaderboard(FIXTURE, out_root=tmp_path)
    assert task.name == "adrs-lb-top_k" and task.primary_metric == "score"
    assert "EVOLVE-BLOCK-START" in task.seed_code and "first k" in task.seed_code
    # The original evaluator imports the program: shared mode, reported as unverified.
    assert task.spec.mode == "shared" and task.evaluation_mode == "shared" and not task.verified
    copied = task.root / "problem"
    assert (copied / "evaluator.py").read_text() == (FIXTURE / "evaluator.py").read_text()
    assert (copied / "resources" / "numbers.json").is_file()


def test_sandboxed_shared_evaluation(tmp_path):
    """A run evaluates through the sandbox, which reads only the task dir: the problem's copy."""
    from syslab.evaluators.harness import evaluate_program
    from syslab.sandbox.process import ProcessSandbox

    task = task_from_leaderboard(FIXTURE, out_root=tmp_path, timeout_s=60)
    result = evaluate_program(task, task.seed_code, ProcessSandbox())
    assert result.valid and not result.verified, result.failure
    assert result.score == pytest.approx(100 * 19 / 29)
    broken = evaluate_program(task, BROKEN, ProcessSandbox())
    assert not broken.valid and "distinct" in broken.failure.message


def test_wrapper_runs_the_original_evaluator(tmp_path, monkeypatch):
    task = task_from_leaderboard(FIXTURE, out_root=tmp_path / "tasks")
    monkeypatch.chdir(tmp_path)
    evaluate = _evaluator(task)
    seed = evaluate(str(task.seed_path))
    assert seed["score"] == pytest.approx(100 * 19 / 29)  # 7+3+9 of best 12+9+8
    (tmp_path / "better.py").write_text(BETTER)
    assert evaluate(str(tmp_path / "better.py"))["score"] == pytest.approx(100.0)
    (tmp_path / "broken.py").write_text(BROKEN)
    with pytest.raises(InvalidOutput, match="distinct"):
        evaluate(str(tmp_path / "broken.py"))


def test_not_a_problem_dir(tmp_path):
    with pytest.raises(SpecError, match="evaluator.py"):
        task_from_leaderboard(tmp_path)
