"""The RO-Crate export checked with the ecosystem's own tools: roc-validator (profiles
ro-crate-1.1 and process-run-crate-0.5, recommended severity) and ro-crate-py, offline.

roc-validator fetches the JSON-LD context through its requests-cache HTTP cache; the test fills
a fresh cache with the committed copy of the context (fixtures/rocrate/README.md) and runs the
validator with --offline, so nothing goes to the network.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from syslab.artifacts.export_rocrate import METADATA_FILE, PROCESS_PROFILE, ROCRATE_CONTEXT, export_rocrate
from syslab.artifacts.store import RunStore

pytest.importorskip(
    "rocrate_validator",
    reason="roc-validator not installed (pip install roc-validator; the dev extra has it)",
)
CONTEXT_FILE = Path(__file__).parent / "fixtures" / "rocrate" / "ro-crate-1.1-context.jsonld"
VALIDATE = "import sys; from rocrate_validator.cli import cli; sys.exit(cli())"


def _offline_cache(cache: Path) -> Path:
    """A requests-cache SQLite cache holding the RO-Crate 1.1 context, as roc-validator stores it."""
    import requests_cache
    import urllib3
    from requests.adapters import HTTPAdapter

    body = CONTEXT_FILE.read_bytes()

    class FixtureAdapter(HTTPAdapter):  # answers every request with the fixture: no network
        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            assert request.url == ROCRATE_CONTEXT, request.url
            raw = urllib3.HTTPResponse(
                body=io.BytesIO(body),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                preload_content=False,
                request_url=request.url,
            )
            return self.build_response(request, raw)

    session = requests_cache.CachedSession(
        cache_name=str(cache), backend="sqlite", expire_after=-1, allowable_methods=("GET",)
    )
    session.mount("https://", FixtureAdapter())
    assert session.get(ROCRATE_CONTEXT).status_code == 200
    assert session.cache.contains(url=ROCRATE_CONTEXT)
    session.close()
    return cache


def _validate(crate: Path, tmp_path: Path) -> dict:
    report = tmp_path / f"report-{crate.name}.json"
    cache = _offline_cache(tmp_path / "http_cache")
    args = ["-y", "validate", "--offline", "--cache-path", str(cache), "-p", "process-run-crate-0.5"]
    args += ["-l", "recommended", "-f", "json", "-o", str(report), "--no-paging", str(crate)]
    res = subprocess.run([sys.executable, "-c", VALIDATE, *args], capture_output=True, text=True, timeout=300)
    assert report.is_file(), res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(report.read_text())


def _findings(report: dict) -> list[str]:
    return [f"{i['severity']} {i['check']['identifier']}: {i['message']}" for i in report["issues"]]


def test_roc_validator_passes_required_and_recommended(finished_run: Path, tmp_path: Path) -> None:
    crate = export_rocrate(finished_run, tmp_path / "crate")
    report = _validate(crate, tmp_path)
    stats = report["statistics"]
    assert set(stats["profiles"]) == {"process-run-crate-0.5", "ro-crate-1.1"}
    assert stats["total_checks_by_severity"]["RECOMMENDED"] > 0  # the recommended checks ran
    assert _findings(report) == []
    assert report["passed"] is True and stats["total_failed_checks"] == 0


def test_roc_validator_reports_what_the_export_fixed(finished_run: Path, tmp_path: Path) -> None:
    """The same run, with three of the fixed defects put back: the validator sees each."""
    crate = export_rocrate(finished_run, tmp_path / "crate")
    path = crate / METADATA_FILE
    doc = json.loads(path.read_text())
    action = next(e for e in doc["@graph"] if e["@type"] == "CreateAction")
    action.pop("description")
    action["object"] = [action["object"]]
    next(e for e in doc["@graph"] if e["@type"] == "File").pop("encodingFormat")
    path.write_text(json.dumps(doc))
    found = "\n".join(_findings(_validate(crate, tmp_path)))
    assert "The Action SHOULD have a description" in found
    assert "singleton array" in found and '"object"' in found
    assert "encodingFormat" in found


def test_ro_crate_py_loads_the_export(finished_run: Path, tmp_path: Path) -> None:
    from rocrate.rocrate import ROCrate

    crate = ROCrate(export_rocrate(finished_run, tmp_path / "crate"))
    root = crate.root_dataset
    assert root["conformsTo"].id == PROCESS_PROFILE
    assert root["license"].type == "CreativeWork"
    assert root["author"].type == "Organization" and root["publisher"].id == root["author"].id
    actions = [e for e in crate.get_entities() if e.type == "CreateAction"]
    with RunStore.open(finished_run, readonly=True) as store:
        evaluated = {n.id for n in store.nodes() if n.wall_s is not None or n.started_at is not None}
    assert {int(a.id.rsplit("-", 1)[1]) for a in actions} == evaluated
    for action in actions:
        assert action["instrument"]["url"] and action["instrument"].id.startswith("https://")
        assert action["agent"].type == "Organization"
        results = action["result"] if isinstance(action["result"], list) else [action["result"]]
        assert all((Path(crate.source) / r.id).is_file() for r in results)
    files = [e for e in crate.get_entities() if e.type == "File"]
    assert files and all(f["encodingFormat"] for f in files)
