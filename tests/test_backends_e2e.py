"""examples/bin_packing end to end through the CLI with `--sandbox docker` and with
`--executor ray --workers 2`: both finish and produce the same kind of artifact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syslab.artifacts.schema import NodeStatus
from syslab.artifacts.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
BIN_PACKING = ROOT / "examples" / "bin_packing"
BUDGET = 4


def _docker_reason() -> str | None:
    from syslab.sandbox.images import docker_ready

    ok, detail = docker_ready()
    return None if ok else f"no Docker engine: {detail}"


def _ray_reason() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'syslab[ray]')"
    return None


def _run(tmp_path: Path, name: str, *flags: str) -> Path:
    cmd = [sys.executable, "-m", "syslab.cli", "run", str(BIN_PACKING), "--budget", str(BUDGET)]
    cmd += ["--proposer", "mutate", "--seed", "1", "-o", str(tmp_path), "--name", name, "-q", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return tmp_path / name


def _summary(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    store = RunStore.open(run_dir, readonly=True)
    nodes = list(store.nodes())
    store.close()
    return {
        "files": sorted(p.name for p in run_dir.iterdir()),
        "status": manifest["status"],
        "isolation": manifest["isolation"],
        "nodes": nodes,
        "evaluated": [n for n in nodes if n.status == NodeStatus.evaluated],
    }


@pytest.mark.slow
@pytest.mark.docker
def test_docker_sandbox_and_ray_executor_runs(tmp_path: Path) -> None:
    reasons = {"docker": _docker_reason(), "ray": _ray_reason()}
    if reasons["docker"] and reasons["ray"]:
        pytest.skip(f"{reasons['docker']}; {reasons['ray']}")
    summaries = {}
    if not reasons["docker"]:
        summaries["docker"] = _summary(_run(tmp_path, "docker", "--sandbox", "docker"))
    if not reasons["ray"]:
        summaries["ray"] = _summary(_run(tmp_path, "ray", "--executor", "ray", "--workers", "2"))
    for kind, s in summaries.items():
        assert s["status"] == "finished", kind
        assert {"manifest.json", "syslab.db", "code.git", "evidence", "logic.yaml"} <= set(s["files"]), kind
        assert len(s["evaluated"]) >= 2, kind  # the seed and at least one mutant were measured
        seed = s["nodes"][0]
        assert seed.valid and seed.metrics["excess_pct"] > 0 and seed.failure_kind is None, kind
        bad = {n.failure_kind for n in s["nodes"]} & {
            "sandbox_violation",
            "evaluator_error",
            "timeout",
            "memory",
        }
        assert not bad, (kind, bad)
    if "docker" in summaries:
        iso = summaries["docker"]["isolation"]
        assert iso["backend"] == "docker" and iso["netns"] and iso["read_only_root"]
    if "ray" in summaries:
        assert summaries["ray"]["isolation"]["executor"] == "ray"
        assert all(n.data["artifacts"]["ray_attempts"] == 1 for n in summaries["ray"]["evaluated"])
    if len(summaries) == 2:  # same task, same seed: the same measurements, whatever ran them
        d, r = (summaries[k]["nodes"][0] for k in ("docker", "ray"))
        assert d.metrics == r.metrics and d.code_sha == r.code_sha
        assert summaries["docker"]["files"] == summaries["ray"]["files"]
    missing = [reason for reason in reasons.values() if reason]
    if missing:
        pytest.skip(f"ran {sorted(summaries)} only: {'; '.join(missing)}")
