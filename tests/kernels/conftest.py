"""Shared helpers for the kernel evaluator tests (correctness-only, Triton interpreter on CPU)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

import pytest

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
if importlib.util.find_spec("triton") is None:
    pytest.skip("triton not installed (pip install 'syslab[kernels]')", allow_module_level=True)
if not torch.cuda.is_available():
    # Triton's standard library is built at import time: interpreter mode must be on before it loads.
    os.environ["TRITON_INTERPRET"] = "1"


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
    threads = set(threading.enumerate())
    yield
    # A rejected candidate's thread may still launch kernels; Triton's interpreter patches
    # triton.language globally per launch, so let it finish before the next test launches.
    for t in set(threading.enumerate()) - threads:
        t.join(timeout=10)
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
