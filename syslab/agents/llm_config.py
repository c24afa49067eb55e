"""LLM settings (the `[llm]` section of a run config) and which proposer a run uses.

Endpoint and key come from the settings, else from the environment
(`OPENAI_BASE_URL`, and the variable named by `api_key_env`, default
`OPENAI_API_KEY`). The key itself is never stored in the settings, so a
run manifest that dumps the config carries no secret.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProposerMode = Literal["auto", "llm", "local", "mutate"]
ProposerKind = Literal["llm", "local", "mutate"]


class ModelSpec(BaseModel):
    """One model of the ensemble; prices in USD per million tokens (0 = free/unknown)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)  # the model name the endpoint knows
    weight: float = Field(1.0, gt=0)  # share of proposals (the ensemble samples by weight)
    price_in_per_mtok: float = Field(0.0, ge=0)  # USD per million prompt tokens
    price_out_per_mtok: float = Field(0.0, ge=0)  # USD per million completion tokens

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in_per_mtok + completion_tokens * self.price_out_per_mtok) / 1e6


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None  # None: $OPENAI_BASE_URL, else the SDK default
    api_key_env: str = "OPENAI_API_KEY"  # name of the variable holding the key
    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec(name="gpt-4o-mini")], min_length=1)
    analyst_model: str | None = None  # default: the first model
    timeout_s: float = Field(120.0, gt=0)  # per HTTP attempt
    max_retries: int = Field(4, ge=0)  # retries after the first attempt
    backoff_s: float = Field(1.0, ge=0)  # first retry delay; doubles each retry, with jitter
    backoff_max_s: float = Field(30.0, ge=0)  # cap on one retry's wait
    retry_after_max_s: float = Field(120.0, ge=0)  # cap on a server's Retry-After
    concurrency: int = Field(4, ge=1)  # calls in flight at once
    temperature: float = Field(0.7, ge=0, le=2)  # sampling temperature of proposals
    max_tokens: int = Field(4096, ge=16)  # completion limit per request
    # SEARCH/REPLACE edits, whole rewrites, or chosen by the size of the evolvable block
    diff_mode: Literal["diff", "rewrite", "auto"] = "auto"
    ucb_c: float = Field(1.0, ge=0)  # exploration strength of the model bandit
    max_code_chars: int = Field(12000, ge=500)  # per program shown in a prompt
    max_inspirations: int = Field(3, ge=0)  # other programs shown in a prompt

    @model_validator(mode="after")
    def _unique_models(self) -> LLMSettings:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique: {names}")
        if self.analyst_model is not None and self.analyst_model not in names:
            raise ValueError(f"analyst_model {self.analyst_model!r} is not one of the models {names}")
        return self

    def model_spec(self, name: str) -> ModelSpec | None:
        return next((m for m in self.models if m.name == name), None)

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def resolved_api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def endpoint_configured(self) -> bool:
        """True when the user pointed syslab at an endpoint (a URL or a key)."""
        return bool(self.resolved_base_url() or self.resolved_api_key())


def select_proposer(mode: str, settings: LLMSettings) -> tuple[ProposerKind, str]:
    """Which proposer a run uses, and why (the reason goes into the run manifest).

    auto: a configured endpoint, else the bundled local model if installed,
    else the offline mutator. Explicit modes are honoured as asked; the
    caller reports a clear error if that mode cannot run.
    """
    from syslab.agents.local_model import local_model_available

    if mode == "llm":
        where = settings.resolved_base_url() or "the SDK default endpoint"
        return "llm", f"--proposer llm: OpenAI-compatible endpoint at {where}"
    if mode == "local":
        return "local", "--proposer local: bundled SmolLM2-135M-Instruct via llama-cpp-python"
    if mode == "mutate":
        return "mutate", "--proposer mutate: offline mutator (no LLM)"
    if mode != "auto":
        raise ValueError(f"unknown proposer mode {mode!r} (expected auto, llm, local or mutate)")
    if settings.resolved_base_url():
        return "llm", f"auto: endpoint configured at {settings.resolved_base_url()}"
    if settings.resolved_api_key():
        return "llm", f"auto: ${settings.api_key_env} is set (SDK default endpoint)"
    if local_model_available():
        return "local", "auto: no endpoint configured; bundled local model is installed"
    return "mutate", "auto: no endpoint configured and no local model installed; offline mutator"
