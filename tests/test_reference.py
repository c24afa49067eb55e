"""The settings reference is generated from the models and checked in: it must be current."""

from __future__ import annotations

import json
import subprocess
import sys

from syslab.cli.reference import config_reference, expected_files
from syslab.config import RunConfig
from syslab.task import TaskSpec


def test_generated_docs_are_current() -> None:
    stale = [str(p) for p, text in expected_files().items() if not p.is_file() or p.read_text() != text]
    assert not stale, f"out of date: {stale}; run `python -m syslab.cli.reference --write`"


def test_every_run_setting_is_documented() -> None:
    rows = [ln for ln in config_reference().splitlines() if ln.startswith("| `")]
    assert len(rows) >= len(RunConfig.model_fields) + 40  # the sections' keys, search and llm included
    blank = [ln.split("|")[1].strip() for ln in rows if ln.rstrip().endswith("|  |")]
    assert not blank, f"settings without a description (a Field description or a comment): {blank}"
    keys = {ln.split("`")[1] for ln in rows}
    assert {"search.islands", "llm.models.name", "budget.evaluations", "executor.workers"} <= keys


def test_config_schema_covers_the_sections() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "config", "--schema"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert set(schema["properties"]) == set(RunConfig.model_fields)
    assert schema["properties"]["search"]["$ref"].endswith("/SearchSettings")  # not a bare object
    assert "islands" in schema["$defs"]["SearchSettings"]["properties"]
    task = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "config", "--schema", "--of", "task"],
        capture_output=True,
        text=True,
    )
    assert set(json.loads(task.stdout)["properties"]) == set(TaskSpec.model_fields)
