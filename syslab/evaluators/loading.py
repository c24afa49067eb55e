"""Load a program file as a fresh module (used by evaluators inside the sandbox; no heavy imports)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from syslab.evaluators.failures import InvalidOutput


def load_module(path: str | Path, name: str) -> ModuleType:
    """Execute `path` as a new module registered under `name` (unique names keep loads apart)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidOutput(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
