"""logic/claims.md of the ARA export: each claim of the run's logic layer as a `## C<n>:` block
(statement without run numbers, conditions, the numbers logic.yaml states, status, falsification,
proof, evidence), and the held-out cells of the candidates table.
"""

from __future__ import annotations

from typing import Any

from syslab.artifacts.heldout_rows import HeldoutRecord
from syslab.artifacts.logic import Claim, LogicLayer
from syslab.artifacts.provenance import verification_note
from syslab.artifacts.schema import Node


def claim_ids(logic: LogicLayer) -> dict[str, str]:
    return {c.id: f"C{i + 1:02d}" for i, c in enumerate(logic.claims)}


def _claim_statement(c: Claim, best: Node | None, seed: Node | None, proposer: str) -> str:
    """A claim's takeaway without run numbers (those live in Evidence basis)."""
    if c.id == "C-best" and best is not None and seed is not None and best.id != seed.id:
        return (
            f"Evolving the seed program's evolvable region with the {proposer} proposer finds programs "
            f"with a better {c.metric} than the seed on this task's workload."
        )
    if c.id == "C-best":
        return (
            f"Within this budget the {proposer} proposer found no program better than the seed on {c.metric}."
        )
    return c.statement


def heldout_cells(record: HeldoutRecord | None) -> str:
    if record is None:
        return " | |"
    if not record.valid:
        return f" failed ({record.failure_kind}) | |"
    if record.heldout_value is None:
        return " valid, no primary metric | |"
    gap = "" if record.gap is None else f"{record.gap:.4g}"
    return f" {record.heldout_value:.6g}{' (overfit)' if record.overfit else ''} | {gap} |"


def _claim_numbers(c: Claim) -> str:
    """The numbers behind a claim, as logic.yaml states them (checked by `syslab review`)."""
    parts = [f"n = {c.n}"] if c.n is not None else []
    if c.mean is not None:
        parts.append(f"mean {c.mean:.6g}")
    if c.interval:
        parts.append(f"interval [{c.interval[0]:.6g}, {c.interval[1]:.6g}]")
    if c.heldout_record is not None:
        held = "failed" if c.heldout_value is None else f"{c.heldout_value:.6g}"
        gap = "" if c.heldout_gap is None else f", gap {c.heldout_gap:.4g}"
        parts.append(f"held-out {held}{gap} (tolerance {c.heldout_tolerance:g})")
    return ", ".join(parts) or "not stated"


def claims_md(logic: LogicLayer, ids: dict[str, str], best: Node | None, seed: Node | None, man: Any) -> str:
    out = ["# Claims", ""]
    for c in logic.claims:
        cid = ids[c.id]
        nodes = ", ".join(str(n) for n in c.node_ids)
        quotes = (
            "; ".join(f"`evidence/raw/{r.sha256[:12]}.txt` «{r.name}» [result]" for r in c.evidence)
            or "[pending: no evidence recorded]"
        )
        if c.id == "C-best":
            improved = best is not None and seed is not None and best.id != seed.id
            title = f"evolution {'improves' if improved else 'does not improve'} {c.metric} over the seed"
        else:
            title = c.statement.split(" (")[0][:90]
        out += [
            f"## {cid}: {title}",
            f"- **Statement**: {_claim_statement(c, best, seed, man.proposer)}",
            f"- **Conditions**: {c.conditions or 'as recorded'}; "
            + (
                "measured on the task's search workload and checked on its held-out split; "
                if c.heldout_record is not None
                else "measured only on the task's own evaluator workload, untested on other workloads "
                "or inputs; "
            )
            + f"scores {verification_note(man)}.",
            f"- **Numbers**: {_claim_numbers(c)}",
            f"- **Status**: {c.status}",
            f"- **Falsification criteria**: re-evaluating nodes {nodes} in a fresh sandbox "
            f"(`syslab reproduce`) gives a {c.metric or 'metric'} that no longer matches the recorded one.",
            "- **Proof**: [E01, E02, E03]",
            f"- **Evidence basis**: {c.statement} (syslab.db nodes {nodes}; "
            f"{'verified: ' + c.verified if c.verified else 'not yet re-verified'}).",
            f"- **Sources**: {quotes}",
            "- **Dependencies**: none",
            f"- **Tags**: {man.task_name}, {c.metric or 'metric'}, evolution, syslab",
            "",
        ]
    return "\n".join(out)
