"""The offline proposer: honest random search over the EVOLVE-BLOCKs, no LLM.

It applies one to three AST-located mutations (constants, comparison and
arithmetic operators, statement order) or a crossover with an inspiration
candidate, and returns a program that compiles, differs from its parent
and leaves every byte outside the blocks unchanged. Deterministic given
the request's seed (and attempt), so runs replay exactly.
"""

from __future__ import annotations

import ast
import random

from syslab.agents.base import Proposal, ProposalRequest
from syslab.agents.mutations import OPERATORS, Mutation, crossover
from syslab.agents.patch import (
    PatchError,
    code_hash,
    evolve_blocks,
    find_evolve_blocks,
    replace_evolve_blocks,
)
from syslab.evaluators.base import Failure, FailureKind

# Constants first: tuning a heuristic's numbers is what most often pays off,
# but every operator keeps a share so structure can change too.
DEFAULT_WEIGHTS = {"constant": 0.5, "arith": 0.14, "compare": 0.12, "swap": 0.06, "crossover": 0.18}
CHAIN_LENGTHS = (1, 2, 3)
CHAIN_WEIGHTS = (0.6, 0.3, 0.1)


class OfflineProposer:
    """Mutation/crossover proposer (operator names: mutate:<kind>, crossover)."""

    name = "mutate"

    def __init__(self, weights: dict[str, float] | None = None, max_tries: int = 30):
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        unknown = set(self.weights) - set(OPERATORS) - {"crossover"}
        if unknown:
            raise ValueError(f"unknown mutation operator(s): {sorted(unknown)}")
        self.max_tries = max_tries

    def propose(self, request: ProposalRequest) -> Proposal:
        rng = random.Random(request.seed if request.attempt == 0 else f"{request.seed}/{request.attempt}")
        parent = request.parent.code
        try:
            ast.parse(parent)
            if not find_evolve_blocks(parent):
                raise PatchError("parent program has no EVOLVE-BLOCK markers")
        except (SyntaxError, PatchError) as e:
            return _failed(f"cannot mutate the parent: {e}")
        donors = [
            (c.node_id, c.code)
            for c in request.inspirations
            if c.code and c.node_id != request.parent.node_id
        ]
        parent_hash = code_hash(parent)
        for _ in range(self.max_tries):
            applied = self._chain(parent, rng, donors)
            if applied and _acceptable(parent, applied[-1].code, parent_hash):
                return _proposal(applied)
        return _failed(f"no new compilable variant of the parent in {self.max_tries} tries")

    def _chain(self, parent: str, rng: random.Random, donors: list[tuple[int, str]]) -> list[Mutation]:
        """Apply 1-3 mutations in sequence; stop early if one breaks the program."""
        kinds = [k for k, w in self.weights.items() if w > 0 and (k != "crossover" or donors)]
        weights = [self.weights[k] for k in kinds]
        length = rng.choices(CHAIN_LENGTHS, weights=CHAIN_WEIGHTS)[0]
        code, applied = parent, []
        for _ in range(length):
            kind = rng.choices(kinds, weights=weights)[0]
            try:
                tree = ast.parse(code)
                spans = find_evolve_blocks(code)
                if kind == "crossover":
                    m = crossover(code, tree, spans, rng, donors)
                else:
                    m = OPERATORS[kind](code, tree, spans, rng)
            except (SyntaxError, PatchError, ValueError):
                break
            if m is None:
                continue
            try:
                compile(m.code, "<candidate>", "exec")
            except (SyntaxError, ValueError):
                break
            code = m.code
            applied.append(m)
        return applied


def _acceptable(parent: str, code: str, parent_hash: str) -> bool:
    """New, compilable, and identical to the parent outside the blocks."""
    try:
        compile(code, "<candidate>", "exec")
        if replace_evolve_blocks(parent, evolve_blocks(code)) != code:
            return False
    except (SyntaxError, ValueError, PatchError):
        return False
    return code_hash(code) != parent_hash


def _proposal(applied: list[Mutation]) -> Proposal:
    kinds = list(dict.fromkeys(m.kind for m in applied))
    if "crossover" in kinds:
        operator = "crossover"
    else:
        operator = "mutate:" + "+".join(kinds)
    inspiration_ids = list(dict.fromkeys(i for m in applied for i in m.inspiration_ids))
    return Proposal(
        code=applied[-1].code,
        operator=operator,
        note="; ".join(m.note for m in applied),
        inspiration_ids=inspiration_ids,
    )


def _failed(message: str) -> Proposal:
    return Proposal(
        operator="mutate", note=message, failure=Failure(kind=FailureKind.patch_failed, message=message)
    )
