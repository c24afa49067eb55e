"""Fixtures for the LLM agent tests: a scripted OpenAI-protocol server and settings pointing at it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted_server import ScriptedServer  # noqa: E402

from syslab.agents.llm_config import LLMSettings, ModelSpec  # noqa: E402


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def make_settings(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LLMSettings]:
    # Keep a developer's real endpoint/key out of the tests.
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def make(**kw: object) -> LLMSettings:
        base: dict[str, object] = {
            "base_url": server.base_url,
            "models": [ModelSpec(name="model-a", price_in_per_mtok=1.0, price_out_per_mtok=4.0)],
            "timeout_s": 5.0,
            "max_retries": 2,
            "backoff_s": 0.01,
            "backoff_max_s": 0.05,
        }
        base.update(kw)
        return LLMSettings.model_validate(base)

    return make
