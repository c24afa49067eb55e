"""Whole runs through the loop with LLM agents over a real OpenAI-protocol server on 127.0.0.1.

The scripted server injects every fault the client must survive (429 with
Retry-After, 500, a hung response, garbage, unparsable and non-matching
diffs) before answering with real SEARCH/REPLACE edits; the run must
finish and record each fault. Replaying the run without any endpoint
must reproduce the same node ids, scores and edges.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from syslab.artifacts.schema import NodeKind
from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution

QUADRATIC = Path(__file__).parent.parent / "fixtures" / "tasks" / "quadratic"

FAULTS = [
    {"status": 429, "headers": {"Retry-After": "1"}},  # then a good answer (same call, 2 attempts)
    None,
    {"status": 500},
    None,
    {"delay": 2.5, "text": "too late"},  # hung, twice: the call gives up -> llm_error node
    {"delay": 2.5, "text": "too late"},
    {"text": "I would rather not change anything."},  # -> malformed_response
    {"text": "Change: x\n<<<<<<< SEARCH\n    a = 123.0\n=======\n    a = 1.0\n>>>>>>> REPLACE\n"},  # no match
    {"text": "Change: y\n<<<<<<< SEARCH\n    a = 1.5\n"},  # unparsable diff
]


def good_answer(body: dict) -> dict:
    """A real edit of the program in the prompt (or JSON notes for the analyst)."""
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "analyst" in system:
        ids = [int(i) for i in re.findall(r"^- node (\d+)", user, re.MULTILINE)][:2]
        notes = {"hypotheses": ["larger a moves value toward 42"], "dead_ends": [{"idea": "shrinking b", "node_ids": ids}],
                 "guidance": "Tune a and c together."}  # fmt: skip
        return {"text": json.dumps(notes)}
    program = user.split("```python\n", 1)[1].split("```", 1)[0]
    line = next(ln for ln in program.splitlines() if ln.strip().startswith(("a =", "c =")))
    name, value = line.strip().split(" = ")
    step = ((body["seed"] % 9) - 3) * 0.75 or 0.5
    new = f"    {name} = {float(value) + step!r}"
    return {"text": f"Change: {name} += {step}\n<<<<<<< SEARCH\n{line}\n=======\n{new}\n>>>>>>> REPLACE\n"}


def _config(tmp_path: Path, base_url: str, **kw) -> RunConfig:
    base = {
        "out": str(tmp_path / "runs"),
        "progress": False,
        "proposer": "llm",
        "seed": 5,
        "budget": {"evaluations": 8},
        "analyst_every": 4,
        "pipeline": {"prefetch": 0},  # one proposal at a time: the fault script is consumed in order
        "llm": {
            "base_url": base_url,
            "models": [{"name": "scripted-a", "price_in_per_mtok": 2.0, "price_out_per_mtok": 8.0}],
            "timeout_s": 0.8,  # generous for a loaded 2-core CI; the hang below lasts 2.5s
            "max_retries": 1,
            "backoff_s": 0.01,
        },
    }
    base.update(kw)
    return RunConfig.model_validate(base)


def signature(run_dir: Path) -> list[tuple]:
    s = RunStore.open(run_dir, readonly=True)
    out = [
        (n.id, n.kind.value, n.parent_id, n.operator, n.score, n.failure_kind, n.code_sha, n.model)
        for n in s.nodes()
    ]
    out += [(e.src, e.dst, e.kind.value) for e in s.edges()]
    s.close()
    return out


@pytest.fixture
def no_env_endpoint(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_llm_run_survives_faults_records_them_and_replays(server, tmp_path, no_env_endpoint):
    server.push(*[{"_good": True} if f is None else f for f in FAULTS])
    server.responder = good_answer
    real_next = server._next_step
    server._next_step = lambda body: (lambda s: good_answer(body) if s.get("_good") else s)(real_next(body))

    result = run_evolution(QUADRATIC, _config(tmp_path, server.base_url))
    assert result.evaluations == 8 and result.proposer == "llm"
    assert result.best_score is not None and result.best_score > result.seed_score

    store = RunStore.open(result.run_dir, readonly=True)
    nodes = store.nodes()
    kinds = [n.failure_kind for n in nodes if n.kind == NodeKind.candidate]
    for fault in ("llm_error", "malformed_response", "patch_failed"):
        assert fault in kinds, (fault, kinds)
    assert kinds.count("patch_failed") == 2
    malformed = next(n for n in nodes if n.failure_kind == "malformed_response")
    assert store.get_blob(malformed.evidence["response"]).decode() == "I would rather not change anything."
    calls = store.llm_calls()
    assert [c.attempts for c in calls[:3]] == [2, 2, 2]  # 429, 500 and the hang were retried
    assert "timeout" in calls[2].error and calls[0].error is None
    # Calls that succeeded on their second attempt keep the first attempt's reason in the store.
    assert "429" in calls[0].attempt_errors[0] and "500" in calls[1].attempt_errors[0]
    assert all(c.node_id is not None for c in calls)  # every exchange is linked to its node
    for c in calls:
        assert json.loads(store.get_blob(c.prompt_sha))["messages"][0]["role"] == "system"
    assert (
        result.spend["scripted-a"]["tokens"] == sum(c.prompt_tokens + c.completion_tokens for c in calls) > 0
    )
    analyses = [n for n in nodes if n.kind == NodeKind.analysis]
    assert analyses and analyses[0].data["guidance"] == "Tune a and c together."
    assert store.manifest.proposer == "llm"
    store.close()

    n_requests = len(server.chat_requests())
    replay = run_evolution(
        QUADRATIC,
        _config(tmp_path / "replay", "http://127.0.0.1:9/v1", replay=str(result.run_dir), proposer="replay"),
    )
    assert len(server.chat_requests()) == n_requests  # the replay never touched an endpoint
    assert replay.proposer == "replay"
    assert signature(replay.run_dir) == signature(result.run_dir)
    assert replay.spend == result.spend


def test_a_run_whose_endpoint_is_down_fails_and_says_why(tmp_path: Path) -> None:
    """Every proposal fails: the run exits 1 with the reason, and the manifest says it failed."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nothing listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SYSLAB_SET"))}
    env["OPENAI_API_KEY"] = "sk-test"
    out = subprocess.run(
        [sys.executable, "-m", "syslab.cli", "run", str(QUADRATIC), "--proposer", "llm", "--budget", "3",
         "--set", f"llm.base_url=http://127.0.0.1:{port}/v1", "--set", "llm.max_retries=0",
         "--out", str(tmp_path / "runs"), "--name", "down", "--quiet"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr
    errors = [ln for ln in out.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "no candidate was evaluated" in errors[0] and "llm_error" in errors[0]
    manifest = json.loads((tmp_path / "runs" / "down" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "all 9 proposals failed" in manifest["stop_reason"]
