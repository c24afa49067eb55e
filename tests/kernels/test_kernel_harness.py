"""Kernel tasks end to end through the sandboxed harness (process sandbox, correctness-only on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syslab.evaluators.base import FailureKind
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
pytestmark = pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="a CUDA GPU is present: these assert interpreter mode"
)

KERNELS = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels"
HACKS = Path(__file__).resolve().parent / "hacks"


@pytest.fixture(scope="module")
def task():
    return load_task(KERNELS / "swish_bias")


@pytest.fixture(scope="module")
def sandbox():
    return ProcessSandbox()


def test_seed_through_the_harness_is_correctness_only(task, sandbox):
    result = evaluate_program(task, task.seed_code, sandbox)
    assert result.valid and result.failure is None, result.failure
    assert result.metrics["correct"] == 1.0 and result.metrics["correctness_only"] == 1.0
    assert "speedup" not in result.metrics and result.score is None
    assert (
        result.artifacts.get("mode") == "interpreter"
        or result.evidence.raw["artifacts"]["mode"] == "interpreter"
    )


@pytest.mark.parametrize(
    ("hack", "kind", "words"),
    [
        ("tamper_scorer", FailureKind.sandbox_violation, "scorer tampering"),
        ("torch_fallback", FailureKind.invalid_output, "PyTorch fallback"),
        ("forge_result", FailureKind.runtime, "before reporting"),
        pytest.param(
            "forge_handoff",
            FailureKind.runtime,
            "",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known hole: a candidate in the evaluator's process can write the worker's hand-off "
                "file and exit; closing it needs the candidate in its own process",
            ),
        ),
    ],
)
def test_hacks_through_the_harness(task, sandbox, hack, kind, words):
    result = evaluate_program(task, (HACKS / f"{hack}.py").read_text(), sandbox)
    assert not result.valid and result.failure is not None
    assert "speedup" not in result.metrics
    assert result.failure.kind == kind, result.failure
    assert words in result.failure.message
