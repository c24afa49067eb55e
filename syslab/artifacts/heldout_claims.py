"""Claims against held-out data: the best candidate's claim carries its held-out score and gap,
and a candidate that overfit the search data becomes a refuted claim and a dead end.

Every number written here comes from the store (node metrics, repeated measurements, held-out
rows), so `syslab review` can recompute each one (see review_numbers.py).
"""

from __future__ import annotations

from typing import Any

from syslab.artifacts.claim_numbers import measured
from syslab.artifacts.heldout_rows import HeldoutRecord, latest_heldout
from syslab.artifacts.logic import Claim, DeadEnd, EvidenceRef, LogicLayer
from syslab.artifacts.schema import Node

HELDOUT_DEAD_END = "D-heldout-"  # id prefix of the dead ends this module writes (and rewrites)


def attach_numbers(claim: Claim, node: Node | None) -> None:
    """n, mean and interval of the claim's metric on its subject node."""
    m = measured(node, claim.metric) if node is not None and claim.metric else None
    claim.n = m.n if m else None
    claim.mean = m.mean if m else None
    claim.interval = m.interval if m else None


def heldout_evidence(record: HeldoutRecord) -> list[EvidenceRef]:
    return [
        EvidenceRef(name=f"held-out {name} of node {record.node_id}", sha256=sha, node_id=record.node_id)
        for name, sha in record.evidence.items()
    ]


def _records(store: Any) -> dict[int, HeldoutRecord]:
    return latest_heldout(store.heldout()) if hasattr(store, "heldout") else {}


def attach_heldout(logic: LogicLayer, store: Any) -> None:
    """Put the latest held-out numbers on each claim about a node that has them; refute a claim
    whose node overfit (gap beyond tolerance, or held-out no better than the seed it claims to
    beat); write one dead end per overfit candidate. A no-op for a run without held-out rows."""
    records = _records(store)
    logic.dead_ends = [d for d in logic.dead_ends if not d.id.startswith(HELDOUT_DEAD_END)]
    if not records:
        return
    for claim in logic.claims:
        record = records.get(claim.subject) if claim.subject is not None else None
        if record is None:
            continue
        claim.heldout_value = record.heldout_value
        claim.heldout_gap = record.gap
        claim.heldout_tolerance = record.tolerance
        claim.heldout_record = record.id
        known = {e.sha256 for e in claim.evidence}
        claim.evidence += [e for e in heldout_evidence(record) if e.sha256 not in known]
        reason = _refutation(claim, record, records)
        # Another check's word (e.g. `syslab reproduce`) is kept before the held-out one.
        earlier = claim.verified.split(" | held-out evaluation: ")[0]
        earlier = "" if earlier.startswith("held-out evaluation: ") else earlier
        if reason:
            claim.status = "refuted"
            held = f"held-out evaluation: {reason}"
        else:
            if earlier == "" and claim.status == "refuted":  # refuted by an older held-out verdict
                claim.status = "supported"
            held = f"held-out evaluation: {record.describe()}, within tolerance"
        claim.verified = f"{earlier} | {held}" if earlier else held
    for record in sorted(records.values(), key=lambda r: r.node_id):
        if record.overfit:
            logic.dead_ends.append(
                DeadEnd(
                    id=f"{HELDOUT_DEAD_END}{record.node_id}",
                    idea=f"overfit to the search data: {record.describe()}",
                    node_ids=[record.node_id],
                )
            )


def _refutation(claim: Claim, record: HeldoutRecord, records: dict[int, HeldoutRecord]) -> str:
    if record.overfit:
        return f"{record.describe()}, beyond tolerance"
    baseline_id = next((i for i in claim.node_ids if i != claim.subject), None)
    base = records.get(baseline_id) if baseline_id is not None else None
    if base is None or base.heldout_value is None or record.heldout_value is None:
        return ""
    # The claim says the subject beats the baseline: it must on held-out data too.
    if record.score is not None and base.score is not None and record.score <= base.score:
        return (
            f"{record.describe()}; held-out it does not beat node {base.node_id} "
            f"({base.heldout_value:.6g}), which the claim says it improves on"
        )
    return ""
