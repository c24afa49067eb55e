"""The pipeline's unit of work (a slot: one attempt) and the loop's counters.

Randomness is derived per slot from (run seed, slot index), so the slot
counter is the only RNG state a run has to checkpoint.
"""

from __future__ import annotations

import random
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from syslab.agents.base import Proposal
from syslab.artifacts.schema import Node
from syslab.evaluators.base import EvaluationResult


def slot_rng(seed: int, index: int) -> random.Random:
    """Independent, reproducible randomness for slot `index` of a run."""
    return random.Random(f"syslab:{seed}:{index}")


@dataclass
class Slot:
    index: int
    parent_id: int
    island: int
    inspiration_ids: list[int]
    attempt: int = 0
    proposal: Future[Proposal] | None = None
    node: Node | None = None  # set once applied and recorded as running
    evaluation: Future[EvaluationResult] | None = None
    finished: bool = False  # recorded as failed before evaluation
    requeued_code: str | None = None  # resume: an interrupted candidate evaluated again


def done_future(value: Any) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f


@dataclass
class LoopCounters:
    slots: int = 0  # slot indices handed out (the RNG state)
    evaluations: int = 0  # evaluations recorded (seed included)
    submitted: int = 0  # evaluations submitted (seed included)
    attempts: int = 0  # proposals made (failed ones too)
    since_analysis: int = 0
    last_checkpoint: int = 0  # node id the population checkpoint covers up to
    repeats: int = 0  # evaluations spent re-measuring for noise-aware promotion (in `evaluations` too)

    def to_state(self) -> dict[str, int]:
        return dict(self.__dict__)
