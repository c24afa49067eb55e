"""Kernel evaluator tests: correctness-only, Triton's interpreter on CPU, split evaluation."""

from __future__ import annotations

import importlib.util
import os

import pytest

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'syslab[kernels]')")
if importlib.util.find_spec("triton") is None:
    pytest.skip("triton not installed (pip install 'syslab[kernels]')", allow_module_level=True)
# The candidate processes these tests start inherit this: Triton's interpreter even on a GPU machine
# (the tests pass mode="interpreter"); a GPU test removes it before it starts its candidate.
os.environ["TRITON_INTERPRET"] = "1"
