"""Contracts between the run loop and the agents (proposers and the analyst).

A proposer is deterministic given its request (the request carries the
seed drawn from the run's RNG), so a run can be resumed and replayed.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from syslab.evaluators.base import Failure


class CandidateView(BaseModel):
    """What an agent may see of a recorded candidate."""

    node_id: int
    code: str
    score: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    valid: bool = False
    failure_kind: str | None = None
    failure_message: str | None = None
    stderr_tail: str = ""  # last lines of stderr/traceback, for feedback
    operator: str = ""
    island: int = 0
    parent_id: int | None = None  # lets the analyst tell improvements from regressions
    parent_score: float | None = None


class ProposalRequest(BaseModel):
    task_name: str
    task_description: str
    primary_metric: str
    metric_directions: dict[str, str]  # metric -> "maximize" | "minimize"
    metric_units: dict[str, str] = Field(default_factory=dict)  # metric -> unit (task.toml), "" if none
    parent: CandidateView
    inspirations: list[CandidateView] = Field(default_factory=list)
    recent_failures: list[CandidateView] = Field(default_factory=list)
    notes: str = ""  # the analyst's current guidance
    seed: int = 0
    attempt: int = 0  # > 0 when re-asked after a duplicate


class Proposal(BaseModel):
    """A proposed program, or a recorded failure to make one."""

    code: str | None = None  # full program text (None when the proposal failed)
    operator: str = ""  # e.g. mutate:constant, crossover, llm:diff, llm:rewrite
    note: str = ""  # one-line description of the change
    failure: Failure | None = None  # malformed_response / patch_failed / llm_error
    model: str | None = None
    llm_call_ids: list[int] = Field(default_factory=list)
    inspiration_ids: list[int] = Field(default_factory=list)  # candidates it drew from
    raw_response: str | None = None
    cost_usd: float = 0.0  # LLM spend for this proposal (feeds the model bandit)
    tokens: int = 0


class Proposer(Protocol):
    name: str

    def propose(self, request: ProposalRequest) -> Proposal: ...


class AnalysisRequest(BaseModel):
    task_name: str
    task_description: str
    primary_metric: str
    metric_directions: dict[str, str] = Field(default_factory=dict)  # as in ProposalRequest
    metric_units: dict[str, str] = Field(default_factory=dict)
    recent: list[CandidateView]  # the candidates since the last analysis, in order
    best: CandidateView | None = None
    failure_counts: dict[str, int] = Field(default_factory=dict)
    previous_notes: str = ""
    seed: int = 0


class AnalysisNotes(BaseModel):
    """The analyst's structured notes; recorded as an analysis node."""

    hypotheses: list[str] = Field(default_factory=list)
    dead_ends: list[dict[str, Any]] = Field(default_factory=list)  # {"idea": str, "node_ids": [int]}
    improvements: list[int] = Field(default_factory=list)  # node ids that improved on their parent
    regressions: list[int] = Field(default_factory=list)
    failure_clusters: dict[str, list[int]] = Field(default_factory=dict)  # kind -> node ids
    guidance: str = ""  # fed back to the proposer
    model: str | None = None
    llm_call_ids: list[int] = Field(default_factory=list)
    error: str | None = None  # why the LLM's notes were not usable (heuristic notes were used)


class Analyst(Protocol):
    name: str

    def analyse(self, request: AnalysisRequest) -> AnalysisNotes: ...
