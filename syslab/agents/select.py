"""Build the agents a run uses: proposer (LLM, local model, replay or offline) and analyst."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syslab.config import RunConfig
from syslab.task import Task


@dataclass
class Agents:
    kind: str  # llm | local | mutate | replay
    reason: str
    proposer: Any
    analyst: Any
    usage: Any = None  # callable -> {model: {"tokens": int, "cost_usd": float, "calls": int}}
    closers: tuple = ()  # things to stop at the end of the run (a local model server)

    def close(self) -> None:
        for c in self.closers:
            c()


def build_agents(config: RunConfig, task: Task, resume_store: Any = None) -> Agents:
    from syslab.agents.offline import OfflineProposer

    mode = config.proposer
    if mode == "mutate":
        return Agents("mutate", "offline mutator requested", OfflineProposer(), _heuristic_analyst())
    from syslab.agents.wiring import build_llm_agents

    return build_llm_agents(config, task, resume_store)


def _heuristic_analyst() -> Any:
    from syslab.agents.reflector import HeuristicAnalyst

    return HeuristicAnalyst()
