"""What a run returns (RunResult): its best, the budget used, why it stopped, spend and held-out
results; `syslab run` and `syslab resume` print it (syslab.cli.views.print_run_result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunResult:
    run_dir: Path
    run_id: str
    best_node_id: int | None
    best_score: float | None
    best_metrics: dict[str, float]
    seed_score: float | None
    evaluations: int  # evaluations recorded, the seed's included: what the budget counts
    nodes: int
    failures: dict[str, int]
    stop_reason: str
    wall_s: float
    proposer: str
    history: list[tuple[int, float | None, float | None]] = field(default_factory=list)
    spend: dict[str, dict[str, float]] = field(default_factory=dict)
    verified: bool = False  # the manifest's: True only for a split-mode run (see syslab.artifacts.provenance)
    attempts: int = 0  # proposals asked of the proposer, including those that yielded nothing to evaluate
    heldout: list[Any] = field(default_factory=list)  # HeldoutRecords of the top-k (syslab.engine.heldout)
    # Why the run produced nothing to evaluate (every proposal failed: an LLM endpoint that was
    # down, a proposer that never parses); "" for a run that evaluated candidates.
    failed: str = ""
    # The primary metric, so that scores are shown in its own terms (a minimised one is negated).
    primary: str = ""
    direction: str = "maximize"
    unit: str = ""
