"""`syslab review RUN`: objective checks that a run artifact is what it says it is.

Each check reads the artifact (read-only) and returns pass / warn / fail with details:
claims resolve to evidence whose bytes still hash to their name, and the numbers they state
(value, n, mean, interval, held-out score and gap) are the store's (review_numbers.py); the exploration graph is
acyclic and every candidate has an evaluation or a failure; the best candidate's code is the
committed code; dead ends are present and linked to existing nodes; the manifest records the
environment and config; the scores were computed with the candidate outside the scorer's process
(a warning, not a failure, when they were not). A run fails review when any check fails.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import networkx as nx
from pydantic import BaseModel, Field

from syslab.artifacts.logic import load_logic
from syslab.artifacts.provenance import verification_note
from syslab.artifacts.schema import Node, NodeKind, NodeStatus
from syslab.artifacts.store import EVIDENCE_DIR, RunStore
from syslab.errors import SyslabError

CheckStatus = Literal["pass", "warn", "fail"]
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_DETAILS = 6  # problems listed per check; the count says how many there were


class Check(BaseModel):
    name: str
    status: CheckStatus
    details: str = ""
    problems: list[str] = Field(default_factory=list)


class ReviewReport(BaseModel):
    run_dir: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)


def _check(name: str, problems: list[str], ok_details: str, warn: bool = False) -> Check:
    if not problems:
        return Check(name=name, status="pass", details=ok_details)
    shown = "; ".join(problems[:_MAX_DETAILS])
    more = f" (+{len(problems) - _MAX_DETAILS} more)" if len(problems) > _MAX_DETAILS else ""
    return Check(name=name, status="warn" if warn else "fail", details=shown + more, problems=problems)


def _blob_file(run_dir: Path, sha: str) -> Path:
    return run_dir / EVIDENCE_DIR / sha[:2] / sha[2:]


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_evidence_integrity(run_dir: Path) -> Check:
    """Every evidence file's bytes hash to its name (a tampered or truncated blob fails)."""
    root = run_dir / EVIDENCE_DIR
    problems, n = [], 0
    for path in sorted(root.glob("??/*")):
        if path.name.startswith("."):
            continue
        n += 1
        sha = path.parent.name + path.name
        if not _SHA256.fullmatch(sha):
            problems.append(f"{path.relative_to(run_dir)}: not a sha256 blob name")
        elif _hash_file(path) != sha:
            problems.append(f"blob {sha[:12]}: content does not match its sha256 (tampered)")
    return _check("evidence integrity", problems, f"{n} blobs re-hashed, all match")


def check_claims(run_dir: Path, nodes: dict[int, Node]) -> Check:
    """Every claim names existing nodes and at least one evidence blob that exists and matches."""
    logic = load_logic(run_dir)
    if logic is None:
        return Check(name="claims resolve to evidence", status="fail", details="no logic.yaml")
    problems = []
    for claim in logic.claims:
        if not claim.evidence:
            problems.append(f"claim {claim.id}: no evidence")
        for ref in claim.evidence:
            path = _blob_file(run_dir, ref.sha256) if _SHA256.fullmatch(ref.sha256) else None
            if path is None or not path.is_file():
                problems.append(f"claim {claim.id}: evidence {ref.sha256[:12]} ({ref.name}) missing")
            elif _hash_file(path) != ref.sha256:
                problems.append(f"claim {claim.id}: evidence {ref.sha256[:12]} does not match its sha256")
            if ref.node_id is not None and ref.node_id not in nodes:
                problems.append(f"claim {claim.id}: evidence names node {ref.node_id}, which does not exist")
        for nid in claim.node_ids:
            if nid not in nodes:
                problems.append(f"claim {claim.id}: node {nid} does not exist")
    if not logic.claims:
        return Check(name="claims resolve to evidence", status="warn", details="logic.yaml has no claims")
    return _check(
        "claims resolve to evidence", problems, f"{len(logic.claims)} claims, every evidence ref resolves"
    )


def check_graph(store: RunStore, nodes: dict[int, Node]) -> Check:
    """The exploration graph is a DAG, edges and parent links name existing nodes."""
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    problems = []
    for e in store.edges():
        if e.src not in nodes or e.dst not in nodes:
            problems.append(f"edge {e.src}->{e.dst} ({e.kind.value}) names a missing node")
        G.add_edge(e.src, e.dst)
    for n in nodes.values():
        if n.parent_id is not None:
            if n.parent_id not in nodes:
                problems.append(f"node {n.id}: parent {n.parent_id} does not exist")
            else:
                G.add_edge(n.parent_id, n.id)
    if not nx.is_directed_acyclic_graph(G):
        cycle = nx.find_cycle(G)
        problems.append("cycle: " + " -> ".join(str(a) for a, _ in cycle) + f" -> {cycle[0][0]}")
    return _check(
        "graph acyclic", problems, f"{G.number_of_nodes()} nodes, {G.number_of_edges()} edges, no cycle"
    )


def check_evaluations(nodes: dict[int, Node], run_status: str) -> Check:
    """Every seed/candidate node has an evaluation (evaluated, with a score or metrics) or a failure."""
    problems = []
    in_flight = 0
    for n in nodes.values():
        if n.kind == NodeKind.analysis:
            continue
        has_eval = n.status == NodeStatus.evaluated and (n.score is not None or n.metrics or not n.valid)
        has_failure = bool(n.failure_kind)
        if has_eval or has_failure:
            continue
        if n.status in (NodeStatus.pending, NodeStatus.running) and run_status == "running":
            in_flight += 1
            continue
        problems.append(f"node {n.id} ({n.status.value}): neither an evaluation nor a failure")
    candidates = sum(1 for n in nodes.values() if n.kind != NodeKind.analysis)
    check = _check(
        "every candidate evaluated or failed", problems, f"{candidates} candidates, all accounted for"
    )
    if not problems and in_flight:
        check.status, check.details = "warn", f"{in_flight} candidates still in flight (run is running)"
    return check


def check_best_code(store: RunStore) -> Check:
    """The best candidate's code in code.git hashes to its recorded code_sha, and main points at it."""
    best = store.best_node()
    if best is None:
        return Check(name="best code committed", status="warn", details="no valid candidate")
    problems = []
    if not best.commit:
        problems.append(f"best node {best.id} has no commit")
    else:
        try:
            code = store.get_code(best.id)
        except (SyslabError, OSError, ValueError) as e:
            code = None
            problems.append(f"best node {best.id}: commit {best.commit[:12]} unreadable ({e})")
        if code is not None and best.code_sha:
            got = hashlib.sha256(code.encode("utf-8")).hexdigest()
            if got != best.code_sha:
                problems.append(
                    f"best node {best.id}: committed code hashes to {got[:12]}, recorded {best.code_sha[:12]}"
                )
        elif code is not None and not best.code_sha:
            problems.append(f"best node {best.id}: no recorded code_sha to compare")
    return _check("best code committed", problems, f"node {best.id}: commit {str(best.commit)[:12]} matches")


def check_dead_ends(run_dir: Path, nodes: dict[int, Node]) -> Check:
    """Dead ends are recorded when there were failures, and each links to existing nodes."""
    logic = load_logic(run_dir)
    failures = sum(1 for n in nodes.values() if n.failure_kind)
    if logic is None:
        return Check(name="dead ends linked", status="fail", details="no logic.yaml")
    problems = []
    for d in logic.dead_ends:
        if not d.node_ids:
            problems.append(f"dead end {d.id}: links no node")
        for nid in d.node_ids:
            if nid not in nodes:
                problems.append(f"dead end {d.id}: node {nid} does not exist")
        if d.source_node is not None and d.source_node not in nodes:
            problems.append(f"dead end {d.id}: source node {d.source_node} does not exist")
    if failures >= 3 and not logic.dead_ends:
        problems.append(f"{failures} failed candidates but no dead end recorded")
    detail = f"{len(logic.dead_ends)} dead ends, all linked" if logic.dead_ends else "no failures to explain"
    return _check("dead ends linked", problems, detail)


def check_manifest(store: RunStore) -> Check:
    """The manifest records what is needed to re-run: version, platform, config, seed, task hash, isolation."""
    try:
        man = store.manifest
    except SyslabError as e:
        return Check(name="environment recorded", status="fail", details=str(e))
    problems = []
    if not man.syslab_version:
        problems.append("syslab_version empty")
    if not man.platform.get("python"):
        problems.append("platform.python missing")
    if not man.config:
        problems.append("config empty")
    if not _SHA256.fullmatch(man.task_hash or ""):
        problems.append("task_hash is not a sha256")
    if not man.isolation:
        problems.append("isolation empty")
    detail = f"syslab {man.syslab_version}, python {man.platform.get('python')}, seed {man.seed}"
    return _check("environment recorded", problems, detail)


def check_verified(store: RunStore) -> Check:
    """A finding, not an error: a shared-mode or imported run's scores could have been written by
    the candidate itself, so a reader should know before trusting them."""
    try:
        man = store.manifest
    except SyslabError as e:
        return Check(name="scores verified", status="fail", details=str(e))
    note = verification_note(man)
    return Check(name="scores verified", status="pass" if man.verified else "warn", details=note)


def review_run(run_dir: str | Path) -> ReviewReport:
    """Run every check on the artifact at `run_dir` (opened read-only)."""
    from syslab.artifacts.review_numbers import check_claim_numbers

    run_dir = Path(run_dir)
    store = RunStore.open(run_dir, readonly=True)
    try:
        nodes = {n.id: n for n in store.nodes()}
        status = store.manifest.status
        checks = [
            check_claims(run_dir, nodes),
            check_claim_numbers(run_dir, store, nodes),
            check_evidence_integrity(run_dir),
            check_graph(store, nodes),
            check_evaluations(nodes, status),
            check_best_code(store),
            check_dead_ends(run_dir, nodes),
            check_manifest(store),
            check_verified(store),
        ]
    finally:
        store.close()
    return ReviewReport(run_dir=str(run_dir), checks=checks)


def print_review(console: object, report: ReviewReport) -> None:
    """Render the report as a rich table: check | status | details."""
    from rich.table import Table

    from syslab.cli.terminal import safe

    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    # Details quote the artifact (claim ids, exception text): escaped for the terminal.
    table = Table("check", "status", "details", title=f"review of {safe(report.run_dir)}")
    for c in report.checks:
        table.add_row(safe(c.name), f"[{colour[c.status]}]{c.status}[/]", safe(c.details))
    console.print(table)  # type: ignore[attr-defined]
    verdict = "[green]review passed[/]" if report.ok else "[red]review failed[/]"
    console.print(verdict)  # type: ignore[attr-defined]
