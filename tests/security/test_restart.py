"""`candidate.restart()`: a fresh candidate process, nothing of the old one kept (warm and cold)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from syslab.evaluators.harness import evaluate_program
from syslab.evaluators.local import local_candidate
from syslab.sandbox.process import ProcessSandbox
from syslab.task import load_task

# The program keeps what it was told in module state, in the environment and in a scratch file,
# and reports its pid: after a restart none of it may be there.
PROGRAM = textwrap.dedent(
    """
    # EVOLVE-BLOCK-START
    import os
    _MEMO = []

    def remember(x):
        _MEMO.append(x)
        os.environ["SYSLAB_MEMO"] = str(x)
        open("memo.txt", "w").write(str(x))
        return len(_MEMO)

    def recall():
        return [list(_MEMO), os.environ.get("SYSLAB_MEMO"), os.path.exists("memo.txt"), os.getpid()]
    # EVOLVE-BLOCK-END
    """
)
EVALUATOR = textwrap.dedent(
    """
    def evaluate(candidate):
        candidate.call("remember", 7)
        before = candidate.call("recall")
        obj_gen = candidate._generation
        candidate.restart()
        after = candidate.call("recall")
        kept = float(bool(after[0]) + (after[1] is not None) + after[2])
        return {"kept": kept, "had": float(len(before[0]) + (before[1] == "7") + before[2]),
                "new_generation": float(candidate._generation == obj_gen + 1)}
    """
)


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_restart_gives_a_process_without_the_old_ones_state(tmp_path: Path, warm: bool) -> None:
    (tmp_path / "task.toml").write_text(
        f'name = "r"\ndescription = "d"\n[metrics.kept]\ndirection = "minimize"\n[sandbox]\nwarm = {str(warm).lower()}\n'
    )
    (tmp_path / "seed.py").write_text(PROGRAM)
    (tmp_path / "evaluate.py").write_text(EVALUATOR)
    res = evaluate_program(load_task(tmp_path), PROGRAM, ProcessSandbox())
    assert res.ok, res.failure
    assert res.metrics == {"kept": 0.0, "had": 3.0, "new_generation": 1.0}  # it held all three, then none


def test_restart_of_a_local_candidate() -> None:
    with local_candidate(PROGRAM) as cand:
        cand.call("remember", 1)
        pid = cand.call("recall")[3]
        cand.restart()
        after = cand.call("recall")
    assert after[:3] == [[], None, False] and after[3] != pid
