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


def load_logic(run_dir: Path) -> LogicLayer | None:
    path = logic_path(run_dir)
    if not path.is_file():
        return None
    return LogicLayer.model_validate(yaml.safe_load(path.read_text()) or {})


def save_logic(run_dir: Path, logic: LogicLayer) -> None:
    logic.updated_at = time.time()
    path = logic_path(run_dir)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".logic-")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(logic.model_dump(mode="json"), f, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)


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
    logic = load_logic(store.run_dir) or LogicLayer(question=task.spec.description.strip(), task=task.name)
    metric = task.primary_metric
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
        logic.claims.append(
            Claim(
                id="C-best",
                statement=statement,
                status="supported",
                conditions=f"task {task.name} evaluator as of task hash {store.manifest.task_hash[:12]}",
                metric=metric,
                value=value,
                baseline=base,
                node_ids=[seed.id, best.id] if best.id != seed.id else [seed.id],
                evidence=_evidence_for(best) + (_evidence_for(seed) if best.id != seed.id else []),
            )
        )
    # Failure clusters become dead ends when no analyst has named them.
    counts = store.failure_counts()
    named = {d.idea for d in logic.dead_ends}
    for kind, n in sorted(counts.items()):
        idea = f"candidates failing with {kind}"
        if n >= 3 and idea not in named:
            ids = [x.id for x in store.nodes() if x.failure_kind == kind][:20]
            logic.dead_ends.append(DeadEnd(id=f"D{len(logic.dead_ends) + 1}", idea=idea, node_ids=ids))
    save_logic(store.run_dir, logic)
    return logic
