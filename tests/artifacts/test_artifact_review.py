"""`syslab review`: a clean run passes; each kind of violation is caught by its check."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from syslab.artifacts.logic import load_logic
from syslab.artifacts.review import review_run


def _status(run: Path) -> dict[str, str]:
    return {c.name: c.status for c in review_run(run).checks}


def _failed(run: Path) -> dict[str, str]:
    return {c.name: c.details for c in review_run(run).checks if c.status == "fail"}


def test_finished_run_passes_review(finished_run: Path) -> None:
    report = review_run(finished_run)
    assert report.ok, [c for c in report.checks if c.status == "fail"]
    assert _status(finished_run)["claims resolve to evidence"] == "pass"
    logic = load_logic(finished_run)
    assert logic is not None and logic.claims and logic.claims[0].evidence


def test_tampered_evidence_blob_is_caught(run_copy: Path) -> None:
    ref = load_logic(run_copy).claims[0].evidence[0]
    blob = run_copy / "evidence" / ref.sha256[:2] / ref.sha256[2:]
    blob.write_text('{"distance": 0.0}')
    failed = _failed(run_copy)
    assert "evidence integrity" in failed and ref.sha256[:12] in failed["evidence integrity"]
    assert "does not match" in failed["claims resolve to evidence"]


def test_dangling_claim_is_caught(run_copy: Path) -> None:
    path = run_copy / "logic.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["claims"].append(
        {
            "id": "C-ghost",
            "statement": "node 999 is fastest",
            "node_ids": [999],
            "evidence": [{"name": "made up", "sha256": "ab" * 32, "node_id": 999}],
        }
    )
    path.write_text(yaml.safe_dump(doc))
    details = _failed(run_copy)["claims resolve to evidence"]
    assert "C-ghost" in details and "missing" in details and "node 999" in details


def test_cycle_is_caught(run_copy: Path) -> None:
    conn = sqlite3.connect(run_copy / "syslab.db")
    child = conn.execute("SELECT id FROM nodes WHERE parent_id = 0 ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute("INSERT INTO edges (src, dst, kind) VALUES (?, 0, 'inspiration')", (child,))
    conn.commit()
    conn.close()
    assert "cycle" in _failed(run_copy)["graph acyclic"]


def test_missing_evaluation_is_caught(run_copy: Path) -> None:
    conn = sqlite3.connect(run_copy / "syslab.db")
    nid = conn.execute(
        "SELECT id FROM nodes WHERE kind = 'candidate' AND failure_kind IS NULL LIMIT 1"
    ).fetchone()[0]
    conn.execute(
        "UPDATE nodes SET status = 'pending', score = NULL, metrics = '{}', valid = 0 WHERE id = ?", (nid,)
    )
    conn.commit()
    conn.close()
    assert f"node {nid}" in _failed(run_copy)["every candidate evaluated or failed"]


def test_best_code_mismatch_and_dead_end_links_are_caught(run_copy: Path) -> None:
    conn = sqlite3.connect(run_copy / "syslab.db")
    best = conn.execute(
        "SELECT id FROM nodes WHERE valid = 1 AND status = 'evaluated' ORDER BY score DESC, id LIMIT 1"
    ).fetchone()[0]
    conn.execute("UPDATE nodes SET code_sha = ? WHERE id = ?", ("0" * 64, best))
    conn.commit()
    conn.close()
    path = run_copy / "logic.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["dead_ends"].append({"id": "D99", "idea": "x", "node_ids": [4242]})
    path.write_text(yaml.safe_dump(doc))
    failed = _failed(run_copy)
    assert f"best node {best}" in failed["best code committed"]
    assert "node 4242" in failed["dead ends linked"]


def test_manifest_without_environment_fails(run_copy: Path) -> None:
    import json

    path = run_copy / "manifest.json"
    man = json.loads(path.read_text())
    man["isolation"], man["config"] = {}, {}
    path.write_text(json.dumps(man))
    details = _failed(run_copy)["environment recorded"]
    assert "isolation empty" in details and "config empty" in details


def test_cli_review_exit_codes(finished_run: Path, run_copy: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "review", str(finished_run)], capture_output=True
    )
    assert ok.returncode == 0, ok.stdout.decode()
    blob = next(p for p in (run_copy / "evidence").glob("??/*"))
    blob.write_bytes(b"tampered")
    bad = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "review", str(run_copy)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "review failed" in bad.stdout
