"""Unit checks of the kernel evaluator's pieces that need no kernel launch."""

from __future__ import annotations

import pytest

from syslab.evaluators import gpu
from syslab.evaluators.kernel_timing import speed_of_light_us, summarize

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")


def test_summarize_median_and_spread():
    stats = summarize([float(v) for v in range(1, 101)])  # 1..100 us
    assert stats.n == 100 and stats.median_us == 50.5
    assert stats.p10_us == pytest.approx(10.9) and stats.p90_us == pytest.approx(90.1)
    assert stats.iqr_us == pytest.approx(49.5) and stats.spread == pytest.approx(49.5 / 50.5)


def test_speed_of_light_takes_the_slower_bound():
    # 1 GB at 1 TB/s = 1000 us; 1 TFLOP at 100 TFLOP/s = 10_000 us.
    assert speed_of_light_us(10**9, 1e12, 1e12, 100.0) == pytest.approx(10_000)
    assert speed_of_light_us(10**9, 0.0, 1e12, None) == pytest.approx(1000)


def test_gpu_plan_without_a_gpu(monkeypatch):
    monkeypatch.setattr(gpu, "gpu_available", lambda: False)
    plan = gpu.gpu_plan("kernel-softmax", needs_gpu=True)
    assert plan.mode == "interpreter" and "correctness-only" in plan.message and "has none" in plan.message
    monkeypatch.setattr(gpu, "kernel_stack_installed", lambda: False)
    refused = gpu.gpu_plan("kernel-softmax", needs_gpu=True)
    assert refused.mode == "refuse" and "syslab[kernels]" in refused.message
    assert gpu.gpu_plan("bin-packing", needs_gpu=False).mode == "cpu"


def test_gpu_available_respects_hidden_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu.gpu_available() is False
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert gpu.gpu_available() is torch.cuda.is_available()


def test_output_checks_type_alias_and_tolerance():
    from syslab.evaluators.base import InvalidOutput, WrongAnswer
    from syslab.evaluators.kernel_checks import ScorerRefs, check_output

    refs = ScorerRefs.capture()
    x = torch.randn(4, 8)
    expected = [x * 2]
    assert check_output(x * 2, expected, [x], refs, None, "t")[0].shape == (4, 8)
    with pytest.raises(InvalidOutput, match="aliases input 0"):
        check_output(x, [x.clone()], [x], refs, None, "t")
    with pytest.raises(InvalidOutput, match="not a contiguous strided tensor"):
        check_output((x * 2).t().contiguous().t(), expected, [x], refs, None, "t")
    with pytest.raises(WrongAnswer, match="max abs err"):
        check_output(x * 2 + 1e-3, expected, [x], refs, None, "t")
    # fp16 rounding of fp32 values is beyond the fp32 tolerance
    with pytest.raises(WrongAnswer):
        check_output((x * 2).half().float(), expected, [x], refs, None, "t")
