"""The held-out split never reaches an agent: an LLM run on a task with one, through a scripted
OpenAI-protocol server, sends no prompt that names the held-out entry, its file or its data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from syslab.artifacts.store import RunStore
from syslab.config import RunConfig
from syslab.engine.run import run_evolution

sys.path.insert(0, str(Path(__file__).parent / "llm"))

from scripted_server import ScriptedServer  # noqa: E402

OVERFIT = Path(__file__).parent / "fixtures" / "heldout" / "overfit"


def _answer(body: dict) -> dict:
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "analyst" in system:
        return {"text": json.dumps({"hypotheses": ["a closer constant"], "dead_ends": [], "guidance": ""})}
    program = user.split("```python\n", 1)[1].split("```", 1)[0]
    line = next(ln for ln in program.splitlines() if "known = {" in ln)
    value = float(line.split(": ", 1)[1].split("}", 1)[0]) + 0.5
    new = line.split("{1.0: ", 1)[0] + "{1.0: " + repr(value) + "}" + line.split("}", 1)[1]
    return {"text": f"Change: closer\n<<<<<<< SEARCH\n{line}\n=======\n{new}\n>>>>>>> REPLACE\n"}


def test_heldout_never_in_a_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer(responder=_answer) as server:
        config = RunConfig.model_validate(
            {
                "out": str(tmp_path),
                "progress": False,
                "proposer": "llm",
                "seed": 2,
                "budget": {"evaluations": 5},
                "analyst_every": 2,
                "llm": {"base_url": server.base_url, "models": [{"name": "scripted-a"}], "timeout_s": 5.0},
            }
        )
        result = run_evolution(OVERFIT, config)
        sent = [json.dumps(r["body"]) for r in server.chat_requests()]
    assert result.proposer == "llm" and result.heldout  # the run did have a held-out split
    assert len(sent) >= 4  # proposals and analyst notes
    for text in sent:
        for secret in ("heldout", "held-out", "evaluate_heldout", "[2.0, 3.0]", "x = 2 and 3"):
            assert secret not in text.lower(), secret
    store = RunStore.open(result.run_dir, readonly=True)
    prompts = [store.get_blob(c.prompt_sha).decode() for c in store.llm_calls()]
    store.close()
    assert prompts and not any("heldout" in p.lower() or "held-out" in p.lower() for p in prompts)
