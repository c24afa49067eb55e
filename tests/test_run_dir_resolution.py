"""`--out DIR` makes DIR/<run id>; every command that takes a RUN accepts DIR when it holds one run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syslab.artifacts.store import RunStore, resolve_run_dir
from syslab.errors import SyslabError

QUADRATIC = Path(__file__).parent / "fixtures" / "tasks" / "quadratic"


def syslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "syslab.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    done = syslab(
        "run", str(QUADRATIC), "--budget", "3", "--proposer", "mutate", "--out", str(out), "--quiet"
    )
    assert done.returncode == 0, done.stderr
    return out


def test_commands_take_the_out_directory_of_a_single_run(out_dir: Path, tmp_path: Path) -> None:
    (run,) = [p for p in out_dir.iterdir() if (p / "syslab.db").is_file()]
    assert resolve_run_dir(out_dir) == run
    shown = syslab("show", str(out_dir))
    assert shown.returncode == 0 and "not a syslab run directory" not in shown.stderr, shown.stderr
    assert syslab("review", str(out_dir)).returncode in (0, 1)  # reviewed (a finding is exit 1), not refused
    target = tmp_path / "graph.json"
    exported = syslab("export", str(out_dir), "--format", "json", "--out", str(target))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(target.read_text())  # the run's graph, found through the --out dir
    with RunStore.open(out_dir, readonly=True) as store:
        assert store.run_dir == run


def test_an_ambiguous_or_empty_directory_is_one_clear_error(out_dir: Path, tmp_path: Path) -> None:
    two = tmp_path / "two"
    (run,) = [p for p in out_dir.iterdir() if (p / "syslab.db").is_file()]
    for name in ("a", "b"):
        shutil.copytree(run, two / name)
    with pytest.raises(SyslabError, match=r"holds 2 runs \(a, b\): name one of them"):
        resolve_run_dir(two)
    with pytest.raises(SyslabError, match="not a syslab run directory"):
        resolve_run_dir(tmp_path / "nothing")
    out = syslab("show", str(two))
    assert out.returncode == 2 and "holds 2 runs" in out.stderr
