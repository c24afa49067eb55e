"""Structural checks of an RO-Crate written by `export_rocrate` (no network, no extra packages):
JSON-LD shape, dangling references, listed files present, and the Process Run Crate profile's
required properties. roc-validator is the full check (see tests/artifacts/test_export_rocrate_validator.py);
this one runs everywhere, so `syslab` and its tests can check a crate without it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

METADATA_FILE = "ro-crate-metadata.json"
ROCRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
ROCRATE_SPEC = "https://w3id.org/ro/crate/1.1"
PROCESS_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"


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
        # The profile's shape lists the two statuses as strings; a {"@id": ...} is read too.
        raw_status = e.get("actionStatus")
        status = [raw_status] if isinstance(raw_status, str) else _refs(raw_status)
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
