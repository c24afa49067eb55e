"""The offline (no-LLM) proposer: deterministic, block-only, compilable, uses inspirations."""

from __future__ import annotations

import ast
import random

from syslab.agents.base import CandidateView, Proposal, ProposalRequest
from syslab.agents.mutations import mutate_arith, mutate_compare, mutate_constant, mutate_swap, new_number
from syslab.agents.offline import OfflineProposer
from syslab.agents.patch import code_hash, evolve_blocks, find_evolve_blocks, replace_evolve_blocks
from syslab.evaluators.base import FailureKind

PARENT = '''"""Fixed docstring with numbers 1 < 2."""
LIMIT = 10  # outside the block: must never change


# EVOLVE-BLOCK-START
WEIGHT = 0.5


def score(x, y):
    # keep this comment
    a = x * WEIGHT + 3
    b = y - 2.0
    if a < b:
        return max(a, b)
    return a / (b + 1)


# EVOLVE-BLOCK-END
def main():
    return score(LIMIT, 2 * LIMIT) >= 0
'''


def request(
    code: str = PARENT, seed: int = 0, inspirations: list[CandidateView] | None = None
) -> ProposalRequest:
    return ProposalRequest(
        task_name="t",
        task_description="d",
        primary_metric="m",
        metric_directions={"m": "maximize"},
        parent=CandidateView(node_id=1, code=code),
        inspirations=inspirations or [],
        seed=seed,
    )


def outside(code: str) -> list[str]:
    lines = code.splitlines(keepends=True)
    spans = find_evolve_blocks(code)
    keep, pos = [], 0
    for s, e in spans:
        keep.append("".join(lines[pos:s]))
        pos = e
    return keep + ["".join(lines[pos:])]


def test_same_seed_same_proposal_and_seeds_differ() -> None:
    p = OfflineProposer()
    a, b = p.propose(request(seed=7)), p.propose(request(seed=7))
    assert a == b
    codes = {p.propose(request(seed=s)).code for s in range(20)}
    assert len(codes) >= 12  # different seeds explore different variants


def test_proposals_change_only_the_block_and_compile() -> None:
    p = OfflineProposer()
    operators = set()
    for seed in range(60):
        prop = p.propose(request(seed=seed))
        assert prop.failure is None and prop.code is not None
        compile(prop.code, "<test>", "exec")
        assert outside(prop.code) == outside(PARENT)
        assert replace_evolve_blocks(PARENT, evolve_blocks(prop.code)) == prop.code
        assert code_hash(prop.code) != code_hash(PARENT)
        assert prop.note
        operators.add(prop.operator)
    # every mutation kind shows up on its own
    assert {"mutate:constant", "mutate:compare", "mutate:arith", "mutate:swap"} <= operators


def test_attempt_changes_the_draw() -> None:
    p = OfflineProposer()
    base = request(seed=3)
    again = base.model_copy(update={"attempt": 1})
    assert p.propose(base).code != p.propose(again).code


def test_crossover_takes_the_inspirations_function() -> None:
    donor_fn = "def score(x, y):\n    return x - y  # the donor's idea\n"
    donor = PARENT.replace(evolve_blocks(PARENT)[0], "WEIGHT = 0.5\n\n\n" + donor_fn)
    insp = CandidateView(node_id=42, code=donor)
    p = OfflineProposer(weights={"crossover": 1.0})
    prop = p.propose(request(seed=1, inspirations=[insp]))
    assert prop.operator == "crossover"
    assert prop.inspiration_ids == [42]
    assert "def score from #42" in prop.note
    assert donor_fn in prop.code and "max(a, b)" not in prop.code
    assert outside(prop.code) == outside(PARENT)


def test_crossover_of_a_named_constant() -> None:
    donor = PARENT.replace("WEIGHT = 0.5", "WEIGHT = 0.9")
    prop = OfflineProposer(weights={"crossover": 1.0}).propose(
        request(seed=2, inspirations=[CandidateView(node_id=5, code=donor)])
    )
    assert prop.code is not None and "WEIGHT = 0.9" in prop.code and prop.inspiration_ids == [5]


def test_nothing_to_mutate_is_a_patch_failure() -> None:
    code = "X = 1\n# EVOLVE-BLOCK-START\npass\n# EVOLVE-BLOCK-END\n"
    prop: Proposal = OfflineProposer().propose(request(code=code))
    assert prop.code is None and prop.failure is not None
    assert prop.failure.kind == FailureKind.patch_failed
    no_block = OfflineProposer().propose(request(code="x = 1\n"))
    assert no_block.failure is not None and "EVOLVE-BLOCK" in no_block.failure.message
    broken = OfflineProposer().propose(request(code="def f(:\n# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-END\n"))
    assert broken.failure is not None and broken.failure.kind == FailureKind.patch_failed


def test_new_number_keeps_type_and_changes_value() -> None:
    rng = random.Random(0)
    for value in [0, 1, 7, -3, 0.0, 0.5, -2.5, 1e-3, 100.0]:
        for _ in range(50):
            new = new_number(value, rng)
            assert new != value
            assert type(new) is type(value)


def _parse(code: str) -> tuple[ast.AST, list[tuple[int, int]]]:
    return ast.parse(code), find_evolve_blocks(code)


def test_operators_edit_text_in_place() -> None:
    code = "y = 1 + 2\n# EVOLVE-BLOCK-START\nz = -4 * (y)  # c\nif z  <=  y:\n    z += 1\nw = min(z, y)\n# EVOLVE-BLOCK-END\n"
    tree, spans = _parse(code)
    rng = random.Random(3)
    for op in (mutate_constant, mutate_compare, mutate_arith, mutate_swap):
        for _ in range(20):
            m = op(code, tree, spans, rng)
            assert m is not None
            compile(m.code, "<t>", "exec")
            assert m.code.startswith("y = 1 + 2\n# EVOLVE-BLOCK-START\n")  # never outside the block
            assert "# c" in m.code  # comments survive
    m = mutate_compare(code, tree, spans, random.Random(0))
    assert m is not None and "if z  <=  y:" not in m.code and "if z  " in m.code
    negative = [mutate_constant(code, tree, spans, random.Random(s)) for s in range(30)]
    assert any(m and m.code.count("-4") == 0 and "z = -" in m.code for m in negative)  # sign-aware literal
