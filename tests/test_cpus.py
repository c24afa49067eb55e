"""The CPU lease: each split pair shares one CPU, concurrent evaluations spread out, pinning can be
turned off."""

from __future__ import annotations

import os

import pytest

from syslab.sandbox import cpus


def test_concurrent_leases_spread_over_the_allowed_cpus() -> None:
    allowed = sorted(os.sched_getaffinity(0))
    held = [cpus.lease(1) for _ in range(len(allowed))]
    try:
        assert all(len(h) == 1 for h in held)
        assert sorted(h[0] for h in held) == allowed  # one evaluation per CPU before any doubles up
        extra = cpus.lease(1)
        assert extra[0] in allowed
        cpus.release(extra)
    finally:
        for h in held:
            cpus.release(h)
    assert cpus._active == {}


def test_a_multi_cpu_lease_and_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    n = len(os.sched_getaffinity(0))
    two = cpus.lease(2)
    assert len(two) == min(2, n) and len(set(two)) == len(two)
    cpus.release(two)
    monkeypatch.setenv("SYSLAB_PIN_CPUS", "0")
    assert cpus.lease(1) == []
