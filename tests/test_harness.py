"""The evaluation harness: metrics, score direction, failure kinds, the cascade; in both modes.

Every test runs against two fixtures with the same semantics: `tiny` (shared mode: an OpenEvolve-style
evaluate(program_path)) and `tiny_split` (split mode: the evaluator takes a candidate handle).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from syslab.evaluators.base import FailureKind
from syslab.evaluators.harness import check_metrics, evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.task import Task, load_task

TASKS = Path(__file__).resolve().parent / "fixtures" / "tasks"
TINY = TASKS / "tiny"


@pytest.fixture(scope="module", params=["tiny", "tiny_split"])
def task(request: pytest.FixtureRequest) -> Task:
    return load_task(TASKS / request.param)


def printed(result) -> str:  # noqa: ANN001
    """Everything the evaluation printed (split mode keeps the evaluator's output apart)."""
    return result.evidence.stdout + result.evidence.evaluator_stdout


@pytest.fixture(scope="module")
def sandbox() -> ProcessSandbox:
    return ProcessSandbox()


def main_only(task: Task, entry: str, timeout_s: float | None = None) -> Task:
    """The tiny task without its smoke stage, with another main evaluator entry."""
    update: dict = {"evaluator": entry, "stages": []}
    if timeout_s is not None:
        update["sandbox"] = task.spec.sandbox.model_copy(update={"timeout_s": timeout_s})
    return task.model_copy(update={"spec": task.spec.model_copy(update=update)})


def answer(value: str) -> str:
    return f"# EVOLVE-BLOCK-START\ndef answer():\n    return {value}\n# EVOLVE-BLOCK-END\n"


def test_good_candidate_metrics_and_minimize_direction(task: Task, sandbox: ProcessSandbox) -> None:
    near, far = evaluate_program(task, answer("41"), sandbox), evaluate_program(task, answer("50"), sandbox)
    assert near.ok and far.ok
    assert near.metrics == {"gap": 1.0, "calls": 1.0} and near.stage == "main"
    assert near.score == -1.0 and far.score == -8.0  # gap is minimized: smaller gap, higher score
    assert task.better(near.score, far.score)
    assert "STAGE smoke ran" in printed(near) and "STAGE main ran" in printed(near)
    assert near.verified == (task.evaluation_mode == "split")
    assert near.wall_s > 0 and near.cpu_s > 0 and near.peak_rss_mb > 0


def test_artifacts_are_collected(task: Task, sandbox: ProcessSandbox) -> None:
    code = answer("42") + "def report():\n    return {'note': 'hi'}\n"
    result = evaluate_program(task, code, sandbox)
    assert result.ok and result.artifacts["seen"] == {"note": "hi"}
    assert result.evidence.raw["gap"] == 0


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("def answer(:\n    return 1\n", FailureKind.syntax, "line 1"),
        ("import no_such_module_xyz\n" + answer("1"), FailureKind.import_error, "no_such_module_xyz"),
        ("def answer():\n    return 1 / 0\n", FailureKind.runtime, "ZeroDivisionError"),
        (answer("'text'"), FailureKind.invalid_output, "expected a number"),
        (answer("'wrong'"), FailureKind.wrong_answer, "string 'wrong'"),
    ],
)
def test_candidate_failures(
    task: Task, sandbox: ProcessSandbox, code: str, kind: FailureKind, words: str
) -> None:
    result = evaluate_program(task, code, sandbox)
    assert not result.valid and result.score is None
    assert result.failure is not None and result.failure.kind == kind, result.failure
    assert words in result.failure.message
    if kind == FailureKind.runtime:
        assert "program.py" in result.evidence.traceback


def test_cascade_rejects_before_expensive_stage(task: Task, sandbox: ProcessSandbox) -> None:
    result = evaluate_program(task, answer("1000"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.invalid_output
    assert "below stage threshold" in result.failure.message and "smoke" in result.failure.message
    assert result.stage == "smoke"
    assert "STAGE smoke ran" in printed(result)
    assert "STAGE main ran" not in printed(result)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("evaluate.py:buggy", "ZeroDivisionError"),
        ("evaluate.py:strings", "evaluate.py:strings returned a non-numeric value for metric 'gap'"),
        ("evaluate.py:not_a_dict", "returned list, expected a dict"),
        ("evaluate.py:missing_fn", "has no function 'missing_fn'"),
    ],
)
def test_evaluator_faults(task: Task, sandbox: ProcessSandbox, entry: str, words: str) -> None:
    result = evaluate_program(main_only(task, entry), answer("42"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.evaluator_error, result.failure
    assert words in result.failure.message
    assert "\n" not in result.failure.message


def test_evaluator_reports_invalid(task: Task, sandbox: ProcessSandbox) -> None:
    result = evaluate_program(main_only(task, "evaluate.py:invalid"), answer("42"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.invalid_output
    assert result.failure.message == "gap too large" and not result.valid


def test_evaluator_timeout(task: Task, sandbox: ProcessSandbox) -> None:
    result = evaluate_program(main_only(task, "evaluate.py:slow", timeout_s=1), answer("42"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.timeout
    assert result.wall_s < 5


def test_evaluator_syntax_error_names_file_and_line(
    task: Task, sandbox: ProcessSandbox, tmp_path: Path
) -> None:
    broken = tmp_path / "tiny"
    shutil.copytree(task.root, broken)
    param = "candidate" if task.evaluation_mode == "split" else "path"
    (broken / "evaluate.py").write_text(f"def evaluate({param}):\n    return {{'gap': }}\n")
    result = evaluate_program(main_only(load_task(broken), "evaluate.py:evaluate"), answer("42"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.evaluator_error
    assert result.failure.message.startswith("evaluate.py line 2: syntax error")


def test_scratch_and_helper_dirs_removed(task: Task, sandbox: ProcessSandbox) -> None:
    tmp = Path(tempfile.gettempdir())
    before = {p.name for p in tmp.glob("syslab-*") if not p.name.startswith("syslab-site-")}
    code = answer("42") + "open('junk.txt', 'w').write('x' * 1000)\n"
    result = evaluate_program(main_only(task, "evaluate.py:evaluate"), code, sandbox)
    assert result.ok, result.failure
    after = {p.name for p in tmp.glob("syslab-*") if not p.name.startswith("syslab-site-")}
    assert after - before == set()


def test_non_finite_metric_is_rejected(task: Task, sandbox: ProcessSandbox) -> None:
    result = evaluate_program(main_only(task, "evaluate.py:infinite"), answer("42"), sandbox)
    assert result.failure is not None and result.failure.kind == FailureKind.invalid_output
    assert "non-finite" in result.failure.message and result.score is None


def test_check_metrics() -> None:
    assert check_metrics({"a": 1, "b": True, "valid": True, "error": "", "artifacts": {}}, "e.py:f") == (
        {"a": 1.0, "b": 1.0},
        None,
    )
    assert (
        check_metrics({"a": None}, "e.py:f")[1]
        == "e.py:f returned a non-numeric value for metric 'a' (NoneType)"
    )
    assert (
        check_metrics({"valid": "yes"}, "e.py:f")[1]
        == "e.py:f returned 'valid' = 'yes', expected true or false"
    )


def test_split_evaluator_is_told_its_stage_limit(sandbox: ProcessSandbox) -> None:
    """The trusted evaluator learns how long the host allows the running stage (an evaluator that
    limits a call itself, as txn_scheduling does, follows a raised limit)."""
    task = main_only(load_task(TASKS / "tiny_split"), "evaluate.py:stage_time", timeout_s=37.0)
    result = evaluate_program(task, answer("42"), sandbox)
    assert result.ok, result.failure
    assert result.artifacts["stage_timeout_s"] == 37.0


def test_the_in_process_handle_has_every_attribute_of_the_candidate_handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A split-style evaluator also runs in shared mode, given an in-process handle: every public
    attribute the real handle offers (stage_timeout_s, timeout_s, calls, ...) must be there too."""
    from syslab.evaluators.channel import Channel
    from syslab.evaluators.handle import Candidate
    from syslab.evaluators.inprocess import InProcessCandidate

    monkeypatch.chdir(tmp_path)  # the runtime writes the program where it runs
    program = tmp_path / "program.py"
    program.write_text(answer("42"))
    remote = {name for name in vars(Candidate(Channel(-1), "")) if not name.startswith("_")}
    local = {name for name in vars(InProcessCandidate(program)) if not name.startswith("_")}
    assert remote and remote <= local, f"missing in shared mode: {sorted(remote - local)}"
