import csv
from types import SimpleNamespace

import pytest

import syslab.engine.run
from syslab.adrs import reproduce


def test_published_tables_parse():
    table = reproduce.published("cloudcast")
    assert table["baseline"] == pytest.approx(26.74)
    assert reproduce.published("txn_scheduling")["baseline"] is None  # nan = not published


def test_reproduce_writes_table_csv_and_plot(tmp_path, monkeypatch):
    calls = []

    def fake_run(task_dir, config):
        calls.append((task_dir.name, config.budget.evaluations, config.seed))
        return SimpleNamespace(
            seed_score=10.0,
            best_score=30.0,
            evaluations=3,
            run_dir=tmp_path / task_dir.name,
            history=[(1, 10.0, 10.0), (2, 5.0, 10.0), (3, 30.0, 30.0)],
        )

    monkeypatch.setattr(syslab.engine.run, "run_evolution", fake_run)
    rows = reproduce.reproduce_adrs(["txn_scheduling", "cloudcast"], budget=3, out_dir=tmp_path, seed=7)
    assert calls == [("txn_scheduling", 3, 7), ("cloudcast", 3, 7)]
    assert [r["our_best"] for r in rows] == [30.0, 30.0]
    with open(tmp_path / "adrs.csv") as f:
        got = list(csv.DictReader(f))
    assert got[1]["problem"] == "cloudcast" and float(got[1]["published_baseline"]) == pytest.approx(26.74)
    pytest.importorskip("matplotlib", reason="plot needs the optional 'adrs' extra")
    assert (tmp_path / "adrs.png").stat().st_size > 1000


def test_unknown_problem(tmp_path):
    with pytest.raises(Exception, match="unknown ADRS problem"):
        reproduce.task_dir("nope")


def test_reproduce_cli_runs_a_real_evolution(tmp_path):
    """`syslab reproduce adrs` end to end: real runs through the sandbox, table, CSV and plot."""
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "syslab.cli",
            "reproduce",
            "adrs",
            "--problems",
            "prism",
            "--budget",
            "4",
            "--proposer",
            "mutate",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    with open(tmp_path / "adrs.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert row["problem"] == "prism" and int(row["evaluations"]) == 4
    assert float(row["seed_score"]) == pytest.approx(60.82, abs=0.01)  # the leaderboard's greedy baseline
    assert float(row["our_best"]) >= float(row["seed_score"])
    run_dir = tmp_path / "runs" / "adrs-prism-s0"
    assert (run_dir / "syslab.db").is_file() and (run_dir / "logic.yaml").is_file()
    assert "prism" in out.stdout
