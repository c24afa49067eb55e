"""Every known kernel-benchmark hack, as a hostile program in its own process, must be rejected for
the right reason by the split evaluation (trusted verdict first, then the advisory report)."""

from __future__ import annotations

import pytest
from kernel_support import HACKS, evaluate_split, hack, kernel_task

from syslab.evaluators.base import CandidateRejected, FailureKind

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")

WRONG, INVALID = FailureKind.wrong_answer, FailureKind.invalid_output
VIOLATION = FailureKind.sandbox_violation
# (hack, failure kind, words the message must hold). Why each fails now:
CPU_HACKS = [
    # values: decided in the trusted process, whatever the program does in its own
    ("reuse_reference_output", WRONG, ["differs from the reference"]),  # no reference in its process
    ("uninitialised_memory", WRONG, ["differs from the reference"]),
    ("background_thread", WRONG, ["differs from the reference"]),  # values are read when forward returns
    ("cache_results", WRONG, ["trial", "differs from the reference"]),  # stale on a refilled address
    ("precision_downgrade", WRONG, ["differs from the reference", "atol=0.0001"]),
    ("patch_allclose", WRONG, ["differs from the reference"]),  # patched its own torch, not ours
    ("tamper_scorer", WRONG, ["differs from the reference"]),  # the scorer is not in its process
    ("patch_reference", WRONG, ["differs from the reference"]),  # nor the reference
    ("half_output", INVALID, ["dtype torch.float16, expected torch.float32"]),
    ("lazy_subclass", INVALID, ["output 0 is program.Lazy, not a plain torch.Tensor"]),
    ("lazy_object", INVALID, ["output 0 is program.LazyResult, not a plain torch.Tensor"]),
    ("hostile_adapter", INVALID, ["not plain data"]),  # a numpy subclass does not cross
    # rules: advisory checks reported by the candidate's process
    ("torch_fallback", INVALID, ["PyTorch fallback: forward() called aten.add, aten.mul, aten.sigmoid"]),
    ("numpy_fallback", INVALID, ["no Triton kernel launched"]),
    ("mutate_inputs", INVALID, ["input mutated", "changed input 0"]),
    ("stray_thread", VIOLATION, ["background thread"]),
    (
        "patched_timer",
        VIOLATION,
        ["tampering", "time.perf_counter", "torch.cuda.Event", "torch.cuda.synchronize"],
    ),
    # it never gets to run: the process ends while loading
    ("forge_result", FailureKind.runtime, ["candidate process ended"]),
    ("forge_handoff", FailureKind.runtime, ["candidate process ended"]),
]


@pytest.fixture(scope="module")
def task():
    return kernel_task("swish_bias")


def test_every_hack_file_is_exercised():
    covered = {h[0] for h in CPU_HACKS} | {"side_stream", "forge_report", "escape_probe"}
    assert covered == {p.stem for p in HACKS.glob("*.py")}


@pytest.mark.parametrize(("name", "kind", "words"), CPU_HACKS, ids=[h[0] for h in CPU_HACKS])
def test_hack_rejected(task, name, kind, words):
    with pytest.raises(CandidateRejected) as info:
        evaluate_split(task, hack(name))
    assert info.value.kind == kind, info.value
    for word in words:
        assert word in str(info.value)


@pytest.mark.xfail(
    strict=True,
    reason="residual risk (benchmarks/kernels/README.md): the no-fallback rule is checked in the candidate's "
    "process, so a program that rewrites the adapter's report can compute correct values with PyTorch ops",
)
def test_forged_report_hides_a_correct_pytorch_fallback(task):
    with pytest.raises(CandidateRejected):
        evaluate_split(task, hack("forge_report"))


def test_forged_report_cannot_pass_wrong_values(task):
    """The same forged report with a wrong forward: the values are judged here, so it fails."""
    code = hack("forge_report").replace("return x * torch.sigmoid(x) + bias", "return x * torch.sigmoid(x)")
    assert code != hack("forge_report")
    with pytest.raises(CandidateRejected) as info:
        evaluate_split(task, code)
    assert info.value.kind == WRONG and "differs from the reference" in str(info.value)


def test_scorer_tolerances_are_read_only():
    from syslab.evaluators import kernel_checks

    with pytest.raises(TypeError):
        kernel_checks.TOLERANCES["float32"] = (1.0, 1.0)  # type: ignore[index]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_side_stream_rejected_on_gpu(task, monkeypatch):
    from syslab.evaluators.kernel import evaluate_kernel
    from syslab.evaluators.local import task_candidate

    monkeypatch.delenv("TRITON_INTERPRET")  # this candidate compiles for the GPU
    with task_candidate(task, hack("side_stream")) as candidate, pytest.raises(CandidateRejected) as info:
        evaluate_kernel(
            candidate, task.root / "reference.py", mode="gpu", timed_trials=20, compile_reference=False
        )
    assert "side stream" in str(info.value)
