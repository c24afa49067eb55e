"""`syslab review`'s check that every number a claim states is the number the store holds.

A claim about node `subject` states its metric's value (and the baseline's), n, mean and interval
of its measurements, and its held-out value, gap and tolerance. Each is recomputed from the
store (node metrics, repeated measurements, held-out rows); a hand-edited or stale number fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syslab.artifacts.claim_numbers import measured, same_number
from syslab.artifacts.heldout_rows import latest_heldout
from syslab.artifacts.logic import Claim, load_logic
from syslab.artifacts.schema import Node

NAME = "claim numbers match the evidence"


def _fmt(v: object) -> str:
    return "none" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))


def _differs(problems: list[str], claim: Claim, field: str, stated: object, actual: object) -> None:
    if isinstance(stated, list) or isinstance(actual, list):
        same = (stated is None) == (actual is None) and (
            stated is None
            or (
                len(stated) == len(actual)
                and all(same_number(a, b) for a, b in zip(stated, actual, strict=True))
            )  # type: ignore[arg-type]
        )
    elif isinstance(stated, (int, float)) or isinstance(actual, (int, float)):
        same = same_number(
            None if stated is None else float(stated), None if actual is None else float(actual)
        )  # type: ignore[arg-type]
    else:
        same = stated == actual
    if not same:
        problems.append(f"claim {claim.id}: states {field} = {_fmt(stated)}, the store has {_fmt(actual)}")


def claim_problems(claim: Claim, nodes: dict[int, Node], heldout: dict[int, Any]) -> list[str]:
    problems: list[str] = []
    if claim.subject is None or not claim.metric:
        return problems
    node = nodes.get(claim.subject)
    if node is None:
        return [f"claim {claim.id}: subject node {claim.subject} does not exist"]
    _differs(problems, claim, "value", claim.value, node.metrics.get(claim.metric))
    base_id = next((i for i in claim.node_ids if i != claim.subject), claim.subject)
    if claim.baseline is not None and base_id in nodes:
        _differs(problems, claim, "baseline", claim.baseline, nodes[base_id].metrics.get(claim.metric))
    m = measured(node, claim.metric)
    if claim.n is not None or m is not None:
        _differs(problems, claim, "n", claim.n, m.n if m else None)
        _differs(problems, claim, "mean", claim.mean, m.mean if m else None)
        _differs(problems, claim, "interval", claim.interval, m.interval if m else None)
    record = heldout.get(claim.subject)
    if record is None:
        if claim.heldout_value is not None or claim.heldout_record is not None:
            problems.append(f"claim {claim.id}: states a held-out score the store does not hold")
        return problems
    if claim.heldout_record is None:
        problems.append(f"claim {claim.id}: node {claim.subject} was scored held-out, the claim omits it")
        return problems
    _differs(problems, claim, "heldout_record", claim.heldout_record, record.id)
    _differs(problems, claim, "heldout_value", claim.heldout_value, record.heldout_value)
    _differs(problems, claim, "heldout_gap", claim.heldout_gap, record.gap)
    _differs(problems, claim, "heldout_tolerance", claim.heldout_tolerance, record.tolerance)
    if record.overfit and claim.status != "refuted":
        problems.append(f"claim {claim.id}: {claim.status}, but held-out it overfits ({record.describe()})")
    return problems


def check_claim_numbers(run_dir: Path, store: Any, nodes: dict[int, Node]) -> Any:
    from syslab.artifacts.review import Check, _check

    logic = load_logic(run_dir)
    if logic is None:
        return Check(name=NAME, status="fail", details="no logic.yaml")
    heldout = latest_heldout(store.heldout())
    problems = [p for claim in logic.claims for p in claim_problems(claim, nodes, heldout)]
    stated = sum(1 for c in logic.claims if c.subject is not None)
    with_heldout = sum(1 for c in logic.claims if c.heldout_record is not None)
    return _check(
        NAME, problems, f"{stated} claims with numbers ({with_heldout} held-out), all match the store"
    )
