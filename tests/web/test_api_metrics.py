"""The browse API speaks in the task's metrics: units, directions and per-node values, the
analyst's whole note, and evaluations counted apart from attempts (synthetic_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from syslab.web.app import create_app

from . import synthetic_run as syn


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    run_dir = syn.make_run(tmp_path_factory.mktemp("api-metrics"))
    return TestClient(create_app([run_dir]), base_url="http://127.0.0.1")


def test_graph_carries_every_metric_with_its_unit_and_direction(client: TestClient) -> None:
    g = client.get("/api/runs/outlier/graph").json()
    assert g["primary_metric"] == "latency"
    assert (
        g["metric_specs"]["latency"]["unit"] == "ms" and g["metric_specs"]["cost"]["direction"] == "minimize"
    )
    latency = dict(zip(g["id"], g["metrics"]["latency"], strict=True))
    assert latency[1] == syn.CANDIDATES[0][0] and latency[syn.OUTLIER] == 542.0
    analyst = len(syn.CANDIDATES) + 1 + syn.DUPLICATES
    assert latency[analyst] is None and latency[len(syn.CANDIDATES) + 1] is None  # a note, a duplicate
    runs = client.get("/api/runs").json()
    assert runs[0]["primary_metric"] == "latency"


def test_analyst_note_is_whole_where_the_store_cut_it(client: TestClient) -> None:
    analyst = len(syn.CANDIDATES) + 1 + syn.DUPLICATES
    full = syn.GUIDANCE.splitlines()[0]
    assert client.get(f"/api/runs/outlier/nodes/{analyst}").json()["node"]["note"] == full
    mentioned = client.get("/api/runs/outlier/nodes/1").json()["analyst_notes"]
    assert [a["note"] for a in mentioned] == [full]


def test_compare_counts_evaluations_apart_from_attempts(client: TestClient) -> None:
    (row,) = client.get("/api/compare").json()["rows"]
    assert row["attempts"] == len(syn.CANDIDATES) + 1 + syn.DUPLICATES
    assert row["evaluations"] == len(syn.CANDIDATES) + 1
    best = min(v for v, _ in syn.CANDIDATES)
    assert (row["metric"], row["unit"], row["direction"]) == ("latency", "ms", "minimize")
    assert row["best_value"] == best and row["best_score"] == -best
    (curve,) = client.get("/api/compare").json()["curves"]
    assert curve["best"][-1][1] == best  # the curve is in latency, not in negated score


def test_a_moved_task_falls_back_to_the_score(tmp_path: Path) -> None:
    run_dir = syn.make_run(tmp_path)
    (tmp_path / "task" / "task.toml").unlink()
    g = TestClient(create_app([run_dir]), base_url="http://127.0.0.1").get("/api/runs/outlier/graph").json()
    assert g["primary_metric"] is None and g["metric_specs"] == {}
    assert set(g["metrics"]) == {"latency", "cost"}  # still every recorded metric, without units
