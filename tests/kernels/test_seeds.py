"""Every kernel task loads, and its naive seed passes the correctness path (Triton interpreter on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syslab.evaluators.kernel import INTERPRETER_NOTE, evaluate_kernel
from syslab.task import load_task

KERNELS = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels"
TASKS = sorted(p.name for p in KERNELS.iterdir() if (p / "task.toml").is_file())


def test_at_least_ten_kernel_tasks():
    assert len(TASKS) >= 10, TASKS


@pytest.mark.parametrize("name", TASKS)
def test_seed_is_correct_in_interpreter_mode(name):
    task = load_task(KERNELS / name)
    assert task.spec.family == "kernel" and task.spec.sandbox.gpu and task.primary_metric == "speedup"
    result = evaluate_kernel(task.seed_path, task.root / "reference.py", mode="interpreter")
    assert result["correct"] == 1.0 and result["correctness_only"] == 1.0
    assert "speedup" not in result and "runtime_us" not in result  # never a speed figure without a GPU
    assert result["trials"] >= 5
    art = result["artifacts"]
    assert art["mode"] == "interpreter" and art["note"] == INTERPRETER_NOTE
    assert len(art["shapes"]) >= 2
    for skipped in art.get("skipped", []):
        assert "bfloat16" in skipped and "interpreter" in skipped


def test_wrong_kernel_is_a_wrong_answer(tmp_path):
    """A one-character bug in the seed (bias dropped) is caught by the tolerance check."""
    from syslab.evaluators.base import WrongAnswer

    seed = (KERNELS / "swish_bias" / "seed.py").read_text()
    bad = tmp_path / "bad.py"
    bad.write_text(seed.replace("+ b\n", "+ 0.0 * b\n"))
    assert bad.read_text() != seed
    with pytest.raises(WrongAnswer, match="differs from the reference"):
        evaluate_kernel(bad, KERNELS / "swish_bias" / "reference.py", mode="interpreter")


def test_program_without_model_new_is_invalid(tmp_path):
    from syslab.evaluators.base import InvalidOutput

    prog = tmp_path / "empty.py"
    prog.write_text("x = 1\n")
    with pytest.raises(InvalidOutput, match="no ModelNew"):
        evaluate_kernel(prog, KERNELS / "softmax" / "reference.py", mode="interpreter")
