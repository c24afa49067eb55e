"""Every kernel task loads in split mode, and its naive seed passes the correctness path (the program
in its own process, Triton's interpreter on CPU, the reference and the verdict in this one)."""

from __future__ import annotations

import pytest
from kernel_support import TASKS, evaluate_split, kernel_task

from syslab.evaluators.base import CandidateRejected, FailureKind
from syslab.evaluators.kernel import INTERPRETER_NOTE


def test_at_least_ten_kernel_tasks():
    assert len(TASKS) >= 10, TASKS


@pytest.mark.parametrize("name", TASKS)
def test_seed_is_correct_in_interpreter_mode(name):
    task = kernel_task(name)
    assert task.spec.family == "kernel" and task.spec.sandbox.gpu and task.primary_metric == "speedup"
    assert task.evaluation_mode == "split" and task.verified and task.spec.adapter == "adapter.py"
    result = evaluate_split(task, task.seed_code)
    assert result["correct"] == 1.0 and result["correctness_only"] == 1.0
    assert "speedup" not in result and "runtime_us" not in result  # never a speed figure without a GPU
    assert result["trials"] >= 5
    art = result["artifacts"]
    assert art["mode"] == "interpreter" and art["note"] == INTERPRETER_NOTE
    assert len(art["shapes"]) >= 2
    for skipped in art.get("skipped", []):
        assert "bfloat16" in skipped and "interpreter" in skipped


def test_wrong_kernel_is_a_wrong_answer():
    """A one-character bug in the seed (bias dropped) is caught by the tolerance check."""
    task = kernel_task("swish_bias")
    bad = task.seed_code.replace("+ b\n", "+ 0.0 * b\n")
    assert bad != task.seed_code
    with pytest.raises(CandidateRejected) as info:
        evaluate_split(task, bad)
    assert info.value.kind == FailureKind.wrong_answer and "differs from the reference" in str(info.value)


def test_program_without_model_new_is_invalid():
    with pytest.raises(CandidateRejected) as info:
        evaluate_split(kernel_task("softmax"), "x = 1\n")
    assert info.value.kind == FailureKind.invalid_output and "no ModelNew" in str(info.value)


REFERENCE_WITH_PARAMETERS = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(torch.randn(n))
        self.register_buffer("shift", torch.randn(n))

    def forward(self, x):
        return x * self.scale + self.shift


CPU_SHAPES = [{"M": 3, "dtype": "float32"}, {"M": 5, "dtype": "float32"}]


def get_inputs(M=3, dtype=torch.float32, device="cpu", generator=None):
    return [torch.randn(M, 8, generator=generator, device=device).to(dtype)]


def get_init_inputs():
    return [8]
"""

MODEL_WITH_PARAMETERS = """
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def affine_kernel(x_ptr, s_ptr, b_ptr, out_ptr, n_elements, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    s = tl.load(s_ptr + offs % n_cols, mask=mask, other=0.0)
    b = tl.load(b_ptr + offs % n_cols, mask=mask, other=0.0)
    tl.store(out_ptr + offs, x * s + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, n):
        super().__init__()
        # Zeros: only the reference's parameters, sent by the evaluator, make this right.
        self.scale = nn.Parameter(torch.zeros(n))
        self.register_buffer("shift", torch.zeros(n))

    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        affine_kernel[(triton.cdiv(n, 64),)](x, self.scale, self.shift, out, n, x.shape[-1], BLOCK=64)
        return out
"""


def test_model_parameters_come_from_the_reference(tmp_path):
    """The reference's state_dict crosses as numpy arrays and is loaded when the names match."""
    reference = tmp_path / "reference.py"
    reference.write_text(REFERENCE_WITH_PARAMETERS)
    result = evaluate_split(kernel_task("swish_bias"), MODEL_WITH_PARAMETERS, reference)
    assert result["correct"] == 1.0
    renamed = MODEL_WITH_PARAMETERS.replace("self.scale", "self.gain")
    with pytest.raises(CandidateRejected) as info:  # other names: nothing is loaded, zeros stay
        evaluate_split(kernel_task("swish_bias"), renamed, reference)
    assert info.value.kind == FailureKind.wrong_answer
