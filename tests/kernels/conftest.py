"""Shared helpers for the kernel evaluator tests (correctness-only, Triton interpreter on CPU)."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
pytest.importorskip("triton", reason="triton not installed (pip install 'syslab[kernels]')")


@pytest.fixture
def restore_globals():
    """Hostile candidates patch module globals in this process: put every one back afterwards."""
    import builtins
    import time

    import torch
    import torch.nn.functional

    from syslab.evaluators import kernel, kernel_checks, kernel_timing

    modules = [
        builtins,
        time,
        os,
        torch,
        torch.cuda,
        torch.nn.functional,
        kernel,
        kernel_checks,
        kernel_timing,
    ]
    saved = [(m, dict(vars(m))) for m in modules]
    saved_modules = set(sys.modules)
    yield
    for m, before in saved:
        d = vars(m)
        for k in [k for k in d if k not in before]:
            del d[k]
        for k, v in before.items():
            if d.get(k) is not v:
                setattr(m, k, v)
    for name in set(sys.modules) - saved_modules:
        if name.startswith(("syslab_candidate_", "syslab_reference_")):
            del sys.modules[name]
