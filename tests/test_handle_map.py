"""`RemoteFunction.map`: many independent calls in one round trip, checked as single calls are."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

EVALUATOR = textwrap.dedent(
    """
    def evaluate(candidate):
        f = candidate.function("f")
        args = [(i, 0.5 * i) for i in range(200)]
        batched = f.map(args)
        single = [f(*a) for a in args]
        calls = candidate.calls
        obj = candidate.new("Scaler", 3)
        scaled = obj.scale.map([(i,) for i in range(5)])
        import numpy as np
        g = candidate.function("g")
        rows = [(0.5 * i, np.arange(float(i))) for i in range(6)]
        arrays = g.map(rows)
        same_arrays = all(
            type(a) is np.ndarray and np.array_equal(a, g(*r)) and np.array_equal(a, r[1] * r[0])
            for a, r in zip(arrays, rows)
        )
        return {"same": float(batched == single), "n": float(len(batched)), "scaled": float(sum(scaled)),
                "calls": float(calls), "same_arrays": float(same_arrays)}
    """
)
PROGRAM = textwrap.dedent(
    """
    # EVOLVE-BLOCK-START
    def f(i, x):
        return [i, x * 2]

    def g(x, bins):
        return bins * x

    class Scaler:
        def __init__(self, k):
            self.k = k

        def scale(self, v):
            return self.k * v
    # EVOLVE-BLOCK-END
    """
)
SHORT_ANSWER = textwrap.dedent(
    """
    import sys
    _real = sys.modules["__main__"].Runtime.op

    def _op(self, msg):
        return [1] if msg[0] in ("map", "mapc") else _real(self, msg)

    sys.modules["__main__"].Runtime.op = _op
    """
)


@pytest.fixture
def task(tmp_path: Path):  # noqa: ANN201 - a Task
    (tmp_path / "task.toml").write_text(
        'name = "m"\ndescription = "d"\n[metrics.same]\ndirection = "maximize"\n'
    )
    (tmp_path / "seed.py").write_text(PROGRAM)
    (tmp_path / "evaluate.py").write_text(EVALUATOR)
    return load_task(tmp_path)


def test_map_answers_as_single_calls_do_in_one_request(task) -> None:  # noqa: ANN001
    res = evaluate_program(task, PROGRAM, ProcessSandbox())
    assert res.ok, res.failure
    assert res.metrics["same"] == 1.0 and res.metrics["n"] == 200 and res.metrics["scaled"] == 30.0
    assert res.metrics["calls"] == 1 + 1 + 1 + 200  # load, bind, one map request, 200 single calls
    assert res.metrics["same_arrays"] == 1.0  # a batch over arrays (sent as columns) answers as calls do


def test_a_map_reply_of_the_wrong_length_is_the_candidates_fault(task) -> None:  # noqa: ANN001
    res = evaluate_program(task, PROGRAM + SHORT_ANSWER, ProcessSandbox())
    assert res.failure is not None and res.failure.kind.value == "invalid_output", res.failure
    assert "answered 200 calls" in res.failure.message
