"""Pydantic records of the run artifact (the rows of syslab.db and manifest.json)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, model_validator


class NodeKind(str, Enum):
    seed = "seed"
    candidate = "candidate"
    analysis = "analysis"  # an analyst (reflection) note


class NodeStatus(str, Enum):
    pending = "pending"  # proposed, not yet evaluated
    running = "running"  # handed to an evaluator
    evaluated = "evaluated"  # evaluation finished (valid or not)
    failed = "failed"  # failed before or during evaluation
    interrupted = "interrupted"  # the run died while it was in flight


class EdgeKind(str, Enum):
    parent = "parent"
    inspiration = "inspiration"
    crossover = "crossover"
    analysis_of = "analysis_of"  # analysis node -> candidate it discusses
    guides = "guides"  # analysis node -> candidate proposed with its guidance


class Node(BaseModel):
    id: int
    kind: NodeKind = NodeKind.candidate
    status: NodeStatus = NodeStatus.pending
    parent_id: int | None = None
    island: int = 0
    generation: int = 0
    operator: str = ""  # how it was made: seed, mutate:constant, crossover, llm:diff, ...
    commit: str | None = None  # git commit sha in code.git
    code_sha: str | None = None  # sha256 of the program text (normalised), for dedup
    score: float | None = None  # primary metric, higher is better
    valid: bool = False
    stage: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    failure_kind: str | None = None
    failure_message: str | None = None
    evidence: dict[str, str] = Field(default_factory=dict)  # name -> sha256 blob
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    model: str | None = None  # LLM that proposed it, if any
    note: str = ""  # short human summary (e.g. the mutation applied)
    data: dict[str, Any] = Field(default_factory=dict)  # kind-specific payload (analysis notes, features)


class Edge(BaseModel):
    src: int
    dst: int
    kind: EdgeKind = EdgeKind.parent


class LLMCall(BaseModel):
    id: int | None = None
    node_id: int | None = None
    role: str = "proposer"  # proposer | analyst
    model: str
    prompt_sha: str  # evidence blob holding the request messages (JSON)
    response_sha: str | None = None  # evidence blob holding the raw response text
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    error: str | None = None
    attempts: int = 1
    # One reason per failed attempt (a 429, a timeout), kept when a later attempt succeeded too.
    attempt_errors: list[str] = Field(default_factory=list)
    created_at: float = 0.0


class Manifest(BaseModel):
    """manifest.json: what is needed to understand and re-run the run."""

    syslab_version: str
    run_id: str
    task_name: str
    task_dir: str
    task_hash: str
    seed: int
    config: dict[str, Any]
    platform: dict[str, str]
    isolation: dict[str, bool | str]
    proposer: str = "mutate"
    created_at: float
    status: str = "running"  # running | finished | failed (nothing was evaluated) | interrupted
    stop_reason: str = ""  # why the search stopped: a budget (evaluations, wall_time, ...) or the failure
    finished_at: float | None = None
    # How scores were computed: split | shared | imported (another framework's run) | unknown
    # (recorded before this field existed; those runs used shared-mode evaluators). The defaults
    # keep old manifests loading, as unverified: nothing in them shows the scores were trusted.
    evaluation_mode: str = "unknown"
    verified: bool = False

    @model_validator(mode="after")
    def _only_split_is_verified(self) -> Manifest:
        # Only a split evaluation keeps the candidate out of the scorer's process; a hand-edited
        # `verified: true` on any other mode does not make its scores trustworthy.
        if self.verified and self.evaluation_mode != "split":
            self.verified = False
        return self
