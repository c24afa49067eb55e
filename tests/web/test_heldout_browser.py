"""Browse shows held-out scores: the node panel (search beside held-out, overfit flagged), the run
summary's held-out row and the refuted claim with its numbers, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from syslab.config import RunConfig
from syslab.engine.run import run_evolution
from syslab.web.app import create_app

from .test_browser import SHOTS, browser, click_node, open_page, page, pytestmark, wait_js  # noqa: F401

OVERFIT = Path(__file__).resolve().parents[1] / "fixtures" / "heldout" / "overfit"


@pytest.fixture(scope="module")
def overfit_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heldout-web")
    config = {"out": str(out), "progress": False, "proposer": "mutate", "budget": {"evaluations": 6}}
    return run_evolution(OVERFIT, RunConfig.model_validate(config)).run_dir


def test_api_reports_heldout_beside_search(overfit_run: Path) -> None:
    client = TestClient(create_app([overfit_run]), base_url="http://127.0.0.1")
    run_id = client.get("/api/runs").json()[0]["run_id"]
    summary = client.get(f"/api/runs/{run_id}/summary").json()
    seed_row = next(r for r in summary["heldout"] if r["node_id"] == 0)
    assert seed_row["search_value"] == 98.0 and seed_row["heldout_value"] == -4.5 and seed_row["overfit"]
    node = client.get(f"/api/runs/{run_id}/nodes/0").json()
    assert node["heldout"][-1]["heldout_value"] == -4.5


def test_node_panel_and_summary_show_heldout(overfit_run: Path, make_server, page) -> None:  # noqa: ANN001, F811
    with make_server([overfit_run]) as s:
        open_page(page, s.url)
        click_node(page, 0)
        table = page.inner_text("#panel-heldout")
        assert "98" in table and "-4.5" in table and "overfit" in table
        page.screenshot(path=str(SHOTS / "20-heldout-node.png"))
        page.click("#tabs button[data-tab=charts]")
        wait_js(page, "document.getElementById('run-table').textContent.includes('held-out')")
        assert "#0 search 98 / held-out -4.5 OVERFIT" in page.inner_text("#run-table")
        page.click("#tabs button[data-tab=logic]")
        wait_js(page, "document.getElementById('logic').textContent.includes('C-best')")
        logic = page.inner_text("#logic")
        assert "[refuted]" in logic and "held-out -4.5" in logic and "n=1" in logic
        assert "D-heldout-0" in logic  # the overfit candidate is a dead end
