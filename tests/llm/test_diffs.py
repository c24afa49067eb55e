"""SEARCH/REPLACE parsing and strict application inside EVOLVE-BLOCKs."""

from __future__ import annotations

import pytest
from llm_support import PROGRAM

from syslab.agents.diffs import DiffError, apply_response, block_spans, parse_edit


def diff(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def failure(code: str, text: str) -> DiffError:
    with pytest.raises(DiffError) as err:
        apply_response(code, text)
    return err.value


def test_diff_applies_inside_block_only():
    text = "Change: reverse\n" + diff("    order = sorted(jobs)", "    order = sorted(jobs, reverse=True)")
    new, edit = apply_response(PROGRAM, text)
    assert edit.mode == "diff"
    assert "sorted(jobs, reverse=True)" in new
    assert new.replace("sorted(jobs, reverse=True)", "sorted(jobs)") == PROGRAM


def test_several_diffs_apply_in_order():
    text = diff("    order = sorted(jobs)", "    order = list(jobs)") + diff(
        "    order = list(jobs)", "    order = jobs[::-1]"
    )
    new, _ = apply_response(PROGRAM, text)
    assert "order = jobs[::-1]" in new and "sorted" not in new


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("I think the code is fine as it is.", "malformed_response", "no SEARCH/REPLACE"),
        ("", "malformed_response", "no SEARCH/REPLACE"),
        ("<<<<<<< SEARCH\n    order = sorted(jobs)\n=======\n", "patch_failed", "no complete"),
        (diff("    order = sorted(items)", "x"), "patch_failed", "not found"),
        (diff("def main(jobs):", "def main(jobs, k):"), "patch_failed", "outside the EVOLVE-BLOCK"),
        (diff("import math", "import os"), "patch_failed", "outside the EVOLVE-BLOCK"),
        (diff("    return order", "    return order[:1]\n# EVOLVE-BLOCK-END"), "patch_failed", "markers"),
        (diff("   ", "x"), "patch_failed", "empty SEARCH"),
        (diff("order = sorted", "x"), "patch_failed", "not found"),  # not whole lines
    ],
)
def test_bad_answers_fail_with_their_kind(text, kind, fragment):
    err = failure(PROGRAM, text)
    assert err.kind == kind and fragment in err.message


def test_ambiguous_search_fails():
    code = PROGRAM.replace("    return order\n", "    x = 1\n    x = 1\n    return order\n")
    assert "matches 2 places" in failure(code, diff("    x = 1", "    x = 2")).message


def test_rewrite_of_block_body():
    text = "Change: heap\n```python\nimport heapq\n\ndef schedule(jobs):\n    return heapq.nsmallest(len(jobs), jobs)\n```"
    new, edit = apply_response(PROGRAM, text)
    assert edit.mode == "rewrite"
    assert new.startswith("import math\n\n# EVOLVE-BLOCK-START\nimport heapq\n")
    assert new.endswith("# EVOLVE-BLOCK-END\n\n\ndef main(jobs):\n    return schedule(jobs)\n")


def test_rewrite_of_whole_program_keeps_fixed_parts():
    whole = PROGRAM.replace("sorted(jobs)", "sorted(jobs, key=abs)")
    new, _ = apply_response(PROGRAM, f"```python\n{whole}```")
    assert new == whole
    changed_fixed = whole.replace("return schedule(jobs)", "return []")
    assert "outside the EVOLVE-BLOCK" in failure(PROGRAM, f"```python\n{changed_fixed}```").message


def test_rewrite_of_block_with_markers_only():
    block = "# EVOLVE-BLOCK-START\ndef schedule(jobs):\n    return list(jobs)\n# EVOLVE-BLOCK-END\n"
    new, _ = apply_response(PROGRAM, f"```python\n{block}```")
    assert "return list(jobs)" in new and new.count("EVOLVE-BLOCK-START") == 1 and "def main" in new


def test_two_blocks():
    code = PROGRAM + "\n# EVOLVE-BLOCK-START\nK = 3\n# EVOLVE-BLOCK-END\n"
    assert len(block_spans(code)) == 2
    new, _ = apply_response(code, diff("K = 3", "K = 4"))
    assert "K = 4" in new
    assert "ambiguous" in failure(code, "```python\nK = 5\n```").message


def test_diff_takes_precedence_and_fence_labels():
    assert parse_edit("```python\nx = 1\n```\n" + diff("a", "b")).mode == "diff"
    assert parse_edit("```\nx = 1\n```").code == "x = 1\n"
    with pytest.raises(DiffError):
        parse_edit("```json\n{}\n```")
