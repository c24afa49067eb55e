"""The scientific-logic layer of a run artifact (logic.yaml), maintained live.

research question (from the task) -> hypotheses and dead ends (from the
analyst and failure clusters) -> decisions/pivots -> claims, each claim
linked to exploration nodes and to evidence blobs by sha256.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from syslab.agents.base import AnalysisNotes
from syslab.artifacts.schema import Node, NodeKind, NodeStatus

LOGIC_FILE = "logic.yaml"
Status = Literal["hypothesis", "supported", "refuted"]


class EvidenceRef(BaseModel):
    name: str  # e.g. "raw_metrics of node 12"
    sha256: str
    node_id: int | None = None


class Hypothesis(BaseModel):
    id: str
    statement: str
    status: Status = "hypothesis"
    source_node: int | None = None  # the analysis node that raised it
    node_ids: list[int] = Field(default_factory=list)


class DeadEnd(BaseModel):
    id: str
    idea: str
    node_ids: list[int] = Field(default_factory=list)
    source_node: int | None = None


class Decision(BaseModel):
    id: str
    kind: Literal["decision", "pivot"] = "decision"
    statement: str
    node_id: int | None = None
    at: float = 0.0


class Claim(BaseModel):
    id: str
    statement: str
    status: Status = "hypothesis"
    conditions: str = ""
    metric: str = ""
    value: float | None = None
    baseline: float | None = None
    node_ids: list[int] = Field(default_factory=list)
    evidence: list[EvidenceRef] = Field(default_factory=list)
    verified: str = ""  # how the status was last established (e.g. "reproduced 2/2 nodes, exact")
    # The numbers behind the claim, about node `subject` (checked against the store by review):
    # n measurements of `metric`, their mean and interval (None when measured once), and its
    # held-out value, gap and the task's tolerance (None when the task has no held-out split).
    subject: int | None = None
    n: int | None = None
    mean: float | None = None
    interval: list[float] | None = None
    heldout_value: float | None = None
    heldout_gap: float | None = None
    heldout_tolerance: float | None = None
    heldout_record: int | None = None  # row id in the store's heldout table


class LogicLayer(BaseModel):
    question: str
    task: str
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    dead_ends: list[DeadEnd] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    updated_at: float = 0.0


def logic_path(run_dir: Path) -> Path:
    return Path(run_dir) / LOGIC_FILE


# libyaml where installed: the file is rewritten at every analysis and grows with the run.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# The last layer this process saved, by path: re-read only when the file changed since.
_SAVED: dict[Path, tuple[tuple[int, int], LogicLayer]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def load_logic(run_dir: Path) -> LogicLayer | None:
    path = logic_path(run_dir)
    if not path.is_file():
        return None
    saved = _SAVED.get(path)
    if saved is not None and saved[0] == _stamp(path):
        return saved[1].model_copy(deep=True)
    return LogicLayer.model_validate(yaml.load(path.read_text(), Loader=_LOADER) or {})


def save_logic(run_dir: Path, logic: LogicLayer) -> None:
    logic.updated_at = time.time()
    path = logic_path(run_dir)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".logic-")
    with os.fdopen(fd, "w") as f:
        yaml.dump(logic.model_dump(mode="json"), f, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)
    _SAVED[path] = (_stamp(path), logic.model_copy(deep=True))


def start_logic(store: Any, task: Any) -> LogicLayer:
    logic = load_logic(store.run_dir) or LogicLayer(question=task.spec.description.strip(), task=task.name)
    save_logic(store.run_dir, logic)
    return logic


def add_analysis(store: Any, node: Node, notes: AnalysisNotes) -> LogicLayer:
    logic = load_logic(store.run_dir) or LogicLayer(question="", task="")
    for text in notes.hypotheses:
        logic.hypotheses.append(
            Hypothesis(id=f"H{len(logic.hypotheses) + 1}", statement=text, source_node=node.id)
        )
    for dead in notes.dead_ends:
        idea = str(dead.get("idea", "")).strip()
        ids = [
            int(i) for i in dead.get("node_ids", []) if isinstance(i, int | float | str) and str(i).isdigit()
        ]
        if idea:
            logic.dead_ends.append(
                DeadEnd(id=f"D{len(logic.dead_ends) + 1}", idea=idea, node_ids=ids, source_node=node.id)
            )
    named = {d.idea for d in logic.dead_ends}
    for kind, cluster in sorted(notes.failure_clusters.items()):
        idea = f"candidates failing with {kind}"
        ids = sorted({int(i) for i in cluster if isinstance(i, int)})
        if len(ids) >= 3 and idea not in named:
            logic.dead_ends.append(
                DeadEnd(id=f"D{len(logic.dead_ends) + 1}", idea=idea, node_ids=ids[:20], source_node=node.id)
            )
    if notes.guidance:
        logic.decisions.append(
            Decision(
                id=f"G{len(logic.decisions) + 1}", statement=notes.guidance, node_id=node.id, at=time.time()
            )
        )
    save_logic(store.run_dir, logic)
    return logic


def _evidence_for(node: Node) -> list[EvidenceRef]:
    return [
        EvidenceRef(name=f"{name} of node {node.id}", sha256=sha, node_id=node.id)
        for name, sha in node.evidence.items()
    ]


def conclude(store: Any, task: Any) -> LogicLayer:
    """Add (or refresh) the run's main claim: best candidate vs the seed on the task's workload."""
    return conclude_run(store, task.spec.description.strip(), task.name, task.primary_metric)


def conclude_run(store: Any, question: str, task_name: str, metric: str) -> LogicLayer:
    """`conclude` without a Task object (importers know only the question, task name and metric)."""
    logic = load_logic(store.run_dir) or LogicLayer(question=question, task=task_name)
    seeds = store.nodes(kind=NodeKind.seed)
    best = store.best_node()
    logic.claims = [c for c in logic.claims if c.id != "C-best"]
    if seeds and best is not None and seeds[0].status == NodeStatus.evaluated and metric in best.metrics:
        seed = seeds[0]
        base = seed.metrics.get(metric)
        value = best.metrics[metric]
        if best.id == seed.id:
            statement = f"No candidate improved on the seed's {metric} ({value:.6g})"
        else:
            rel = f" ({(value - base) / abs(base) * 100:+.2f}% vs the seed)" if base else ""
            statement = (
                f"Candidate {best.id} reaches {metric} = {value:.6g} against the seed's {base:.6g}{rel}"
            )
        logic.claims.insert(
            0,
            Claim(
                id="C-best",
                statement=statement,
                status="supported",
                conditions=f"task {task_name} evaluator as of task hash {store.manifest.task_hash[:12]}",
                metric=metric,
                value=value,
                baseline=base,
                node_ids=[seed.id, best.id] if best.id != seed.id else [seed.id],
                evidence=_evidence_for(best) + (_evidence_for(seed) if best.id != seed.id else []),
            ),
        )
    from syslab.artifacts.heldout_claims import attach_heldout, attach_numbers

    for claim in logic.claims:
        if claim.id == "C-best":
            claim.subject = best.id if best is not None else None
            attach_numbers(claim, best)
    attach_heldout(logic, store)
    _add_failure_dead_ends(store, logic)
    _refresh_lineage_pivots(store, logic)
    save_logic(store.run_dir, logic)
    return logic


def _add_failure_dead_ends(store: Any, logic: LogicLayer) -> None:
    """Failure clusters (>= 3 nodes of one kind) become dead ends when no analyst has named them."""
    counts = store.failure_counts()
    named = {d.idea for d in logic.dead_ends}
    for kind, n in sorted(counts.items()):
        idea = f"candidates failing with {kind}"
        if n >= 3 and idea not in named:
            ids = [x.id for x in store.nodes() if x.failure_kind == kind][:20]
            logic.dead_ends.append(DeadEnd(id=f"D{len(logic.dead_ends) + 1}", idea=idea, node_ids=ids))


def _ancestors(parents: dict[int, int | None], node_id: int) -> set[int]:
    seen: set[int] = set()
    cur = parents.get(node_id)
    while cur is not None and cur not in seen:
        seen.add(cur)
        cur = parents.get(cur)
    return seen


def best_lineage_pivots(store: Any) -> list[Decision]:
    """Every time the running best moved to a node that does not descend from the previous best,
    the search changed line (another lineage or island): a pivot. In record order (finished_at)."""
    nodes = [n for n in store.nodes() if n.kind != NodeKind.analysis]
    parents = {n.id: n.parent_id for n in nodes}
    ordered = sorted(
        (n for n in nodes if n.valid and n.score is not None and n.status == NodeStatus.evaluated),
        key=lambda n: (n.finished_at or n.created_at or 0.0, n.id),
    )
    pivots: list[Decision] = []
    best: Node | None = None
    for n in ordered:
        if best is not None and n.score is not None and best.score is not None and n.score > best.score:
            if best.id not in _ancestors(parents, n.id):
                where = f" (island {best.island} -> {n.island})" if n.island != best.island else ""
                pivots.append(
                    Decision(
                        id=f"P{len(pivots) + 1}",
                        kind="pivot",
                        statement=(
                            f"The best line moved from node {best.id} to node {n.id}, which does not "
                            f"descend from it{where}"
                        ),
                        node_id=n.id,
                        at=n.finished_at or n.created_at or 0.0,
                    )
                )
        if best is None or (n.score is not None and best.score is not None and n.score > best.score):
            best = n
    return pivots


def _refresh_lineage_pivots(store: Any, logic: LogicLayer) -> None:
    keep = [d for d in logic.decisions if not (d.kind == "pivot" and d.id.startswith("P"))]
    logic.decisions = keep + best_lineage_pivots(store)


def note_new_best(store: Any, node: Node, previous: Node | None) -> LogicLayer | None:
    """Cheap hook for the run loop when a new best is found: record a pivot when the new best does
    not descend from the previous one (O(depth) parent walk; one YAML write)."""
    if previous is None or previous.id == node.id:
        return None
    cur, seen = node.parent_id, set()
    while cur is not None and cur not in seen:
        if cur == previous.id:
            return None  # same line: an improvement, not a pivot
        seen.add(cur)
        cur = store.get_node(cur).parent_id
    logic = load_logic(store.run_dir) or LogicLayer(question="", task="")
    n = sum(1 for d in logic.decisions if d.kind == "pivot" and d.id.startswith("P")) + 1
    where = f" (island {previous.island} -> {node.island})" if node.island != previous.island else ""
    logic.decisions.append(
        Decision(
            id=f"P{n}",
            kind="pivot",
            statement=(
                f"The best line moved from node {previous.id} to node {node.id}, which does not "
                f"descend from it{where}"
            ),
            node_id=node.id,
            at=time.time(),
        )
    )
    save_logic(store.run_dir, logic)
    return logic
