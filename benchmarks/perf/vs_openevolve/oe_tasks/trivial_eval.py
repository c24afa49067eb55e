"""OpenEvolve evaluator of the trivial benchmark task (its contract: evaluate(program_path) -> metrics).

The same work as the syslab evaluator in ../trivial/evaluate.py: import the program, call
run() once, score 1 / (1 + |K|). OpenEvolve runs this in its worker process, in-process
with the candidate (no isolation).
"""

from __future__ import annotations

import importlib.util


def _load(program_path: str):
    spec = importlib.util.spec_from_file_location("candidate_program", program_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {program_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(program_path: str) -> dict[str, float]:
    value = _load(program_path).run()
    if not isinstance(value, (int, float)):
        raise ValueError(f"run() returned {type(value).__name__}, not a number")
    score = 1.0 / (1.0 + abs(float(value)))
    return {"score": score, "combined_score": score}
