"""Held-out evaluation for bin packing: five other Weibull instances of the same size.

The same generator and scoring as evaluate.py, on instance seeds the search never used. Like the
search seeds they are secret (this file is on the trusted side). syslab runs this only after the
search ends, on the best candidates, to show whether their gains are the workload's or the seeds'.
"""

from __future__ import annotations

from typing import Any

from evaluate import ITEMS_PER_INSTANCE, evaluate

from syslab.evaluators.handle import Candidate

HELDOUT_SEEDS = (
    0x883C305E2ED2ACE6DDEF62A0B2E4C1C1,
    0x9E1B83A1B609FFFE739668C9916D1C1E,
    0x7BF63A5B5B639E674A179B27B9E585FC,
    0xE6344652C0D6F74347119493A0FEE42E,
    0xD913ED07257B0FE6D2B3F2B02E0655CB,
)


def evaluate_heldout(candidate: Candidate) -> dict[str, Any]:
    return evaluate(candidate, seeds=HELDOUT_SEEDS, n_items=ITEMS_PER_INSTANCE)
