"""The GPU timing's trusted-side decisions (kernel_gpu.time_candidate), run on the CPU.

No GPU here: the CUDA pieces (L2 flush, bandwidth copy, reference timing, device name) are replaced
by fixed numbers, and the candidate's runner by a stand-in that returns timing replies as the
adapter would. What runs for real is what this side decides: the trusted-clock bound on the
samples, the re-check of kept outputs, the launch count, the speed-of-light bound and the metrics.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from kernel_support import KERNELS

from syslab.evaluators import kernel_gpu, kernel_timing
from syslab.evaluators.base import InvalidOutput, SandboxViolation, WrongAnswer
from syslab.evaluators.kernel import _Reference
from syslab.evaluators.loading import load_module

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")

from syslab.evaluators.kernel_wire import KernelReport, to_wire  # noqa: E402

REF_US = 100.0  # what the stand-in reference timing reports


class Runner:
    """Stands in for the candidate's KernelRunner: replies like KernelRunner.time, and advances the
    trusted clock (candidate.elapsed_s) by `wall_us` per call."""

    def __init__(self, candidate, model, sample_us, wall_us, launches_per_call=1, wrong=False):
        self.candidate, self.model = candidate, model
        self.sample_us, self.wall_us = sample_us, wall_us
        self.launches_per_call, self.wrong = launches_per_call, wrong

    def time(self, inputs, trials, warmup, keep_at):
        self.candidate.elapsed_s += self.wall_us / 1e6
        values = [torch.from_numpy(v) for v in inputs]
        out = self.model(*values) + (1.0 if self.wrong else 0.0)
        report = KernelReport(launches=int(self.launches_per_call * (trials + warmup)))
        kept = [[to_wire(out)] for _ in keep_at]
        return {"samples_us": [self.sample_us] * trials, "kept": kept, "report": report.model_dump()}


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr(kernel_timing, "L2Flusher", lambda device: lambda: None)
    monkeypatch.setattr(kernel_timing, "measure_bandwidth", lambda device, refs: 1e12)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    monkeypatch.setattr(
        kernel_gpu,
        "_time_here",
        lambda fn, refs, flush, trials, warmup, where: kernel_timing.summarize([REF_US]),
    )
    path = KERNELS / "swish_bias" / "reference.py"
    module = load_module(path, "syslab_reference_gpu_logic")
    ref = _Reference(module, Path(path), interpreter=True)  # CPU_SHAPES: small tensors
    model = module.Model()

    def fresh_inputs(shape):
        kw = dict(shape) | {"dtype": getattr(torch, shape["dtype"])}
        return module.get_inputs(**kw, device="cpu", generator=torch.Generator().manual_seed(1))

    def reference(inputs):
        return [model(*inputs)]

    def run(**runner):
        candidate = SimpleNamespace(elapsed_s=0.0)
        return kernel_gpu.time_candidate(
            candidate,
            Runner(candidate, model, **runner),
            model,
            ref,
            fresh_inputs,
            reference,
            timed_trials=20,
            warmup=5,
            require_triton=True,
            compile_reference=False,
        )

    return run


def test_metrics_come_from_the_samples_and_the_trusted_reference_time(setup):
    timing = setup(sample_us=50.0, wall_us=5000.0)
    m = timing.metrics
    assert m["speedup"] == pytest.approx(REF_US / 50.0) and m["runtime_us"] == pytest.approx(50.0)
    assert m["correctness_only"] == 0.0 and m["suspicious"] == 0.0 and m["spread"] == 0.0
    assert timing.artifacts["gpu"] == "NVIDIA H200" and len(timing.artifacts["per_shape"]) == 2


def test_samples_adding_up_to_more_than_the_trusted_wall_time_are_refused(setup):
    with pytest.raises(SandboxViolation, match="timer tampering"):
        setup(sample_us=50.0, wall_us=500.0)  # 20 x 50 us claimed inside 500 us


def test_a_runtime_below_the_speed_of_light_is_refused(setup, monkeypatch):
    monkeypatch.setattr(kernel_timing, "measure_bandwidth", lambda device, refs: 1e6)  # 1 MB/s
    with pytest.raises(InvalidOutput, match="speed-of-light"):
        setup(sample_us=50.0, wall_us=5000.0)


def test_kept_outputs_are_checked_against_the_reference(setup):
    with pytest.raises(WrongAnswer, match="timed run"):
        setup(sample_us=50.0, wall_us=5000.0, wrong=True)


def test_timed_calls_must_each_launch_a_kernel(setup):
    with pytest.raises(InvalidOutput, match="calls without a Triton launch"):
        setup(sample_us=50.0, wall_us=5000.0, launches_per_call=0.5)


def test_a_large_speedup_is_flagged(setup):
    timing = setup(sample_us=5.0, wall_us=5000.0)
    assert timing.metrics["suspicious"] == 1.0 and "review" in timing.artifacts["flag"]
