"""Time each ADRS evaluator on its seed program and print seed score vs the published baseline.

Usage: SYSLAB_DATA=../shared/data python benchmarks/adrs/time_evaluators.py
Each evaluator runs in-process twice (cold: first load of data; warm: cached) in a scratch dir.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from syslab.adrs.reproduce import PROBLEMS, published  # noqa: E402


def entries(problem: str) -> list[tuple[str, str]]:
    out = [("evaluate", "full")]
    if problem in ("cant_be_late", "cant_be_late_multi"):
        out.insert(0, ("evaluate_quick", "stage 1 (quick)"))
    return out


def main() -> None:
    os.environ.setdefault("SYSLAB_DATA", str((HERE.parents[1] / ".." / "shared" / "data").resolve()))
    print(
        f"{'problem':<20} {'evaluator':<16} {'cold s':>7} {'warm s':>7} {'seed score':>10} {'published baseline':>18}"
    )
    for problem in PROBLEMS:
        path = HERE / problem / "evaluate.py"
        if not path.is_file():
            print(f"{problem:<20} (not implemented yet)")
            continue
        spec = importlib.util.spec_from_file_location(f"eval_{problem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        base = published(problem)["baseline"]
        for fn, label in entries(problem):
            with tempfile.TemporaryDirectory() as scratch:
                os.chdir(scratch)
                times, score = [], None
                for _ in range(2):
                    t0 = time.perf_counter()
                    score = getattr(mod, fn)(str(HERE / problem / "seed.py"))["score"]
                    times.append(time.perf_counter() - t0)
            pub = "-" if base is None or fn != "evaluate" else f"{base:.2f}"
            print(f"{problem:<20} {label:<16} {times[0]:>7.2f} {times[1]:>7.2f} {score:>10.2f} {pub:>18}")


if __name__ == "__main__":
    main()
