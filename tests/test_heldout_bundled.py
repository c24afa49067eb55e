"""Every bundled task (examples, ADRS, kernels) declares a held-out split from its own data, says
which in its README, and its held-out entry scores the seed: in full where that takes seconds,
else its split is checked to be other data than the search's (the full runs are the benchmark's)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from syslab.engine.heldout import heldout_task
from syslab.evaluators.harness import evaluate_program
from syslab.sandbox.executor import make_sandbox
from syslab.task import load_task

ROOT = Path(__file__).resolve().parents[1]
TASKS = sorted(
    p.parent for pattern in ("examples/*/task.toml", "benchmarks/*/*/task.toml") for p in ROOT.glob(pattern)
)
DATA = Path(os.environ.get("SYSLAB_DATA") or "/work/shared/data")
needs_data = pytest.mark.skipif(not (DATA / "adrs").is_dir(), reason=f"ADRS data not present at {DATA}")


def test_the_walk_finds_every_family() -> None:
    families = {load_task(t).spec.family for t in TASKS}
    assert {"algorithm", "adrs", "kernel"} <= families and len(TASKS) >= 19


@pytest.mark.parametrize("task_dir", TASKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_task_declares_a_documented_heldout_split(task_dir: Path) -> None:
    task = load_task(task_dir)
    assert task.spec.heldout is not None, f"{task_dir}/task.toml has no [heldout]"
    entry_file = task.spec.heldout.entry.split(":")[0]
    assert entry_file != task.spec.evaluator.split(":")[0]  # its own entry, not the search evaluator
    assert task.spec.heldout.description
    readme = (task_dir / "README.md").read_text()
    assert "## Held-out evaluation" in readme and entry_file in readme


@pytest.fixture
def data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSLAB_DATA", str(DATA))


FAST = [
    "examples/bin_packing",
    "benchmarks/adrs/prism",
    "benchmarks/adrs/txn_scheduling",
    "benchmarks/adrs/cloudcast",
]


@needs_data
@pytest.mark.parametrize("rel", FAST)
def test_heldout_entry_scores_the_seed(rel: str, data_env: None) -> None:
    task = load_task(ROOT / rel)
    result = evaluate_program(heldout_task(task), task.seed_code, make_sandbox("process"))
    assert result.ok, result.failure
    assert task.primary_metric in result.metrics


def _load(task_dir: Path, module: str) -> Iterator[ModuleType]:
    """The task's module as its evaluator process imports it (task dir on the path, fresh copy)."""
    names = ("evaluate", "heldout")
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, str(task_dir))
    try:
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(task_dir))
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


@needs_data
def test_spot_splits_use_other_traces(data_env: None) -> None:
    for held in _load(ROOT / "benchmarks/adrs/cant_be_late", "heldout"):
        search = {(o, env, avail) for o, env, avail, _ in held.traces(held.PER_ENV)}
        other = held.heldout_traces()
        assert len(other) == 3 * 6 * held.HELDOUT_PER_ENV
        assert not {(o, env, avail) for o, env, avail, _ in other} & search
    for held in _load(ROOT / "benchmarks/adrs/cant_be_late_multi", "heldout"):
        from syslab.adrs.multi_spot_sim import region_traces
        from syslab.data import data_path

        tar = data_path("adrs/cant_be_late_multi/real_traces.tar.gz")
        most = max(count for _, _, count in held.SCENARIOS)
        assert held.HELDOUT_FIRST >= most  # no trace index of the search
        for _, regions, count in held.SCENARIOS:
            assert region_traces(tar, regions, f"{held.HELDOUT_FIRST + count - 1}.json")[0]


@needs_data
def test_seeded_and_table_splits_differ_from_search(data_env: None) -> None:
    for held in _load(ROOT / "benchmarks/adrs/eplb", "heldout"):
        search, other = held.generate_windows(sys.modules["evaluate"].SEED, 2), held.heldout_windows()
        assert len(other) == held.WINDOWS and not (search[0] == other[0]).all()
    for held in _load(ROOT / "benchmarks/adrs/llm_sql", "heldout"):
        full, table = held._load(held.REQUIRED), held.heldout_table()
        assert len(table) == len(full) // 2 and len(table.columns) == len(full.columns) - 2
        assert list(table.columns) != [c for c in full.columns if c in table.columns]  # shuffled


def test_kernel_heldout_shapes_are_other_shapes() -> None:
    kernels = [t for t in TASKS if t.parent.name == "kernels"]
    assert kernels
    for task_dir in kernels:
        for held in _load(task_dir, "heldout"):
            for ref in _load(task_dir, "reference"):
                assert not {str(s) for s in held.HELDOUT_SHAPES} & {str(s) for s in ref.SHAPES}
                assert not {str(s) for s in held.HELDOUT_CPU_SHAPES} & {str(s) for s in ref.CPU_SHAPES}
