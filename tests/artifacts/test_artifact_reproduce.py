"""`syslab reproduce RUN`: a finished run's best claim is confirmed; a changed evaluator refutes it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from artifacts_support import QUADRATIC, make_run

from syslab.artifacts.logic import load_logic
from syslab.artifacts.reproduce import REPORT_FILE, reproduce_run


def test_reproduce_confirms_best_claim(run_copy: Path) -> None:
    logic = load_logic(run_copy)
    claim = next(c for c in logic.claims if c.id == "C-best")
    report = reproduce_run(run_copy, top_k=2)
    assert report.deterministic and report.tolerance == "exact"
    assert not report.evaluator_changed
    assert report.ok, [n.mismatches for n in report.nodes]
    reproduced = {n.node_id for n in report.nodes}
    assert set(claim.node_ids) <= reproduced and len(reproduced) >= 2
    after = next(c for c in load_logic(run_copy).claims if c.id == "C-best")
    assert after.status == "supported" and "reproduced" in after.verified
    on_disk = json.loads((run_copy / REPORT_FILE).read_text())
    assert on_disk["claims"][0]["status"] == "supported"


def test_changed_evaluator_is_reported_and_refutes_the_claim(tmp_path: Path) -> None:
    task = tmp_path / "quadratic"
    shutil.copytree(QUADRATIC, task)
    run = make_run(task, tmp_path / "runs", evaluations=6)
    evaluator = task / "evaluate.py"
    evaluator.write_text(evaluator.read_text().replace("abs(value - 42.0)", "abs(value - 42.0) + 1.0"))
    report = reproduce_run(run, top_k=1)
    assert report.evaluator_changed and report.task_hash_now != report.task_hash_recorded
    assert any("distance" in m for n in report.nodes for m in n.mismatches)
    claim = next(c for c in report.claims if c.claim_id == "C-best")
    assert claim.status == "refuted" and "task dir changed" in claim.reason
    assert next(c for c in load_logic(run).claims if c.id == "C-best").status == "refuted"
    cli = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "reproduce", str(run)], capture_output=True, text=True
    )
    assert cli.returncode == 1 and "refuted" in cli.stdout and "changed" in cli.stdout


def test_relative_tolerance_accepts_small_drift(tmp_path: Path) -> None:
    task = tmp_path / "quadratic"
    shutil.copytree(QUADRATIC, task)
    run = make_run(task, tmp_path / "runs", evaluations=4)
    evaluator = task / "evaluate.py"
    evaluator.write_text(evaluator.read_text().replace("abs(value - 42.0)", "abs(value - 42.0) * 1.001"))
    assert reproduce_run(run, top_k=1, rel_tol=0.01, update=False).ok
    assert not reproduce_run(run, top_k=1, rel_tol=0.0, update=False).ok
