"""Export a run as an RO-Crate 1.1 conforming to the Process Run Crate profile.

Layout of the crate directory:

    ro-crate-metadata.json     the JSON-LD description (below)
    candidates/node-<id>.py    every candidate's program, from code.git
    results/node-<id>.json     what the evaluator reported (metrics, validity, failure)
    evidence/<sha256>          raw outputs (stdout, stderr, traceback, raw metrics), as stored
    logic.yaml, manifest.json  the run's scientific logic and environment, copied

Each evaluation is one `CreateAction`: `instrument` the task's evaluator (a SoftwareApplication),
`object` the candidate file, `result` the result file and evidence files, `startTime`/`endTime`
(ISO 8601 to the millisecond), `actionStatus` CompletedActionStatus or FailedActionStatus with
`error` naming the failure, a `description`, and `agent` the syslab run (an Organization: the
profile wants a Person or Organization, and syslab records no person as a run's operator).
Single values are written as values, not one-element arrays (RO-Crate 1.1 JSON-LD). Every File
has an `encodingFormat`; the license is a contextual entity; the root names an author and a
publisher. The whole is checked with roc-validator (profiles ro-crate-1.1 and
process-run-crate-0.5, recommended severity) in tests/artifacts/test_export_rocrate_validator.py.
Candidates rejected before evaluation (duplicates, unparsable edits) are files of the crate but
not actions. `rocrate_checks.check_rocrate` validates a crate's structure and the profile's required properties.
Whether the scores are verified (split mode) is a PropertyValue of the root (`#scores-verified`),
said again in the root's and the evaluator's descriptions and in every results/ file.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from syslab.artifacts.provenance import provenance
from syslab.artifacts.rocrate_checks import (
    COMPLETED,
    FAILED,
    METADATA_FILE,
    PROCESS_PROFILE,
    ROCRATE_CONTEXT,
    ROCRATE_SPEC,
    check_rocrate,
)
from syslab.artifacts.schema import Node, NodeKind
from syslab.artifacts.store import RunStore

__all__ = ["COMPLETED", "FAILED", "METADATA_FILE", "PROCESS_PROFILE", "ROCRATE_CONTEXT", "check_rocrate"]
LICENSE = "https://spdx.org/licenses/CC-BY-4.0"
SYSLAB_AGENT = "#syslab"
# The profile wants an http(s) @id for a SoftwareApplication. A task's evaluator has no web
# address, so its @id is a name under the reserved .invalid domain (RFC 2606: never resolves),
# made unique by the task's content hash; its `url` is where it ran (a file: URL).
EVALUATOR_NAMESPACE = "https://syslab.invalid/evaluator/"

# The subset of the RO-Crate 1.1 context this exporter uses (all schema.org terms), for offline
# JSON-LD processing: the published context cannot be fetched without a network.
MINIMAL_CONTEXT: dict[str, Any] = {
    "@context": {
        **{
            t: f"http://schema.org/{t}"
            for t in (
                "CreativeWork Dataset File SoftwareApplication CreateAction PropertyValue name description "
                "about hasPart mentions instrument object result startTime endTime actionStatus "
                "error datePublished license version softwareVersion encodingFormat contentSize "
                "additionalProperty propertyID value identifier url agent author publisher Organization"
            ).split()
        },
        "File": "http://schema.org/MediaObject",
        "conformsTo": {"@id": "http://purl.org/dc/terms/conformsTo", "@type": "@id"},
    }
}


def _iso(t: float | None) -> str | None:
    # Milliseconds and a +00:00 offset: the form the Process Run Crate profile's pattern accepts.
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds") if t else None


def _one(items: list[Any]) -> Any:
    """RO-Crate 1.1 writes a single value as itself, not as a one-element array."""
    return items[0] if len(items) == 1 else items


def _media_type(data: bytes) -> str:
    """The evidence blob's media type, from its content (blobs are stored without names)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    try:
        json.loads(text)
    except ValueError:
        return "text/plain"
    return "application/json"


def _ref(i: str) -> dict[str, str]:
    return {"@id": i}


def _evaluated(n: Node) -> bool:
    """Reached the evaluator (as opposed to being rejected before evaluation)."""
    return n.kind != NodeKind.analysis and (n.wall_s is not None or n.started_at is not None)


def export_rocrate(run_dir: str | Path, out: str | Path) -> Path:
    """Write the RO-Crate for the run at `run_dir` into directory `out`; returns `out`."""
    run_dir, out = Path(run_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("candidates", "results", "evidence"):
        (out / sub).mkdir(exist_ok=True)
    graph: list[dict[str, Any]] = []
    files: list[str] = []
    actions: list[str] = []
    with RunStore.open(run_dir, readonly=True) as store:
        man = store.manifest
        prov = provenance(man)
        evaluator_id = f"{EVALUATOR_NAMESPACE}{quote(man.task_name)}/{man.task_hash[:16]}"
        heldout_id = f"{evaluator_id}/heldout"
        task_url = Path(man.task_dir).as_uri() if Path(man.task_dir).is_absolute() else man.task_dir
        evaluator = {
            "@id": evaluator_id,
            "@type": "SoftwareApplication",
            "name": f"{man.task_name} evaluator",
            "description": f"The evaluator of task {man.task_name} (task dir {man.task_dir}); "
            f"{man.evaluation_mode} mode, scores {prov['verification_note']}. The @id names it by "
            "the task's content hash and does not resolve; url is where it ran.",
            "softwareVersion": man.task_hash,
            "url": task_url,
        }
        agent = {
            "@id": SYSLAB_AGENT,
            "@type": "Organization",
            "name": "syslab",
            "description": f"syslab {man.syslab_version}, the automated research framework that carried "
            f"out run {man.run_id} on host {man.platform.get('hostname', '?')} and wrote this crate; "
            "it records no person as the run's operator. Its url is the run's directory (syslab "
            "has no web address).",
            "url": run_dir.resolve().as_uri(),
        }
        license_entity = {
            "@id": LICENSE,
            "@type": "CreativeWork",
            "name": "Creative Commons Attribution 4.0 International",
            "identifier": "CC-BY-4.0",
        }
        verified = {
            "@id": "#scores-verified",
            "@type": "PropertyValue",
            "propertyID": "syslab:scoresVerified",
            "name": "scores verified",
            "value": man.verified,
            "description": prov["verification_note"],
        }
        graph += [evaluator, verified, agent, license_entity]
        blobs: set[str] = set()
        heldout = {}
        for record in store.heldout():
            heldout.setdefault(record.node_id, []).append(record)
        if heldout:
            graph.append(
                {
                    "@id": heldout_id,
                    "@type": "SoftwareApplication",
                    "name": f"{man.task_name} held-out evaluator",
                    "description": "The task's held-out evaluation: data the search never saw, "
                    "run after the search on the best candidates",
                    "softwareVersion": man.task_hash,
                    "url": task_url,
                }
            )
        for node in store.nodes():
            if node.kind == NodeKind.analysis:
                continue
            code = store.get_code(node.id) if node.commit else None
            cand = f"candidates/node-{node.id}.py"
            if code is not None:
                (out / cand).write_text(code)
                graph.append(
                    {
                        "@id": cand,
                        "@type": "File",
                        "name": f"candidate {node.id}",
                        "description": f"{node.kind.value} node {node.id} ({node.operator}) {node.note}".strip(),
                        "encodingFormat": "text/x-python",
                        "identifier": node.commit,
                    }
                )
                files.append(cand)
            res_id = f"results/node-{node.id}.json"
            result_doc = {
                "node": node.id,
                "status": node.status.value,
                "valid": node.valid,
                "score": node.score,
                "stage": node.stage,
                "metrics": node.metrics,
                "failure_kind": node.failure_kind,
                "failure_message": node.failure_message,
                # Held-out measurements (search value beside held-out value, gap, overfit).
                "heldout": [r.model_dump(mode="json") for r in heldout.get(node.id, [])],
                **prov,
            }
            (out / res_id).write_text(json.dumps(result_doc, indent=1, sort_keys=True) + "\n")
            graph.append(
                {
                    "@id": res_id,
                    "@type": "File",
                    "name": f"evaluation result of node {node.id}",
                    "encodingFormat": "application/json",
                }
            )
            files.append(res_id)
            ev_ids = []
            for name, sha in sorted(node.evidence.items()):
                ev_id = f"evidence/{sha}"
                if sha not in blobs:
                    src = store.blob_path(sha)
                    if src.is_file():
                        shutil.copyfile(src, out / ev_id)
                        blobs.add(sha)
                        graph.append(
                            {
                                "@id": ev_id,
                                "@type": "File",
                                "name": f"{name} of node {node.id}",
                                "identifier": f"sha256:{sha}",
                                "contentSize": str(src.stat().st_size),
                                "encodingFormat": _media_type(src.read_bytes()),
                            }
                        )
                        files.append(ev_id)
                if sha in blobs:
                    ev_ids.append(ev_id)
            for record in heldout.get(node.id, []):
                held_ev = [
                    _copy_blob(store, out, sha, f"held-out {name} of node {node.id}", blobs, graph, files)
                    for name, sha in sorted(record.evidence.items())
                ]
                held_action: dict[str, Any] = {
                    "@id": f"#heldout-{record.id}",
                    "@type": "CreateAction",
                    "name": f"held-out evaluation of node {node.id} ({record.origin})",
                    "description": f"The held-out evaluator run on candidate {node.id}: "
                    + (
                        f"{record.failure_kind}"
                        if not record.valid
                        else f"held-out value {record.heldout_value}, gap {record.gap}"
                    ),
                    "agent": _ref(SYSLAB_AGENT),
                    "instrument": _ref(heldout_id),
                    "object": _one([_ref(cand)] if code is not None else []),
                    "result": _one([_ref(res_id), *(_ref(e) for e in held_ev if e)]),
                    "actionStatus": COMPLETED if record.valid else FAILED,
                    "endTime": _iso(record.created_at),
                }
                if not record.valid:
                    held_action["error"] = record.failure_kind or "failed"
                graph.append(held_action)
                actions.append(f"#heldout-{record.id}")
            if not _evaluated(node):
                continue
            outcome = (
                f"failed ({node.failure_kind})"
                if node.failure_kind
                else f"score {node.score}, {', '.join(f'{k}={v:.6g}' for k, v in sorted(node.metrics.items()))}"
            )
            action: dict[str, Any] = {
                "@id": f"#evaluation-{node.id}",
                "@type": "CreateAction",
                "name": f"evaluate node {node.id}",
                "description": f"The task's evaluator run on {node.kind.value} candidate {node.id} "
                f"(made by {node.operator or 'the task'}): {outcome}",
                "agent": _ref(SYSLAB_AGENT),
                "instrument": _ref(evaluator_id),
                "object": _one([_ref(cand)] if code is not None else []),
                "result": _one([_ref(res_id), *(_ref(e) for e in ev_ids)]),
                "actionStatus": FAILED if node.failure_kind else COMPLETED,
            }
            if node.started_at:
                action["startTime"] = _iso(node.started_at)
            action["endTime"] = _iso(node.finished_at or node.started_at or node.created_at)
            if node.failure_kind:
                action["error"] = f"{node.failure_kind}: {node.failure_message or ''}".strip()
            graph.append(action)
            actions.append(action["@id"])
    for name, media in (
        ("logic.yaml", "application/yaml"),
        ("manifest.json", "application/json"),
        ("reproduction.json", "application/json"),
    ):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, out / name)
            graph.append({"@id": name, "@type": "File", "name": name, "encodingFormat": media})
            files.append(name)
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"syslab run {man.run_id}",
        "description": f"Evolution run of task {man.task_name}: every candidate and its evaluation. "
        f"Scores {prov['verification_note']}.",
        "additionalProperty": _ref("#scores-verified"),
        "datePublished": _iso(man.finished_at or man.created_at),
        "license": _ref(LICENSE),
        "author": _ref(SYSLAB_AGENT),
        "publisher": _ref(SYSLAB_AGENT),
        "conformsTo": _ref(PROCESS_PROFILE),
        "hasPart": _one([_ref(f) for f in files]),
        "mentions": _one([_ref(a) for a in actions]),
    }
    descriptor = {
        "@id": METADATA_FILE,
        "@type": "CreativeWork",
        "conformsTo": _ref(ROCRATE_SPEC),
        "about": _ref("./"),
    }
    profile = {"@id": PROCESS_PROFILE, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"}
    doc = {"@context": ROCRATE_CONTEXT, "@graph": [descriptor, root, profile, *graph]}
    (out / METADATA_FILE).write_text(json.dumps(doc, indent=1) + "\n")
    return out


def _copy_blob(
    store: RunStore, out: Path, sha: str, name: str, blobs: set[str], graph: list, files: list
) -> str | None:
    """Copy one evidence blob into the crate (once); its @id, or None when it is missing."""
    ev_id = f"evidence/{sha}"
    if sha not in blobs:
        src = store.blob_path(sha)
        if not src.is_file():
            return None
        shutil.copyfile(src, out / ev_id)
        blobs.add(sha)
        graph.append(
            {
                "@id": ev_id,
                "@type": "File",
                "name": name,
                "identifier": f"sha256:{sha}",
                "contentSize": str(src.stat().st_size),
                "encodingFormat": _media_type(src.read_bytes()),
            }
        )
        files.append(ev_id)
    return ev_id
