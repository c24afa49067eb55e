"""RunConfig: everything about how a run is carried out (not what the task is).

Loaded from TOML or YAML, overridden by `--set a.b=value` pairs and by
environment variables (SYSLAB_* and the OpenAI ones, see `from_env`).
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Literal, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syslab.errors import SpecError, model_at, spec_error_from_validation, strip_optional, unknown_key

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class BudgetConfig(BaseModel):
    """Stop conditions; None means 'use the task's default' (evaluations) or 'no limit'."""

    model_config = ConfigDict(extra="forbid")
    evaluations: int | None = Field(None, ge=1)  # evaluations, the seed's included (None: the task's)
    wall_time_s: float | None = Field(None, gt=0)  # seconds after which no new proposal is made
    cost_usd: float | None = Field(
        None, ge=0
    )  # LLM spend (USD, from the models' prices) that stops proposals
    tokens: int | None = Field(None, ge=0)  # LLM tokens (prompt + completion) that stop proposals
    max_attempts_factor: float = Field(3.0, ge=1.0)  # proposals (incl. failed) <= factor * evaluations


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["process", "docker"] = "process"  # where candidates run (see README: Sandbox)
    image: str | None = None  # docker backend: image for every task that names none


class ExecutorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["local", "ray"] = "local"  # local process pool, or a Ray cluster (docs/ray.md)
    workers: int = Field(1, ge=1)  # evaluations in parallel
    ray_address: str | None = None  # an existing cluster (ray://host:10001 or host:6379); None starts one


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Proposals kept in flight beyond the number of workers (async pipeline depth).
    prefetch: int = Field(1, ge=0)
    # Record results in proposal order: makes runs with the same seed reproducible
    # (and replayable) at a small throughput cost when evaluation times vary.
    ordered: bool = True
    checkpoint_every: int = Field(100, ge=1)  # evaluations between population checkpoints


def _search_default() -> Any:
    from syslab.search.settings import SearchSettings

    return SearchSettings()


def _llm_default() -> Any:
    from syslab.agents.llm_config import LLMSettings

    return LLMSettings()


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    seed: int = 0  # the run's random seed (same seed + same LLM answers = same run)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    # auto: llm when an endpoint is configured, else mutate (the offline proposer)
    proposer: Literal["auto", "llm", "local", "mutate", "replay"] = "auto"
    analyst_every: int = Field(10, ge=0)  # evaluations between analyst notes; 0 = never
    out: Path = Path("runs")  # the run directory is made inside it
    run_name: str | None = None  # the run directory's name (default: task-time-seed)
    progress: bool = True  # the live progress line
    replay: Path | None = None  # a finished run whose LLM exchanges are replayed
    search: dict[str, Any] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)

    def search_settings(self) -> Any:
        from syslab.search.settings import SearchSettings

        return SearchSettings.model_validate(self.search)

    def llm_settings(self) -> Any:
        from syslab.agents.llm_config import LLMSettings

        return LLMSettings.model_validate(self.llm)


def _parse_value(text: str) -> Any:
    """`--set` values: JSON/YAML scalars and lists (4, 0.5, true, [a, b]) else the string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str = "--set") -> dict[str, Any]:
    """Apply `a.b.c=value` overrides to a nested dict (returns a new dict)."""
    out = json.loads(json.dumps(data, default=str))
    for item in overrides:
        if "=" not in item:
            raise SpecError(source, item, "expected KEY=VALUE (e.g. search.islands=4)")
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise SpecError(source, item, "empty key")
        check_key(parts, source)
        cur = out
        for p in parts[:-1]:
            nxt = cur.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise SpecError(source, key, f"{p!r} is not a section")
            cur = nxt
        cur[parts[-1]] = _parse_value(value)
    return out


def load_config_data(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise SpecError(path, "(file)", "config file not found")
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as e:
        raise SpecError(path, "(syntax)", str(e).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise SpecError(path, "(root)", "expected a table/mapping at the top level")
    return data


def build_config(
    path: Path | None = None,
    overrides: list[str] | None = None,
    base: dict[str, Any] | None = None,
    **explicit: Any,
) -> RunConfig:
    """Config file (or `base`: a recorded run's config), then --set overrides, then explicit (CLI
    flag) values; validated."""
    data = load_config_data(path) if base is None else json.loads(json.dumps(base))
    data = apply_overrides(data, overrides or [])
    for key, value in explicit.items():
        if value is None:
            continue
        cur = data
        parts = key.split("__")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = value
    source = str(path) if path else "--set"
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as e:
        raise spec_error_from_validation(source, e, RunConfig) from None
    for section, check in (("search", cfg.search_settings), ("llm", cfg.llm_settings)):
        try:
            check()
        except ValidationError as e:
            err = spec_error_from_validation(source, e, _section_models()[section])
            raise SpecError(source, f"{section}.{err.field}", err.message) from None
    return cfg


def _section_models() -> dict[str, type[BaseModel]]:
    """The models of the free-form `search` and `llm` sections (validated after the rest)."""
    from syslab.agents.llm_config import LLMSettings
    from syslab.search.settings import SearchSettings

    return {"search": SearchSettings, "llm": LLMSettings}


def check_key(parts: list[str], source: str = "--set") -> None:
    """Refuse an override key that names no setting (it would otherwise be dropped or ignored):
    the error lists the valid keys of the section it points into."""
    model: Any = RunConfig
    for i, part in enumerate(parts):
        if part not in model.model_fields:
            raise SpecError(source, ".".join(parts), unknown_key(part, list(model.model_fields)))
        if i == 0 and part in ("search", "llm"):
            model = _section_models()[part]
            continue
        annotation = strip_optional(model.model_fields[part].annotation)
        if get_origin(annotation) is dict or annotation is Any:
            return  # a free-form mapping: its keys are the user's
        model = model_at(model, [part])
        if model is None and i + 1 < len(parts):
            close = difflib.get_close_matches(parts[-1], list(RunConfig.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where = ".".join(parts[: i + 1])
            raise SpecError(source, ".".join(parts), f"{where!r} is a value, not a section{hint}")


def env_overrides() -> list[str]:
    """SYSLAB_SET='a.b=1;c=2' lets CI and wrappers tweak a run without a file."""
    raw = os.environ.get("SYSLAB_SET", "")
    return [s for s in raw.split(";") if s.strip()]
