"""Exports: ARA passes the structural checks, RO-Crate has the profile's properties, GraphML round-trips."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import networkx as nx
import pytest
import yaml

from syslab.artifacts.ara_checks import check_ara
from syslab.artifacts.export_ara import export_ara
from syslab.artifacts.export_graph import export_graph
from syslab.artifacts.export_rocrate import (
    COMPLETED,
    FAILED,
    METADATA_FILE,
    MINIMAL_CONTEXT,
    PROCESS_PROFILE,
    ROCRATE_CONTEXT,
    check_rocrate,
    export_rocrate,
)
from syslab.artifacts.store import RunStore


def test_ara_export_passes_structural_checks(finished_run: Path, tmp_path: Path) -> None:
    out = export_ara(finished_run, tmp_path / "ara")
    assert [str(i) for i in check_ara(out)] == []
    tree = yaml.safe_load((out / "trace/exploration_tree.yaml").read_text())
    types = set()

    def walk(nodes: list) -> None:
        for n in nodes:
            types.add(n["type"])
            walk(n.get("children", []))

    walk(tree["tree"])
    assert {"question", "experiment", "dead_end"} <= types
    with RunStore.open(finished_run, readonly=True) as store:
        best = store.best_node()
        assert store.get_code(best.id) in (out / "src/execution/best_program.py").read_text()
    assert "## C01:" in (out / "logic/claims.md").read_text()


def test_ara_checks_catch_broken_exports(finished_run: Path, tmp_path: Path) -> None:
    out = export_ara(finished_run, tmp_path / "ara")
    (out / "logic/concepts.md").unlink()
    claims = out / "logic/claims.md"
    claims.write_text(claims.read_text().replace("[E01, E02, E03]", "[E01, E09]"))
    tree_path = out / "trace/exploration_tree.yaml"
    tree = yaml.safe_load(tree_path.read_text())
    tree["tree"][0]["children"][0]["type"] = "musing"
    tree["tree"][0]["children"].append({"id": "N999", "type": "pivot", "support_level": "inferred"})
    a, b = tree["tree"][0]["children"][-3:-1]  # two siblings that depend on each other: a cycle
    a["also_depends_on"], b["also_depends_on"] = [b["id"]], [a["id"]]
    tree_path.write_text(yaml.safe_dump(tree))
    issues = "\n".join(str(i) for i in check_ara(out))
    assert "logic/concepts.md: missing" in issues
    assert "E09" in issues
    assert "musing" in issues
    assert "pivot): needs" in issues
    assert "cycle" in issues


def test_rocrate_has_process_run_properties(finished_run: Path, tmp_path: Path) -> None:
    crate = export_rocrate(finished_run, tmp_path / "crate")
    assert check_rocrate(crate) == []
    doc = json.loads((crate / METADATA_FILE).read_text())
    by_id = {e["@id"]: e for e in doc["@graph"]}
    assert by_id["./"]["conformsTo"] == {"@id": PROCESS_PROFILE}
    actions = [e for e in doc["@graph"] if e["@type"] == "CreateAction"]
    with RunStore.open(finished_run, readonly=True) as store:
        evaluated = [n for n in store.nodes() if n.wall_s is not None or n.started_at is not None]
    assert len(actions) == len(evaluated) > 0
    for a in actions:
        assert by_id[a["instrument"]["@id"]]["@type"] == "SoftwareApplication"
        assert a["object"] and a["result"] and a["endTime"] and a["description"]
        assert a["actionStatus"] in (COMPLETED, FAILED)
        refs = [r for key in ("object", "result") for r in (a[key] if isinstance(a[key], list) else [a[key]])]
        for ref in refs:
            assert (crate / ref["@id"]).is_file()


def test_rocrate_failed_action_and_checker(finished_run: Path, tmp_path: Path) -> None:
    crate = export_rocrate(finished_run, tmp_path / "crate")
    path = crate / METADATA_FILE
    doc = json.loads(path.read_text())
    action = next(e for e in doc["@graph"] if e["@type"] == "CreateAction")
    action["actionStatus"] = FAILED
    action.pop("error", None)
    action["instrument"] = {"@id": "#nothing"}
    doc["@graph"][1]["conformsTo"] = {"@id": "https://example.org/other"}
    path.write_text(json.dumps(doc))
    problems = "\n".join(check_rocrate(crate))
    assert "failed action without error" in problems
    assert "#nothing: no such entity" in problems
    assert "Process Run Crate" in problems


def test_rocrate_expands_as_json_ld(finished_run: Path, tmp_path: Path) -> None:
    jsonld = pytest.importorskip("pyld.jsonld", reason="pyld not installed (pip install pyld)")
    crate = export_rocrate(finished_run, tmp_path / "crate")
    doc = json.loads((crate / METADATA_FILE).read_text())

    def loader(url: str, options: dict | None = None) -> dict:
        assert url == ROCRATE_CONTEXT  # no network: the context is bundled
        return {"contextUrl": None, "documentUrl": url, "document": MINIMAL_CONTEXT}

    base = "http://crate.example/"
    expanded = {e["@id"]: e for e in jsonld.expand(doc, {"documentLoader": loader, "base": base})}
    assert len(expanded) == len(doc["@graph"])
    # Every property of every entity survives expansion (no undefined term was dropped).
    for compact in doc["@graph"]:
        full = expanded[urljoin(base, compact["@id"])]
        assert len(full) == len(compact), (compact["@id"], set(compact), set(full))


def test_graphml_and_json_round_trip(finished_run: Path, tmp_path: Path) -> None:
    with RunStore.open(finished_run, readonly=True) as store:
        nodes = {n.id: n for n in store.nodes()}
        edges = {(e.src, e.dst, e.kind.value) for e in store.edges()}
    G = nx.read_graphml(export_graph(finished_run, tmp_path / "g.graphml", "graphml"))
    assert {int(n) for n in G.nodes} == set(nodes)
    assert {(int(s), int(d), k) for s, d, k in G.edges(data="kind")} == edges
    best = max((n for n in nodes.values() if n.valid and n.score is not None), key=lambda n: n.score)
    assert G.nodes[str(best.id)]["score"] == pytest.approx(best.score)
    assert json.loads(G.nodes[str(best.id)]["metrics"]) == best.metrics
    data = json.loads(export_graph(finished_run, tmp_path / "g.json", "json").read_text())
    H = nx.node_link_graph(data, edges="edges")
    assert set(H.nodes) == set(nodes) and {(s, d, k) for s, d, k in H.edges(data="kind")} == edges


def test_cli_export_formats(run_copy: Path, tmp_path: Path) -> None:
    for fmt in ("ara", "rocrate", "graphml", "json"):
        out = tmp_path / f"out-{fmt}"
        res = subprocess.run(
            [sys.executable, "-m", "syslab.cli", "export", str(run_copy), "--format", fmt, "--out", str(out)],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert out.exists()
    bad = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "export", str(run_copy), "--format", "pdf"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "pdf" in bad.stderr
    shutil.rmtree(tmp_path / "out-ara")
