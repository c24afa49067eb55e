"""Red team 2 on the hand-over of a candidate's failure to the host (classes I and J).

The candidate runtime cuts an error's message to 2,000 characters and its traceback to 20,000, but
the candidate owns its process and can write its own error frame: message and traceback as large
as the task's message cap (64 MB by default), in control bytes that JSON writes 6 characters each.
The trusted side forwards both to the host over the control channel. The host must come out of
it with a failure of the candidate's kind and a bounded record: not an exception out of
`evaluate_program` (an executor crash, blamed on nobody), and not megabytes of message and
traceback kept in the result (stored, shown in the terminal and the web view).

Also here: an id for a bound function that does not pack (blamed on the evaluator), and shared
mode's hand-off nested just deep enough to pass the reporter and not the host's parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syslab.task import load_task

from .hostile_support import FAMILIES, FIXTURES, TASKS, RecordingProcessSandbox, build, run_hostile

RT2 = FIXTURES / "hostile" / "redteam2"
SANDBOX = RecordingProcessSandbox()
MAX_MESSAGE = 4_000  # the runtime's own cut is 2,000 characters; some room for a prefix
MAX_TRACEBACK = 40_000  # the runtime's own cut is 20,000


@pytest.mark.parametrize(
    "family_name,mb",
    [("decision", 1), ("bin_packing", 24)],
    ids=["under_the_control_cap-decision_mini", "over_the_control_cap-bin_packing"],
)
def test_huge_error_reply_is_a_bounded_candidate_failure(family_name: str, mb: int, temp_root: Path) -> None:
    family = FAMILIES[family_name]
    code = build(family, "../redteam2/huge_error", MB=mb)
    try:
        out = run_hostile(family.task(), code, SANDBOX, temp_root)
    except Exception as e:  # noqa: BLE001 - any exception out of evaluate_program is the hole
        pytest.fail(f"HOLE: evaluate_program raised {type(e).__name__}: {str(e)[:300]}")
    assert out.kind in {"runtime", "invalid_output"}, f"{out.kind}: {out.message[:300]}"
    assert len(out.message) <= MAX_MESSAGE, f"HOLE: a failure message of {len(out.message)} characters kept"
    trace = out.result.evidence.traceback
    assert len(trace) <= MAX_TRACEBACK, f"HOLE: a traceback of {len(trace)} characters kept"
    assert out.problems == [], out.problems


@pytest.mark.parametrize("fid", ["-1", "1 << 40", "'0'", "0.0"])
def test_bind_reply_that_is_not_an_id_is_the_candidates_fault(fid: str, temp_root: Path) -> None:
    """The trusted side packs the id the candidate gave for a bound function into every call;
    an id that does not pack must fail the candidate, not look like a bug of the task's evaluator."""
    family = FAMILIES["decision"]
    out = run_hostile(
        family.task(), build(family, "../redteam2/bad_function_id", FID=fid), SANDBOX, temp_root
    )
    assert out.kind == "invalid_output", f"HOLE: {out.kind}: {out.message[:300]}"
    assert out.problems == [], out.problems


def test_shared_mode_outcome_nested_deep_does_not_crash_the_host(temp_root: Path) -> None:
    """Shared mode's scores are unverified by design, but the host must survive its hand-off: an
    outcome the sandboxed reporter parses (shallow stack) and the host cannot (deeper stack) must be
    a failed or unverified evaluation, not a RecursionError out of evaluate_program."""
    task = load_task(TASKS / "tiny")
    code = (RT2 / "shared_deep_outcome.py").read_text().replace("__DEPTH__", "988")
    try:
        out = run_hostile(task, code, SANDBOX, temp_root)
    except RecursionError as e:
        pytest.fail(f"HOLE: evaluate_program raised RecursionError: {e}")
    assert out.problems == [], out.problems
