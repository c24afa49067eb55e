"""`syslab run --replay RUN` from the command line: the recorded task, seed and config, no flags needed;
a replay that diverges stops at the first unmatched request with one error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from test_run_llm import QUADRATIC, good_answer, signature


def syslab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "syslab.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_replay_needs_no_flags_refuses_changed_ones_and_stops_at_a_mismatch(server, tmp_path: Path) -> None:
    server.responder = good_answer
    task = tmp_path / "task"
    shutil.copytree(QUADRATIC, task)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYSLAB_SET"))}
    env["OPENAI_API_KEY"] = "sk-test"
    recorded = syslab(
        "run", str(task), "--proposer", "llm", "--budget", "5", "--seed", "11", "--set", "analyst_every=3",
        "--set", f"llm.base_url={server.base_url}", "--set", "pipeline.prefetch=0",
        "--out", str(tmp_path / "runs"), "--name", "rec", "--quiet", env=env,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    run = tmp_path / "runs" / "rec"
    asked = len(server.chat_requests())
    shown = syslab("show", str(run))  # the run's LLM spend, from its recorded calls
    assert re.search(rf"LLM \S+: {asked} calls, [1-9]\d* tokens, \$\d", shown.stdout), shown.stdout

    # No TASK, no --seed, --budget or --set: all of it comes from the recording.
    replayed = syslab(
        "run", "--replay", str(run), "--out", str(tmp_path / "runs"), "--name", "rep", "--quiet"
    )
    assert replayed.returncode == 0, replayed.stderr
    assert len(server.chat_requests()) == asked  # nothing went to the endpoint
    assert signature(tmp_path / "runs" / "rep") == signature(run)

    refused = syslab("run", "--replay", str(run), "--seed", "3", "--out", str(tmp_path / "runs"), "--quiet")
    assert refused.returncode == 2 and "drop --seed" in refused.stderr

    # The task changed since the recording: the prompts differ, so the first request has no recording.
    seed = task / "seed.py"
    seed.write_text(seed.read_text().replace("EVOLVE-BLOCK-START", "EVOLVE-BLOCK-START\n# changed"))
    diverged = syslab(
        "run", "--replay", str(run), "--out", str(tmp_path / "runs"), "--name", "div", "--quiet"
    )
    assert diverged.returncode == 2
    errors = [ln for ln in diverged.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "matches no recorded exchange" in errors[0], diverged.stderr
    manifest = json.loads((tmp_path / "runs" / "div" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "matches no recorded exchange" in manifest["stop_reason"]
