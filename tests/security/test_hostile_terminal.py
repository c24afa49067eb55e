"""Red team, class J: candidate text reaching the operator's terminal through `syslab eval`.

Written to the CLI's public behaviour only: the command runs in a subprocess on a hostile
candidate whose output and failure message carry escape sequences, a carriage return, a bidi
override and Rich markup; none of them may come out raw, and the markup must show as text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .hostile_support import FAMILIES, build

RAW = [b"\x1b", b"\r", b"\x07", "\u202e".encode()]


@pytest.mark.parametrize("fail", [True, False], ids=["failure_message", "valid_candidate"])
@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_eval_output_shows_candidate_text_inert(fail: bool, json_out: bool, tmp_path: Path) -> None:
    family = FAMILIES["decision"]
    program = tmp_path / "hostile.py"
    program.write_text(build(family, "j_terminal", FAIL=fail))
    cmd = [sys.executable, "-m", "syslab.cli", "eval", str(family.task_dir), str(program)]
    proc = subprocess.run(cmd + (["--json"] if json_out else []), capture_output=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == (1 if fail else 0), out[-2000:]
    assert not [c for c in RAW if c in out], f"raw control bytes reached the terminal: {out[-600:]!r}"
    if fail and not json_out:
        assert b"[bold green]PASS[/bold green]" in out  # shown as text, not rendered as markup
