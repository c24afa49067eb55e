"""Build the LLM-backed agents for a run: endpoint, bundled local model, or replay of a recorded run.

Called by `syslab.agents.select.build_agents`. The run's store is created
after the agents, so LLM exchanges go through a `LateStoreRecorder` that
the run attaches to its store (`agents.attach(store)`) before the first
proposal; on resume the store is known up front.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from syslab.agents.llm import LLMClient, StoreRecorder
from syslab.agents.llm_config import LLMSettings, select_proposer
from syslab.agents.proposer import LLMProposer
from syslab.agents.reflector import HeuristicAnalyst, LLMAnalyst
from syslab.artifacts.schema import LLMCall
from syslab.errors import SyslabError

PROPOSER_STATE_KEY = "proposer"  # store state key for the bandit (resume)


class LateStoreRecorder:
    """A StoreRecorder whose store is attached after construction."""

    def __init__(self, store: Any = None) -> None:
        self._inner = StoreRecorder(store) if store is not None else None
        self._lock = threading.Lock()

    def attach(self, store: Any) -> None:
        with self._lock:
            self._inner = StoreRecorder(store)

    def record(self, call: LLMCall, prompt: str, response: str | None) -> int:
        if self._inner is None:
            raise SyslabError(
                "internal: an LLM call was made before the run store was attached to the recorder"
            )
        return self._inner.record(call, prompt, response)


def _agents(
    kind: str, reason: str, proposer: Any, analyst: Any, usage: Any, closers: tuple, recorder: Any
) -> Any:
    from syslab.agents.select import Agents

    agents = Agents(kind, reason, proposer, analyst, usage, closers)
    # The run calls this once its store exists (see module docstring).
    agents.attach = recorder.attach  # type: ignore[attr-defined]
    return agents


def _llm_pair(settings: LLMSettings, client: Any, resume_store: Any) -> tuple[LLMProposer, Any]:
    proposer = LLMProposer(client, settings)
    if resume_store is not None:
        state = resume_store.get_state(PROPOSER_STATE_KEY)
        if state:
            proposer.load_state(state)
    return proposer, LLMAnalyst(client, settings)


def build_llm_agents(config: Any, task: Any, resume_store: Any = None) -> Any:
    """Agents for config.proposer in auto|llm|local|replay (mutate is handled by the caller)."""
    settings: LLMSettings = config.llm_settings()
    recorder = LateStoreRecorder(resume_store)
    if config.replay is not None or config.proposer == "replay":
        return _replay_agents(config, recorder)
    kind, reason = select_proposer(config.proposer, settings)
    if kind == "mutate":
        from syslab.agents.offline import OfflineProposer

        return _agents(kind, reason, OfflineProposer(), HeuristicAnalyst(), None, (), recorder)
    closers: tuple = ()
    if kind == "local":
        from syslab.agents.local_model import LocalModelServer, local_settings

        out = Path(config.out)
        out.mkdir(parents=True, exist_ok=True)
        server = LocalModelServer(log_path=out / "local-model-server.log")
        settings = local_settings(settings, server.start())
        closers = (server.stop,)
    elif not settings.endpoint_configured():
        raise SyslabError(
            "--proposer llm: no endpoint configured; set OPENAI_BASE_URL and/or "
            f"{settings.api_key_env}, or llm.base_url in the run config"
        )
    client = LLMClient(settings, recorder)
    proposer, analyst = _llm_pair(settings, client, resume_store)
    if kind == "local":
        proposer.name = "local"
        # A 135M model's JSON notes are noise and cost minutes of CPU each: the record-derived notes serve better.
        analyst = HeuristicAnalyst()
    return _agents(kind, reason, proposer, analyst, client.usage_by_model, closers, recorder)


def _replay_agents(config: Any, recorder: LateStoreRecorder) -> Any:
    from syslab.agents.replay import ReplayClient
    from syslab.artifacts.store import RunStore
    from syslab.config import RunConfig

    if config.replay is None:
        raise SyslabError("--proposer replay needs --replay RUN (the run whose LLM exchanges are replayed)")
    src_dir = Path(config.replay)
    if not (src_dir / "manifest.json").is_file():
        raise SyslabError(f"{src_dir}: not a run directory (no manifest.json) to replay")
    src = RunStore.open(src_dir, readonly=True)
    try:
        man = src.manifest
        # The prompts depend on the recorded run's LLM settings, so use them, not today's.
        src_config = RunConfig.model_validate(man.config)
        settings = src_config.llm_settings()
        reason = f"replay of {src_dir} (recorded with proposer {man.proposer})"
        if man.proposer == "mutate":
            from syslab.agents.offline import OfflineProposer

            return _agents("replay", reason, OfflineProposer(), HeuristicAnalyst(), None, (), recorder)
        if man.proposer == "local":
            from syslab.agents.local_model import local_settings

            settings = local_settings(settings, "http://127.0.0.1:0/v1")  # same prompt limits, no server
        client = ReplayClient.from_store(src, recorder)
    finally:
        src.close()
    proposer, analyst = _llm_pair(settings, client, None)
    return _agents("replay", reason, proposer, analyst, client.usage_by_model, (), recorder)
