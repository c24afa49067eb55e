"""Importers: OpenEvolve checkpoints and ShinkaEvolve databases become reviewable syslab artifacts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from artifacts_support import FIXTURES

from syslab.artifacts.ara_checks import check_ara
from syslab.artifacts.export_ara import export_ara
from syslab.artifacts.importers import import_openevolve, import_shinka
from syslab.artifacts.logic import load_logic
from syslab.artifacts.review import review_run
from syslab.artifacts.store import RunStore
from syslab.errors import SpecError

CHECKPOINT = FIXTURES / "openevolve" / "checkpoint_4"


def _shinka_db(tmp_path: Path) -> Path:
    db = tmp_path / "evolution_db.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript((FIXTURES / "shinka_programs.sql").read_text())
    conn.close()
    return db


def test_openevolve_import(tmp_path: Path) -> None:
    run = import_openevolve(CHECKPOINT, tmp_path / "oe")
    with RunStore.open(run, readonly=True) as store:
        nodes = store.nodes()
        assert len(nodes) == 5 and nodes[0].kind.value == "seed" and nodes[0].parent_id is None
        by_ext = {n.data["external_id"]: n for n in nodes}
        child = by_ext["a1f3c2d0-0000-4000-8000-000000000004"]
        assert by_ext["a1f3c2d0-0000-4000-8000-000000000002"].id == child.parent_id
        assert "sorted(items)[:5]" in store.get_code(child.id)
        assert store.best_node().id == child.id and child.score == pytest.approx(0.71)
        failed = by_ext["a1f3c2d0-0000-4000-8000-000000000003"]
        assert failed.failure_kind and not failed.valid and "error" in failed.failure_message
        # No combined_score: OpenEvolve's fallback is the mean of the numeric metrics.
        assert by_ext["a1f3c2d0-0000-4000-8000-000000000005"].score == pytest.approx(0.4)
        assert by_ext["a1f3c2d0-0000-4000-8000-000000000005"].island == 1
    assert review_run(run).ok
    assert load_logic(run).claims[0].node_ids == [0, child.id]
    assert check_ara(export_ara(run, tmp_path / "ara")) == []


def test_shinka_import(tmp_path: Path) -> None:
    run = import_shinka(_shinka_db(tmp_path), tmp_path / "sh")
    with RunStore.open(run, readonly=True) as store:
        nodes = {n.data["external_id"]: n for n in store.nodes()}
        assert nodes["p3"].parent_id == nodes["p1"].id and nodes["p1"].parent_id == nodes["p0"].id
        assert nodes["p3"].metrics["latency"] == 6.5 and nodes["p3"].score == 3.5
        assert not nodes["p2"].valid and "NameError" in nodes["p2"].failure_message
        kinds = {(e.src, e.dst, e.kind.value) for e in store.edges()}
        assert (nodes["p0"].id, nodes["p3"].id, "inspiration") in kinds
        assert store.get_code(nodes["p3"].id) == "def f():\n    return 3\n"
    report = review_run(run)
    assert report.ok, [c for c in report.checks if c.status != "pass"]


def test_import_cli_and_bad_input(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "syslab.cli",
            "import",
            "shinka",
            str(_shinka_db(tmp_path)),
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "x" / "syslab.db").is_file()
    with pytest.raises(SpecError, match="programs/"):
        import_openevolve(tmp_path, tmp_path / "y")
    bad = tmp_path / "ckpt" / "programs"
    bad.mkdir(parents=True)
    (bad / "p.json").write_text('{"id": "p"}')
    with pytest.raises(SpecError, match="p.json: id/code"):
        import_openevolve(bad.parent, tmp_path / "z")
