"""Kernel tasks end to end through the harness: the trusted evaluator and the sandboxed candidate in
their own processes (process sandbox, correctness-only on CPU)."""

from __future__ import annotations

import json
import shutil

import pytest
from kernel_support import KERNELS, hack

from syslab.evaluators.base import FailureKind
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
pytestmark = pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="a CUDA GPU is present: these assert interpreter mode"
)
ISO = ProcessSandbox().isolation()


@pytest.fixture(scope="module")
def task():
    return load_task(KERNELS / "swish_bias")


@pytest.fixture(scope="module")
def sandbox():
    return ProcessSandbox()


def test_seed_through_the_harness_is_verified_and_correctness_only(task, sandbox):
    result = evaluate_program(task, task.seed_code, sandbox)
    assert result.valid and result.failure is None, result.failure
    assert result.verified  # split mode: the program never shared the scorer's process
    assert result.metrics["correct"] == 1.0 and result.metrics["correctness_only"] == 1.0
    assert "speedup" not in result.metrics and result.score is None
    assert result.artifacts["mode"] == "interpreter"
    assert result.artifacts["channel"]["main"]["calls"] >= 10  # build, forwards, re-runs, refills


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("forge_result", FailureKind.runtime, "candidate process ended"),
        # Used to forge a perfect score (the worker's hand-off file); the candidate's process holds
        # nothing the scorer reads any more.
        ("forge_handoff", FailureKind.runtime, "candidate process ended"),
    ],
)
def test_hacks_through_the_harness(task, sandbox, name, kind, words):
    result = evaluate_program(task, hack(name), sandbox)
    assert not result.valid and result.failure is not None
    assert "speedup" not in result.metrics and result.score is None
    assert result.failure.kind == kind, result.failure
    assert words in result.failure.message


@pytest.mark.skipif(not (ISO["landlock"] and ISO["pidns"]), reason="needs Landlock and a PID namespace")
def test_candidate_cannot_reach_the_reference(sandbox, tmp_path):
    """Read or patch the task's reference.py, find the trusted evaluator in /proc: all out of reach."""
    copy = tmp_path / "swish_bias"
    shutil.copytree(KERNELS / "swish_bias", copy)
    reference = (copy / "reference.py").read_text()
    code = hack("escape_probe").replace("__TASK_DIR__", str(copy))
    result = evaluate_program(load_task(copy), code, sandbox)
    assert (copy / "reference.py").read_text() == reference
    assert result.failure is not None and result.failure.kind == FailureKind.wrong_answer, result.failure
    line = next(x for x in result.evidence.stdout.splitlines() if x.startswith("escape probe: "))
    seen = json.loads(line.removeprefix("escape probe: "))
    assert seen["read reference.py"].startswith("denied") and seen["write reference.py"].startswith("denied")
    assert seen["trusted evaluator pids"] == [] and seen["SYSLAB_DATA"] is None
