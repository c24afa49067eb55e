"""Every known kernel-benchmark hack, as a hostile candidate, must be rejected for the right reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from syslab.evaluators.base import InvalidOutput, SandboxViolation, WrongAnswer
from syslab.evaluators.kernel import evaluate_kernel

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "benchmarks" / "kernels"
HACKS = Path(__file__).resolve().parent / "hacks"
REFERENCE = KERNELS / "swish_bias" / "reference.py"

CPU_HACKS = [
    ("reuse_reference_output", InvalidOutput, "reuses the reference output's memory"),
    ("mutate_inputs", InvalidOutput, "input mutated"),
    ("background_thread", SandboxViolation, "background thread"),
    ("lazy_subclass", InvalidOutput, "not a plain torch.Tensor"),
    ("patched_timer", SandboxViolation, "scorer tampering: the candidate's import replaced"),
    ("precision_downgrade", WrongAnswer, "differs from the reference"),
    ("half_output", InvalidOutput, "dtype torch.float16, expected torch.float32"),
    ("torch_fallback", InvalidOutput, "PyTorch fallback: forward() called aten.add, aten.mul, aten.sigmoid"),
    ("numpy_fallback", InvalidOutput, "no Triton kernel launched"),
    ("cache_results", WrongAnswer, "differs from the reference"),
    ("uninitialised_memory", WrongAnswer, "non-finite mismatches"),
    ("tamper_scorer", SandboxViolation, "kernel_checks.check_output"),
    ("patch_reference", SandboxViolation, "torch.sigmoid"),
]


@pytest.mark.parametrize(("hack", "error", "message"), CPU_HACKS, ids=[h[0] for h in CPU_HACKS])
def test_hack_rejected(hack, error, message, restore_globals):
    with pytest.raises(error) as info:
        evaluate_kernel(HACKS / f"{hack}.py", REFERENCE, mode="interpreter")
    assert message in str(info.value)


def test_patched_timer_names_every_replaced_reference(restore_globals):
    with pytest.raises(SandboxViolation) as info:
        evaluate_kernel(HACKS / "patched_timer.py", REFERENCE, mode="interpreter")
    for name in ("time.perf_counter", "torch.cuda.Event", "torch.cuda.synchronize"):
        assert name in str(info.value)


def test_scorer_tolerances_are_read_only():
    from syslab.evaluators import kernel_checks

    with pytest.raises(TypeError):
        kernel_checks.TOLERANCES["float32"] = (1.0, 1.0)  # type: ignore[index]


def test_cache_hack_fails_on_the_refill_trial_not_before(restore_globals):
    """Same tensors, same addresses, new values: only the refill trial can catch an address-keyed cache."""
    with pytest.raises(WrongAnswer) as info:
        evaluate_kernel(HACKS / "cache_results.py", REFERENCE, mode="interpreter")
    assert "refill trial" in str(info.value) or "trial" in str(info.value)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_side_stream_rejected_on_gpu(restore_globals):
    with pytest.raises(InvalidOutput, match="side stream"):
        evaluate_kernel(
            HACKS / "side_stream.py", REFERENCE, mode="gpu", timed_trials=20, compile_reference=False
        )
