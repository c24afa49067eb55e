"""Metrics are shown in their own units and direction, all of them, in `syslab run` and `syslab show`."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

METRICS = {  # name -> (direction, unit); p99 leads (primary), `score` is an ordinary metric here
    "p99": ("minimize", "ms"),
    "throughput": ("maximize", "req/s"),
    "score": ("maximize", ""),
    "cost": ("minimize", "$/h"),
    "queue": ("minimize", ""),
    "drops": ("minimize", "%"),
}


def syslab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "syslab.cli", *args], capture_output=True, text=True, timeout=300, env=None
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("task")
    toml = 'name = "six"\ndescription = "A service with six metrics."\n'
    for name, (direction, unit) in METRICS.items():
        toml += f'[metrics.{name}]\ndirection = "{direction}"\nunit = "{unit}"\n'
        toml += "primary = true\n" if name == "p99" else ""
    (root / "task.toml").write_text(toml)
    (root / "seed.py").write_text("# EVOLVE-BLOCK-START\nK = 12.5\n# EVOLVE-BLOCK-END\n")
    (root / "evaluate.py").write_text(
        textwrap.dedent(
            """
            def evaluate(candidate):
                k = abs(float(candidate.get("K")))
                return {"p99": k, "throughput": 1000.0 / (1 + k), "score": 0.5, "cost": 2.25,
                        "queue": 3.0, "drops": 0.125}
            """
        )
    )
    out = tmp_path_factory.mktemp("runs")
    done = syslab("run", str(root), "--budget", "4", "--proposer", "mutate", "--out", str(out), "--name", "r")
    assert done.returncode == 0, done.stderr
    return out / "r", done.stdout


def test_the_run_summary_speaks_in_the_metrics_units(run: tuple[Path, str]) -> None:
    _, stdout = run
    line = next(ln for ln in stdout.splitlines() if ln.startswith("seed "))
    assert re.match(r"seed p99 12\.5 ms\s+->\s+best [0-9.]+ ms \(node \d+; lower is better\)", line), line
    assert "-12.5" not in stdout  # the negated ranking score is never shown


def test_show_has_every_metric_once_with_units_and_direction(run: tuple[Path, str]) -> None:
    shown = syslab("show", str(run[0]))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "seed p99 12.5 ms -> best" in text and "lower is better" in text
    for header in (
        "p99 (ms, lower",
        "throughput",
        "(req/s, higher",
        "cost ($/h,",
        "queue (lower",
        "drops (%,",
    ):
        assert header in text, header
    table = text[text.index("best candidates") :].split("every attempt")[0]
    assert table.count("score") == 1  # the metric named score; no second, ranking "score" column
    assert "12.5 ms" in table and "2.25 $/h" in table and "0.125%" in table
    rows = [[c.strip() for c in ln.split("│")[1:-1]] for ln in table.splitlines() if ln.count("│") > 6]
    metric_cells = [cell for row in rows if row[0].isdigit() for cell in row[3:9]]
    assert metric_cells and not [c for c in metric_cells if re.match(r"-\d", c)]  # nothing negated
