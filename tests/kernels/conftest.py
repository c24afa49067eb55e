"""Kernel evaluator tests: correctness-only, Triton's interpreter on CPU, split evaluation."""

from __future__ import annotations

import importlib.util
import os

import pytest

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
if importlib.util.find_spec("triton") is None:
    pytest.skip("triton not installed (pip install 'syslab[kernels]')", allow_module_level=True)
if not torch.cuda.is_available():
    # Candidate processes set this themselves; set here too in case a test imports triton directly.
    os.environ["TRITON_INTERPRET"] = "1"
