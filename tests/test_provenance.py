"""Unverified (shared-mode, imported, old) runs say so on every surface; split-mode runs say verified.

Two real runs through the CLI: tests/fixtures/tasks/provenance_shared (an OpenEvolve-style
`evaluate(program_path)`) and provenance_split (the same problem, evaluator takes a `candidate`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from syslab.artifacts.ara_checks import check_ara
from syslab.artifacts.export_ara import export_ara
from syslab.artifacts.export_graph import export_graph
from syslab.artifacts.export_rocrate import METADATA_FILE, check_rocrate, export_rocrate
from syslab.artifacts.importers import import_openevolve
from syslab.artifacts.review import review_run
from syslab.artifacts.schema import Manifest
from syslab.artifacts.store import RunStore
from syslab.cli import app
from syslab.web.app import create_app

TASKS = Path(__file__).parent / "fixtures" / "tasks"
SHARED, SPLIT = TASKS / "provenance_shared", TASKS / "provenance_split"
CHECKPOINT = Path(__file__).parent / "artifacts" / "fixtures" / "openevolve" / "checkpoint_4"
SHARED_WORDS = "shared the scorer's process"
RUNNER = CliRunner()


def cli(*args: str | Path) -> object:
    return RUNNER.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    """{"shared": (run dir, CLI result), "split": ...}: `syslab run` of each fixture task."""
    out = tmp_path_factory.mktemp("prov")
    made = {}
    for mode, task in (("shared", SHARED), ("split", SPLIT)):
        res = cli("run", task, "-n", "3", "-q", "--proposer", "mutate", "--out", out, "--name", mode)
        assert res.exit_code == 0, res.output
        made[mode] = (out / mode, res)
    return made


def test_old_manifest_loads_unverified_and_verified_needs_split() -> None:
    old = {
        "syslab_version": "0.0.9",
        "run_id": "r",
        "task_name": "t",
        "task_dir": "/t",
        "task_hash": "0" * 64,
        "seed": 0,
        "config": {},
        "platform": {},
        "isolation": {},
        "created_at": 1.0,
    }
    man = Manifest.model_validate(old)  # written before the fields existed
    assert (man.evaluation_mode, man.verified) == ("unknown", False)
    assert Manifest.model_validate({**old, "evaluation_mode": "shared", "verified": True}).verified is False
    assert Manifest.model_validate({**old, "evaluation_mode": "split", "verified": True}).verified is True


def test_manifest_and_run_output_record_the_mode(runs: dict) -> None:
    for mode, verified in (("shared", False), ("split", True)):
        run_dir, res = runs[mode]
        with RunStore.open(run_dir, readonly=True) as store:
            man = store.manifest
        assert (man.evaluation_mode, man.verified) == (mode, verified)
        warnings = [ln for ln in res.stderr.splitlines() if "warning" in ln]
        if verified:
            assert warnings == [] and "unverified" not in res.output
        else:
            # One warning line at the start, before anything else the run printed.
            assert len(warnings) == 1 and SHARED_WORDS in warnings[0] and "shared mode" in warnings[0]
            assert res.stderr.splitlines()[0] == warnings[0]
            assert "(unverified)" in res.stdout and SHARED_WORDS in res.stdout


def test_resume_warns_too(runs: dict, tmp_path: Path) -> None:
    run = tmp_path / "shared"
    shutil.copytree(runs["shared"][0], run)
    res = cli("resume", run, "--more", "1", "-q")
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "run shared (shared mode)" in warnings[0] and SHARED_WORDS in warnings[0]
    assert "(unverified)" in res.stdout


def test_show_says_unverified(runs: dict) -> None:
    shared = cli("show", runs["shared"][0])
    assert shared.exit_code == 0
    assert SHARED_WORDS in shared.stdout and "best candidates (unverified scores)" in shared.stdout
    split = cli("show", runs["split"][0])
    assert (
        "unverified" not in split.stdout
        and "verified: the evaluator ran in a trusted process" in split.stdout
    )


def test_eval_human_and_json(tmp_path: Path) -> None:
    human = cli("eval", SHARED, SHARED / "seed.py")
    assert human.exit_code == 0 and "(unverified)" in human.stdout and SHARED_WORDS in human.stdout
    raw = cli("eval", SHARED, SHARED / "seed.py", "--json")
    data = json.loads(raw.stdout)
    assert data["verified"] is False and SHARED_WORDS in data["verification_note"]
    assert data["metrics"]["distance"] == 33.5
    split = cli("eval", SPLIT, SPLIT / "seed.py", "--json")
    data = json.loads(split.stdout)
    assert data["verified"] is True and data["verification_note"].startswith("verified")
    assert "unverified" not in cli("eval", SPLIT, SPLIT / "seed.py").stdout


def test_review_reports_a_finding_not_an_error(runs: dict) -> None:
    report = review_run(runs["shared"][0])
    check = next(c for c in report.checks if c.name == "scores verified")
    assert check.status == "warn" and SHARED_WORDS in check.details and report.ok
    res = cli("review", runs["shared"][0])
    assert res.exit_code == 0 and SHARED_WORDS in res.stdout
    split = next(c for c in review_run(runs["split"][0]).checks if c.name == "scores verified")
    assert split.status == "pass"


@pytest.mark.parametrize("mode", ["shared", "split"])
def test_exports_carry_the_verification(runs: dict, mode: str, tmp_path: Path) -> None:
    run_dir, verified = runs[mode][0], mode == "split"
    ara = export_ara(run_dir, tmp_path / "ara")
    assert [str(i) for i in check_ara(ara)] == []
    front = yaml.safe_load((ara / "PAPER.md").read_text().split("---", 2)[1])
    assert front["scores_verified"] is verified and front["evaluation_mode"] == mode
    assert (SHARED_WORDS in front["verification_note"]) is not verified
    claims = (ara / "logic/claims.md").read_text()
    assert (SHARED_WORDS in claims) is not verified

    crate = export_rocrate(run_dir, tmp_path / "crate")
    assert check_rocrate(crate) == []
    graph = {e["@id"]: e for e in json.loads((crate / METADATA_FILE).read_text())["@graph"]}
    assert graph["./"]["additionalProperty"] == {"@id": "#scores-verified"}
    prop = graph["#scores-verified"]
    assert prop["@type"] == "PropertyValue" and prop["value"] is verified
    assert (SHARED_WORDS in graph["./"]["description"]) is not verified
    result = json.loads((crate / "results" / "node-0.json").read_text())
    assert result["verified"] is verified and result["evaluation_mode"] == mode

    G = nx.read_graphml(export_graph(run_dir, tmp_path / "g.graphml", "graphml"))
    assert G.graph["verified"] is verified and G.graph["evaluation_mode"] == mode
    assert all(attrs["verified"] is verified for _, attrs in G.nodes(data=True))
    data = json.loads(export_graph(run_dir, tmp_path / "g.json", "json").read_text())
    assert data["graph"]["verified"] is verified
    assert (SHARED_WORDS in data["graph"]["verification_note"]) is not verified


def test_cli_export_then_parse(runs: dict, tmp_path: Path) -> None:
    out = tmp_path / "shared.graph.json"
    res = cli("export", runs["shared"][0], "--format", "json", "--out", out)
    assert res.exit_code == 0 and json.loads(out.read_text())["graph"]["verified"] is False


def test_imported_run_is_unverified(tmp_path: Path) -> None:
    run = import_openevolve(CHECKPOINT, tmp_path / "oe")
    with RunStore.open(run, readonly=True) as store:
        man = store.manifest
    assert (man.evaluation_mode, man.verified) == ("imported", False)
    shown = cli("show", run).stdout
    assert SHARED_WORDS in shown and "imported from another framework" in shown
    assert next(c for c in review_run(run).checks if c.name == "scores verified").status == "warn"


def test_browse_api_carries_the_verification(runs: dict) -> None:
    client = TestClient(create_app([runs["shared"][0], runs["split"][0]]), base_url="http://127.0.0.1")
    by_id = {r["run_id"]: r for r in client.get("/api/runs").json()}
    assert by_id["shared"]["verified"] is False and SHARED_WORDS in by_id["shared"]["verification_note"]
    assert by_id["split"]["verified"] is True and by_id["split"]["evaluation_mode"] == "split"
    node = client.get("/api/runs/shared/nodes/0").json()
    assert node["verified"] is False and SHARED_WORDS in node["verification_note"]
    assert client.get("/api/runs/split/nodes/0").json()["verified"] is True
    assert client.get("/api/runs/shared/summary").json()["manifest"]["verified"] is False
    rows = {r["run_id"]: r for r in client.get("/api/compare").json()["rows"]}
    assert (rows["shared"]["verified"], rows["split"]["verified"]) == (False, True)
