"""The browse API over real runs: graph arrays, node evidence, run views, live deltas."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from syslab.artifacts.store import RunStore
from syslab.errors import SyslabError
from syslab.web.app import create_app


@pytest.fixture(scope="module")
def client(finished_run: Path, second_run: Path) -> TestClient:
    return TestClient(create_app([finished_run, second_run]), base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def rid(finished_run: Path) -> str:
    return finished_run.name


@pytest.fixture(scope="module")
def store(finished_run: Path):
    s = RunStore.open(finished_run, readonly=True)
    yield s
    s.close()


def test_runs_are_listed_by_id(client: TestClient, finished_run: Path, second_run: Path) -> None:
    runs = client.get("/api/runs").json()
    assert [r["run_id"] for r in runs] == [finished_run.name, second_run.name]
    assert runs[0]["status"] == "finished" and runs[0]["nodes"] > 12


def test_graph_arrays_match_the_store(client: TestClient, rid: str, store: RunStore) -> None:
    g = client.get(f"/api/runs/{rid}/graph").json()
    nodes = store.nodes()
    assert g["id"] == [n.id for n in nodes]
    for key in ("parent", "island", "kind", "status_code", "score", "valid", "fail", "op", "x", "y"):
        assert len(g[key]) == len(nodes), key
    best = store.best_node()
    assert g["best"] == best.id
    # Best path: root first, each a parent of the next, ending at the best node.
    path = g["best_path"]
    assert path[0] == 0 and path[-1] == best.id
    parents = {n.id: n.parent_id for n in nodes}
    assert all(parents[b] == a for a, b in zip(path, path[1:], strict=False))
    fails = {n.id: n.failure_kind for n in nodes}
    for i, nid in enumerate(g["id"]):
        k = g["fail"][i]
        assert (g["failure_kinds"][k] if k >= 0 else None) == fails[nid]
    # Layout: a child one level below its parent; no two nodes on the same spot.
    pos = {nid: (g["x"][i], g["y"][i]) for i, nid in enumerate(g["id"])}
    for n in nodes:
        if n.parent_id is not None:
            assert pos[n.id][1] == pos[n.parent_id][1] + 1
    assert len(set(pos.values())) == len(pos)


def test_failed_node_shows_its_traceback(client: TestClient, rid: str, store: RunStore) -> None:
    failed = next(n for n in store.nodes() if n.failure_kind == "evaluator_error")
    d = client.get(f"/api/runs/{rid}/nodes/{failed.id}").json()
    assert d["node"]["failure_kind"] == "evaluator_error"
    tb = d["evidence"]["traceback"]
    assert tb["sha256"] == failed.evidence["traceback"]
    assert "ValueError: flaky evaluator refuses value" in tb["text"]
    assert d["code"] == store.get_code(failed.id)


def test_good_node_shows_diff_llm_exchange_and_claim(client: TestClient, rid: str, store: RunStore) -> None:
    best = store.best_node()
    d = client.get(f"/api/runs/{rid}/nodes/{best.id}").json()
    assert d["diff"] == store.diff(best.id)
    assert d["diff"].startswith("--- a/program.py") and "\n+" in d["diff"]
    assert d["node"]["metrics"] == best.metrics
    (call,) = d["llm_calls"]
    assert call["model"] == "test-model-1" and call["prompt_tokens"] == 120
    assert "make solve() return 42" in call["prompt"] and "REPLACE" in call["response"]
    assert "C-best" in [c["id"] for c in d["claims"]]


def test_analyst_notes_link_both_ways(client: TestClient, rid: str, store: RunStore) -> None:
    analysis = next(n for n in store.nodes() if n.kind.value == "analysis")
    a = client.get(f"/api/runs/{rid}/nodes/{analysis.id}").json()
    assert a["analysis_of"], "the analyst note discusses some candidates"
    target = client.get(f"/api/runs/{rid}/nodes/{a['analysis_of'][0]}").json()
    assert analysis.id in [n["id"] for n in target["analyst_notes"]]


def test_summary_views(client: TestClient, rid: str, store: RunStore) -> None:
    s = client.get(f"/api/runs/{rid}/summary").json()
    valid = [n for n in store.nodes() if n.valid and n.score is not None and n.kind.value != "analysis"]
    assert sorted(p[2] for p in s["score"]["points"]) == sorted(n.id for n in valid)
    best_line = [b for _, b in s["score"]["best"] if b is not None]
    assert best_line == sorted(best_line) and best_line[-1] == store.best_node().score
    counts = store.failure_counts()
    f = s["failures"]
    assert {k: sum(c) for k, c in zip(f["kinds"], f["counts"], strict=True)} == counts
    assert sum(f["totals"]) == s["score"]["evaluations"]
    (row,) = s["cost"]["rows"]
    assert row["model"] == "test-model-1" and row["cost_usd"] == pytest.approx(0.0042)
    # Pareto front (distance minimised, value maximised): no point dominates a front member.
    p = s["pareto"]
    assert p["metrics"] == ["distance", "value"] and p["directions"] == ["minimize", "maximize"]
    pts = {nid: (-a, b) for nid, a, b in p["points"]}
    for f_id in p["front"]:
        fa, fb = pts[f_id]
        assert not any(a >= fa and b >= fb and (a, b) != (fa, fb) for a, b in pts.values())
    non_front = set(pts) - set(p["front"])
    for nid in non_front:
        na, nb = pts[nid]
        assert any(a >= na and b >= nb for o, (a, b) in pts.items() if o != nid)


def test_map_elites_grid(client: TestClient, rid: str, store: RunStore) -> None:
    g = client.get(f"/api/runs/{rid}/map_elites").json()
    assert g["dims"] == ["code_length", "diversity"]
    valid = [n for n in store.nodes() if n.valid and n.score is not None and n.kind.value != "analysis"]
    assert sum(c["count"] for c in g["cells"].values()) == len(valid)
    by_id = {n.id: n.score for n in valid}
    for c in g["cells"].values():
        assert by_id[c["id"]] == c["score"]


def test_search_by_id_operator_and_failure(client: TestClient, rid: str, store: RunStore) -> None:
    failed = sorted(n.id for n in store.nodes() if n.failure_kind == "evaluator_error")
    analyses = {n.id for n in store.nodes() if n.kind.value == "analysis"}
    found = client.get(f"/api/runs/{rid}/search", params={"q": "evaluator_error"}).json()["ids"]
    # The failed candidates, and analyst notes that discuss the failure (search covers notes).
    assert [i for i in found if i not in analyses] == failed
    found = client.get(f"/api/runs/{rid}/search", params={"q": "mutate:"}).json()["ids"]
    assert [i for i in found if i not in analyses] == sorted(
        n.id for n in store.nodes() if n.operator.startswith("mutate:")
    )
    assert client.get(f"/api/runs/{rid}/search", params={"q": "#3"}).json()["ids"][0] == 3
    assert client.get(f"/api/runs/{rid}/search", params={"q": ""}).json()["ids"] == []


def test_delta_is_empty_when_up_to_date(client: TestClient, rid: str) -> None:
    g = client.get(f"/api/runs/{rid}/graph").json()
    same = client.get(f"/api/runs/{rid}/delta", params={"rev": g["rev"], "edge_seq": g["edge_seq"]}).json()
    assert same["changed"] is False
    stale = client.get(f"/api/runs/{rid}/delta", params={"rev": 0, "edge_seq": 0}).json()
    assert stale["changed"] is True and stale["id"] == g["id"]


def test_delta_sees_nodes_written_after_the_app_started(tmp_path: Path, finished_run: Path) -> None:
    import shutil

    from syslab.artifacts.schema import Node, NodeStatus

    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    c = TestClient(create_app([run]), base_url="http://127.0.0.1")
    g = c.get("/api/runs/copy/graph").json()
    store = RunStore.open(run)
    nid = store.next_node_id()
    store.add_node(
        Node(id=nid, parent_id=0, status=NodeStatus.running, operator="mutate:late"), code="x = 1\n"
    )
    store.close()
    d = c.get("/api/runs/copy/delta", params={"rev": g["rev"], "edge_seq": g["edge_seq"]}).json()
    assert d["changed"] is True and d["id"][-1] == nid and len(d["id"]) == len(g["id"]) + 1


def test_logic_and_compare(client: TestClient, rid: str, finished_run: Path, second_run: Path) -> None:
    logic = client.get(f"/api/runs/{rid}/logic").json()
    claim = next(c for c in logic["claims"] if c["id"] == "C-best")
    ev = claim["evidence"][0]
    blob = client.get(f"/api/runs/{rid}/evidence/{ev['sha256']}")
    assert blob.status_code == 200 and blob.headers["content-type"].startswith("text/plain")
    cmp = client.get("/api/compare").json()
    assert [r["run_id"] for r in cmp["rows"]] == [finished_run.name, second_run.name]
    assert all(r["evaluations"] > 0 and r["best_score"] is not None for r in cmp["rows"])
    assert [len(c["best"]) for c in cmp["curves"]] == [r["attempts"] for r in cmp["rows"]]


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(SyslabError, match="not a syslab run directory"):
        create_app([tmp_path])


def test_cli_browse_refuses_a_non_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from syslab.cli import app

    result = CliRunner().invoke(app, ["browse", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a syslab run directory" in result.output and "http://" not in result.output
