"""Unit checks of the kernel evaluator's pieces that need no kernel launch and no candidate process."""

from __future__ import annotations

import numpy as np
import pytest

from syslab.evaluators import gpu
from syslab.evaluators.base import InvalidOutput, SandboxViolation, WrongAnswer
from syslab.evaluators.kernel_timing import check_samples, speed_of_light_us, summarize

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")

from syslab.evaluators import kernel_checks as kc  # noqa: E402
from syslab.evaluators.kernel_gpu import read_timing  # noqa: E402
from syslab.evaluators.kernel_wire import (  # noqa: E402
    KernelReport,
    OutputNote,
    WireError,
    from_wire,
    read_report,
    to_wire,
)


def test_summarize_median_and_spread():
    stats = summarize([float(v) for v in range(1, 101)])  # 1..100 us
    assert stats.n == 100 and stats.median_us == 50.5
    assert stats.p10_us == pytest.approx(10.9) and stats.p90_us == pytest.approx(90.1)
    assert stats.iqr_us == pytest.approx(49.5) and stats.spread == pytest.approx(49.5 / 50.5)


def test_speed_of_light_takes_the_slower_bound():
    # 1 GB at 1 TB/s = 1000 us; 1 TFLOP at 100 TFLOP/s = 10_000 us.
    assert speed_of_light_us(10**9, 1e12, 1e12, 100.0) == pytest.approx(10_000)
    assert speed_of_light_us(10**9, 0.0, 1e12, None) == pytest.approx(1000)


def test_timing_samples_are_checked_against_the_trusted_wall_clock():
    assert check_samples([10.0, 20.0, 30.0], 3, wall_us=100.0, where="t").median_us == 20.0
    with pytest.raises(SandboxViolation, match="timer tampering"):
        check_samples([100.0, 100.0, 100.0], 3, wall_us=100.0, where="t")  # more time than passed
    for bad in ([1.0, 2.0], [1.0, 2.0, -3.0], [1.0, 2.0, float("nan")], [1.0, 2.0, 3], (1.0, 2.0, 3.0)):
        with pytest.raises(SandboxViolation):
            check_samples(bad, 3, wall_us=1e6, where="t")


def test_timing_reply_shape_is_checked():
    report = KernelReport(launches=110).model_dump()
    samples, kept, parsed = read_timing({"samples_us": [1.0], "kept": [[], []], "report": report}, 2, "t")
    assert samples == [1.0] and kept == [[], []] and parsed.launches == 110
    with pytest.raises(InvalidOutput, match="2 timed calls"):
        read_timing({"samples_us": [1.0], "kept": [[]], "report": report}, 2, "t")
    with pytest.raises(InvalidOutput, match="malformed"):
        read_timing([1.0], 2, "t")


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


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool])
def test_wire_round_trip_keeps_dtype_shape_and_bits(dtype):
    t = (torch.randn(3, 5) * 4).to(dtype)
    wire = to_wire(t.t())  # non-contiguous in: a contiguous copy out
    back = from_wire(wire)
    assert back.dtype == dtype and back.shape == (5, 3) and torch.equal(back, t.t())
    if dtype == torch.bfloat16:
        assert wire[0] == "bfloat16" and wire[1].dtype == np.uint16  # numpy has no bf16: its bits cross
    else:
        assert type(wire) is np.ndarray


def test_wire_refuses_what_is_not_a_tensor():
    for bad in ([1.0, 2.0], ("bfloat16", np.zeros(3, np.float32)), np.zeros(2, np.complex64), "x"):
        with pytest.raises(WireError):
            from_wire(bad)


def test_report_is_validated_strictly():
    assert read_report(KernelReport(launches=1).model_dump()).launches == 1
    for bad in (
        {"launches": "1"},
        {"launches": -1},
        {"launches": 1, "extra": 0},
        {"launches": 1, "outputs": [{}]},
        [],
    ):
        with pytest.raises(WireError, match="malformed check report"):
            read_report(bad)


def _reply(outputs, **report):
    notes = [OutputNote(type="torch.Tensor", device="cpu") for _ in outputs]
    fields = {"launches": 1, "outputs": notes} | report
    return {"outputs": [to_wire(o) for o in outputs], "report": KernelReport(**fields).model_dump()}


def test_judge_trusted_checks():
    x = torch.randn(4, 8)
    expected = [x * 2]
    assert kc.judge(_reply([x * 2]), expected, None, "t", device="cpu")[0].shape == (4, 8)
    with pytest.raises(WrongAnswer, match="max abs err"):
        kc.judge(_reply([x * 2 + 1e-3]), expected, None, "t", device="cpu")
    with pytest.raises(WrongAnswer):  # fp16 rounding of fp32 values is beyond the fp32 tolerance
        kc.judge(_reply([(x * 2).half().float()]), expected, None, "t", device="cpu")
    with pytest.raises(InvalidOutput, match="shape"):
        kc.judge(_reply([(x * 2)[:2]]), expected, None, "t", device="cpu")
    with pytest.raises(InvalidOutput, match="2 outputs"):
        kc.judge(_reply([x * 2, x * 2]), expected, None, "t", device="cpu")
    lying = _reply([x * 2])
    lying["report"]["outputs"][0]["type"] = "program.Lazy"
    with pytest.raises(InvalidOutput, match="program.Lazy, not a plain torch.Tensor"):
        kc.judge(lying, expected, None, "t", device="cpu")
    with pytest.raises(InvalidOutput, match="malformed reply"):
        kc.judge({"outputs": "x"}, expected, None, "t", device="cpu")


def test_judge_puts_the_values_before_the_report():
    """A wrong value is a wrong answer whatever the report says; a clean report cannot help it."""
    x = torch.randn(4, 8)
    with pytest.raises(WrongAnswer):
        kc.judge(_reply([x], fallback_ops=["aten.mul"], launches=0), [x * 2], None, "t", device="cpu")


@pytest.mark.parametrize(
    ("report", "error", "words"),
    [
        ({"new_threads": ["python3"]}, SandboxViolation, "background thread"),
        ({"tampering": ["time.perf_counter"]}, SandboxViolation, "replaced time.perf_counter"),
        ({"fallback_ops": ["aten.mul"]}, InvalidOutput, "PyTorch fallback: forward() called aten.mul"),
        ({"launches": 0}, InvalidOutput, "no Triton kernel launched"),
        ({"foreign_streams": 1}, InvalidOutput, "side stream"),
        ({"mutated_inputs": [1]}, InvalidOutput, "changed input 1 in place"),
    ],
)
def test_judge_applies_the_advisory_report(report, error, words):
    x = torch.randn(4, 8)
    with pytest.raises(error) as info:
        kc.judge(_reply([x * 2], **report), [x * 2], None, "t", device="cpu")
    assert words in str(info.value)


def test_judge_checks_the_output_notes():
    x = torch.randn(4, 8)
    for note, words in (
        ({"aliases_input": 0}, "aliases input 0"),
        ({"dense": False}, "not a contiguous strided tensor"),
        ({"device": "cuda:0"}, "is on cuda:0, expected cpu"),
    ):
        reply = _reply([x * 2])
        reply["report"]["outputs"][0] |= note
        with pytest.raises(InvalidOutput, match=words):
            kc.judge(reply, [x * 2], None, "t", device="cpu")
