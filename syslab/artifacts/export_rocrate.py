"""Export a run as an RO-Crate 1.1 conforming to the Process Run Crate profile.

Layout of the crate directory:

    ro-crate-metadata.json     the JSON-LD description (below)
    candidates/node-<id>.py    every candidate's program, from code.git
    results/node-<id>.json     what the evaluator reported (metrics, validity, failure)
    evidence/<sha256>          raw outputs (stdout, stderr, traceback, raw metrics), as stored
    logic.yaml, manifest.json  the run's scientific logic and environment, copied

Each evaluation is one `CreateAction`: `instrument` the task's evaluator (a SoftwareApplication),
`object` the candidate file, `result` the result file and evidence files, `startTime`/`endTime`,
`actionStatus` CompletedActionStatus or FailedActionStatus with `error` naming the failure.
Candidates rejected before evaluation (duplicates, unparsable edits) are files of the crate but
not actions. `check_rocrate` validates a crate's structure and the profile's required properties.
Whether the scores are verified (split mode) is a PropertyValue of the root (`#scores-verified`),
said again in the root's and the evaluator's descriptions and in every results/ file.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from syslab.artifacts.provenance import provenance
from syslab.artifacts.schema import Node, NodeKind
from syslab.artifacts.store import RunStore

METADATA_FILE = "ro-crate-metadata.json"
ROCRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
ROCRATE_SPEC = "https://w3id.org/ro/crate/1.1"
PROCESS_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"

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
                "additionalProperty propertyID value identifier url"
            ).split()
        },
        "File": "http://schema.org/MediaObject",
        "conformsTo": {"@id": "http://purl.org/dc/terms/conformsTo", "@type": "@id"},
    }
}


def _iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, timezone.utc).isoformat() if t else None


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
        evaluator = {
            "@id": "#evaluator",
            "@type": "SoftwareApplication",
            "name": f"{man.task_name} evaluator",
            "description": f"The evaluator of task {man.task_name} (task dir {man.task_dir}); "
            f"{man.evaluation_mode} mode, scores {prov['verification_note']}",
            "softwareVersion": man.task_hash,
        }
        verified = {
            "@id": "#scores-verified",
            "@type": "PropertyValue",
            "propertyID": "syslab:scoresVerified",
            "name": "scores verified",
            "value": man.verified,
            "description": prov["verification_note"],
        }
        graph += [evaluator, verified]
        blobs: set[str] = set()
        heldout = {}
        for record in store.heldout():
            heldout.setdefault(record.node_id, []).append(record)
        if heldout:
            graph.append(
                {
                    "@id": "#heldout-evaluator",
                    "@type": "SoftwareApplication",
                    "name": f"{man.task_name} held-out evaluator",
                    "description": "The task's held-out evaluation: data the search never saw, "
                    "run after the search on the best candidates",
                    "softwareVersion": man.task_hash,
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
                graph.append(
                    {
                        "@id": f"#heldout-{record.id}",
                        "@type": "CreateAction",
                        "name": f"held-out evaluation of node {node.id} ({record.origin})",
                        "instrument": _ref("#heldout-evaluator"),
                        "object": [_ref(cand)] if code is not None else [],
                        "result": [_ref(res_id), *(_ref(e) for e in held_ev if e)],
                        "actionStatus": _ref(COMPLETED if record.valid else FAILED),
                        "endTime": _iso(record.created_at),
                    }
                )
                actions.append(f"#heldout-{record.id}")
            if not _evaluated(node):
                continue
            action: dict[str, Any] = {
                "@id": f"#evaluation-{node.id}",
                "@type": "CreateAction",
                "name": f"evaluate node {node.id}",
                "instrument": _ref("#evaluator"),
                "object": [_ref(cand)] if code is not None else [],
                "result": [_ref(res_id), *(_ref(e) for e in ev_ids)],
                "actionStatus": _ref(FAILED if node.failure_kind else COMPLETED),
            }
            if node.started_at:
                action["startTime"] = _iso(node.started_at)
            action["endTime"] = _iso(node.finished_at or node.started_at or node.created_at)
            if node.failure_kind:
                action["error"] = f"{node.failure_kind}: {node.failure_message or ''}".strip()
            graph.append(action)
            actions.append(action["@id"])
    for name in ("logic.yaml", "manifest.json", "reproduction.json"):
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, out / name)
            graph.append({"@id": name, "@type": "File", "name": name})
            files.append(name)
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"syslab run {man.run_id}",
        "description": f"Evolution run of task {man.task_name}: every candidate and its evaluation. "
        f"Scores {prov['verification_note']}.",
        "additionalProperty": [_ref("#scores-verified")],
        "datePublished": _iso(man.finished_at or man.created_at),
        "license": "https://spdx.org/licenses/CC-BY-4.0",
        "conformsTo": _ref(PROCESS_PROFILE),
        "hasPart": [_ref(f) for f in files],
        "mentions": [_ref(a) for a in actions],
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
            }
        )
        files.append(ev_id)
    return ev_id


def _refs(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v["@id"] for v in items if isinstance(v, dict) and "@id" in v]


def check_rocrate(crate_dir: str | Path) -> list[str]:
    """Problems with a crate: JSON-LD shape, dangling references, missing files, and the Process
    Run Crate profile's required properties. Empty when the crate is valid."""
    crate_dir = Path(crate_dir)
    try:
        doc = json.loads((crate_dir / METADATA_FILE).read_text())
    except (OSError, ValueError) as e:
        return [f"{METADATA_FILE}: unreadable ({e})"]
    problems: list[str] = []
    if doc.get("@context") != ROCRATE_CONTEXT:
        problems.append(f"@context is not {ROCRATE_CONTEXT}")
    graph = doc.get("@graph")
    if not isinstance(graph, list):
        return problems + ["@graph is not a list"]
    by_id: dict[str, dict] = {}
    for e in graph:
        if not isinstance(e, dict) or "@id" not in e or "@type" not in e:
            problems.append(f"entity without @id/@type: {str(e)[:80]}")
            continue
        if e["@id"] in by_id:
            problems.append(f"duplicate @id {e['@id']}")
        by_id[e["@id"]] = e
    for e in by_id.values():
        for key, value in e.items():
            for ref in _refs(value):
                if ref not in by_id and not ref.startswith(("http://", "https://")):
                    problems.append(f"{e['@id']}.{key} -> {ref}: no such entity")
        types = e["@type"] if isinstance(e["@type"], list) else [e["@type"]]
        if "File" in types and not (crate_dir / e["@id"]).is_file():
            problems.append(f"file {e['@id']} listed but not in the crate")
    desc = by_id.get(METADATA_FILE, {})
    if _refs(desc.get("about")) != ["./"] or ROCRATE_SPEC not in _refs(desc.get("conformsTo")):
        problems.append("metadata descriptor must be about ./ and conform to RO-Crate 1.1")
    root = by_id.get("./", {})
    if PROCESS_PROFILE not in _refs(root.get("conformsTo")):
        problems.append("root Data Entity does not conform to the Process Run Crate profile")
    for key in ("name", "description", "datePublished", "license"):
        if not root.get(key):
            problems.append(f"root Data Entity lacks {key}")
    mentioned = set(_refs(root.get("mentions")))
    for e in by_id.values():
        if e["@type"] != "CreateAction":
            continue
        aid = e["@id"]
        if aid not in mentioned:
            problems.append(f"{aid}: not in the root's mentions")
        inst = _refs(e.get("instrument"))
        if len(inst) != 1 or by_id.get(inst[0], {}).get("@type") != "SoftwareApplication":
            problems.append(f"{aid}: instrument must reference one SoftwareApplication")
        for key in ("object", "result", "endTime", "actionStatus", "name"):
            if key not in e:
                problems.append(f"{aid}: missing {key}")
        status = _refs(e.get("actionStatus"))
        if status not in ([COMPLETED], [FAILED]):
            problems.append(f"{aid}: actionStatus must be Completed or FailedActionStatus")
        if status == [FAILED] and not e.get("error"):
            problems.append(f"{aid}: failed action without error")
        for key in ("startTime", "endTime"):
            if key in e:
                try:
                    datetime.fromisoformat(e[key])
                except (TypeError, ValueError):
                    problems.append(f"{aid}: {key} is not ISO 8601")
    return problems
